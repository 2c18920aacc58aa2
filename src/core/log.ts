/**
 * Logging with the original lava's formats (platform.md §4.10).
 *
 * Levels are Python's: debug, info, warning, error, critical. One logger writes to one target:
 * - stderr (default): `<tag>: <thread>: <message>`, coloured by level on a terminal unless disabled;
 * - a file (`--log path`): `<asctime>: <LEVEL>: <thread>: <message>`;
 * - syslog (`--log @local0`): `<tag>[<pid>]: <LEVEL>: <thread>: <message>` to /dev/log, else UDP 127.0.0.1:514.
 * With `json`, each line is one JSON object instead (prefixed `<tag>: ` on syslog).
 *
 * JavaScript has no threads; `thread` is a field callers set (`worker-00`, `event`, `heartbeat`) and
 * defaults to `MainThread` as in the original, so log analysis keyed on it keeps working.
 * Formatting is ours because the formats are fixed. Records go straight to the sink: consola, which used
 * to dispatch them to our one reporter, cost more per line than the rest of the path together in a
 * short-lived process (lava-dispatcher logging 1,000 lines: docs/BENCHMARKS.md).
 */
import { hostname } from "node:os";
import { programName } from "./program.ts";
import { formatLine, jsonLine, LEVEL_NUMBERS, type JsonStyle, type LevelName, type LogRecord } from "./log/format.ts";
import { openSink, type Sink } from "./log/sinks.ts";
import { redact } from "./log/redact.ts";
import { scrubDeep, scrubSecrets } from "./secrets.ts";

export { redact, redactedValue, isSecretName, REDACTED } from "./log/redact.ts";
export type { LevelName, LogRecord, JsonStyle } from "./log/format.ts";
export { pyJson } from "./log/format.ts";

export interface LogFields {
  event_type?: string;
  job_id?: string;
  run_id?: string;
  realm?: string;
  worker?: string;
  thread?: string;
  [k: string]: unknown;
}

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warning(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  critical(msg: string, fields?: LogFields): void;
  /** A logger adding `fields` to every record (e.g. `{ thread: "worker-01" }`). */
  child(fields: LogFields): Logger;
  /**
   * Runs `fn` (synchronous) with the lines it logs to stderr or a file written together, in one write,
   * when it returns or throws: for a loop that logs many lines and does nothing else (lava-dispatcher's
   * outcomes). Anything else `fn` writes to stderr would overtake those lines, so it must not.
   */
  together<T>(fn: () => T): T;
}

export interface LoggerOptions {
  /** Level name (any case; Python aliases WARN/FATAL accepted). Default `$LAVA_LOGLEVEL` or info. */
  level?: string;
  /** undefined or "-" = stderr; "@facility" = syslog; anything else = file path (appended). */
  target?: string;
  /** One JSON object per line. */
  json?: boolean;
  /** Key layout of JSON lines: the worker's (default) or the dispatcher's (no thread, local timestamp). */
  jsonStyle?: JsonStyle;
  /** Log prefix, syslog tag and JSON `tag`. Default: the program name. */
  tag?: string;
  /** Program name, JSON `event_source`. Default: basename of argv[1] / `lava`. */
  eventSource?: string;
  /** Colour stderr lines by level (only when stderr is a terminal and NO_COLOR is unset). Default true. */
  colour?: boolean;
  /** Constants put on every JSON record (omitted when empty). `host` defaults to the hostname. */
  realm?: string;
  worker?: string;
  host?: string;
  /** Fields on every record; `thread` defaults to MainThread. */
  fields?: LogFields;
  /** Tests: where stderr-format lines go instead of process.stderr. */
  write?: (line: string) => void;
  /** Tests: syslog socket path instead of /dev/log. */
  syslogSocket?: string;
}

/** The numeric threshold of a level name; throws on an unknown name (usage error upstream). */
export function parseLevel(name: string): number {
  const n = LEVEL_NUMBERS[name.trim().toUpperCase()];
  if (n === undefined) throw new Error(`unknown log level "${name}" (use debug, info, warning, error or critical)`);
  return n;
}

const LEVELS: readonly LevelName[] = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"];

type Emit = (rec: LogRecord) => void;
type Together = <T>(fn: () => T) => T;
const runNow: Together = (fn) => fn();

/**
 * The size bound of one record (docs/WORKER.md, "Log records are bounded"): its message keeps at most
 * LOG_RECORD_MAX_CHARS characters and its fields together at most as many characters of text (strings
 * and keys), nested at most LOG_FIELD_MAX_DEPTH deep. What is cut is replaced by a marker saying how much.
 */
export const LOG_RECORD_MAX_CHARS = 256 * 1024;
const LOG_FIELD_MAX_DEPTH = 16;

/** The marker that ends cut text: `... [cut 99,743,210 characters]`. */
export function cutMarker(cut: number): string {
  return `... [cut ${cut.toLocaleString("en-US")} characters]`;
}

/** `text` with at most `max` characters kept and a marker for the rest. */
export function capText(text: string, max = LOG_RECORD_MAX_CHARS): string {
  return text.length <= max ? text : text.slice(0, max) + cutMarker(text.length - max);
}

/** Fields with their text bounded: one budget for all strings and keys, a depth limit for nesting. */
function boundFields(fields: LogFields): LogFields {
  let room = LOG_RECORD_MAX_CHARS;
  const path = new Set<object>();
  const bound = (value: unknown, depth: number): unknown => {
    if (typeof value === "string") {
      const kept = capText(value, room);
      room = Math.max(0, room - value.length);
      return kept;
    }
    if (value === null || typeof value !== "object") return value;
    if (value instanceof Date || value instanceof Uint8Array || value instanceof Error) return value;
    if (path.has(value)) return "[circular reference]";
    if (depth >= LOG_FIELD_MAX_DEPTH) return `[cut: nested deeper than ${LOG_FIELD_MAX_DEPTH}]`;
    path.add(value);
    try {
      return boundContainer(value, depth);
    } finally {
      path.delete(value);
    }
  };
  const boundContainer = (value: object, depth: number): unknown => {
    if (Array.isArray(value)) {
      const out: unknown[] = [];
      for (let i = 0; i < value.length; i++) {
        if (room === 0) {
          out.push(`[cut ${value.length - i} more entries]`);
          break;
        }
        room = Math.max(0, room - 1);
        out.push(bound(value[i], depth + 1));
      }
      return out;
    }
    const entries = Object.entries(value as Record<string, unknown>);
    const out: Record<string, unknown> = {};
    for (let i = 0; i < entries.length; i++) {
      const [k, v] = entries[i]!;
      if (room === 0) {
        out["..."] = `[cut ${entries.length - i} more entries]`;
        break;
      }
      room = Math.max(0, room - k.length);
      out[k] = bound(v, depth + 1);
    }
    return out;
  };
  return bound(fields, 0) as LogFields;
}

/**
 * `onlyThread`: the target shows no field but `thread` (the line formats), so only that one is prepared;
 * what it gets is what the full preparation gives it (`thread` is the first key of every record, below).
 */
function makeLogger(emit: Emit, threshold: number, base: LogFields, together: Together = runNow, onlyThread = false): Logger {
  const log = (level: LevelName, msg: string, fields?: LogFields): void => {
    if (LEVEL_NUMBERS[level]! < threshold) return;
    const message = capText(scrubSecrets(msg));
    if (onlyThread) {
      const t = fields && Object.hasOwn(fields, "thread") ? fields.thread : base.thread;
      emit({ time: preciseNow(), level, message, fields: typeof t === "string" ? { thread: capText(scrubSecrets(t), LOG_RECORD_MAX_CHARS - "thread".length) } : {} });
      return;
    }
    const merged: LogFields = fields ? { ...base, ...fields } : { ...base };
    // Secrets by name first (a `password` field), then by value (a known secret pasted into a sentence);
    // then the record is bounded.
    emit({ time: preciseNow(), level, message, fields: boundFields(scrubDeep(redact(merged)) as LogFields) });
  };
  return {
    debug: (m, f) => log("DEBUG", m, f),
    info: (m, f) => log("INFO", m, f),
    warning: (m, f) => log("WARNING", m, f),
    error: (m, f) => log("ERROR", m, f),
    critical: (m, f) => log("CRITICAL", m, f),
    child: (fields) => makeLogger(emit, threshold, { ...base, ...fields }, together, onlyThread),
    together,
  };
}

/** Epoch milliseconds with a sub-millisecond fraction, so JSON timestamps can show microseconds. */
function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/** The invoked program name (`lava-worker`, ...), as recorded by src/main.ts. */
export function defaultProgramName(): string {
  return programName();
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const threshold = parseLevel(opts.level ?? process.env.LAVA_LOGLEVEL ?? "info");
  const eventSource = opts.eventSource ?? defaultProgramName();
  const tag = opts.tag ?? eventSource;
  const sink: Sink = openSink({
    target: opts.target,
    tag,
    colour: opts.colour ?? true,
    write: opts.write,
    syslogSocket: opts.syslogSocket,
  });
  const constants = {
    event_source: eventSource,
    realm: opts.realm,
    worker: opts.worker,
    host: opts.host ?? hostname(),
    tag,
  };
  const style = opts.jsonStyle ?? "worker";
  const emit: Emit = (rec) => {
    const text = opts.json ? (sink.isSyslog ? `${tag}: ` : "") + jsonLine(rec, constants, style) : formatLine(rec, sink.format, tag);
    sink.write(rec.level, text);
  };
  return makeLogger(emit, threshold, { thread: "MainThread", ...opts.fields }, (fn) => sink.together(fn), !opts.json);
}

/** Drops everything. */
export function silentLogger(): Logger {
  const noop = (): void => {};
  const logger: Logger = { debug: noop, info: noop, warning: noop, error: noop, critical: noop, child: () => logger, together: runNow };
  return logger;
}

/** Keeps every record (all levels) in `records`, for tests. Children share the same array. */
export function memoryLogger(): Logger & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  const logger = makeLogger((rec) => records.push(rec), 0, { thread: "MainThread" });
  return Object.assign(logger, { records });
}

export { LEVELS };
