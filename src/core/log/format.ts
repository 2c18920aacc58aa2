/** Line and JSON layouts of log records, matching the original's formatters key for key. */
import { localFields } from "../local-time.ts";

export type LevelName = "DEBUG" | "INFO" | "WARNING" | "ERROR" | "CRITICAL";
export type JsonStyle = "worker" | "dispatcher";
export type LineFormat = "stderr" | "file" | "syslog";

/** Python's numeric levels, with its aliases, so `--level warn` behaves as in the original. */
export const LEVEL_NUMBERS: Readonly<Record<string, number>> = {
  NOTSET: 0,
  DEBUG: 10,
  INFO: 20,
  WARN: 30,
  WARNING: 30,
  ERROR: 40,
  CRITICAL: 50,
  FATAL: 50,
};

export interface LogRecord {
  /** Epoch milliseconds, with a sub-millisecond fraction. */
  time: number;
  level: LevelName;
  message: string;
  /** Already redacted. Includes `thread`. */
  fields: Record<string, unknown>;
}

export interface JsonConstants {
  event_source?: string;
  realm?: string;
  worker?: string;
  host?: string;
  tag?: string;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, "0");

/** Local `YYYY-MM-DD HH:MM:SS` (Python's asctime without the milliseconds). */
export function localTime(ms: number): string {
  const d = localFields(new Date(Math.floor(ms)));
  return `${d.year}-${pad(d.month)}-${pad(d.day)} ${pad(d.hour)}:${pad(d.minute)}:${pad(d.second)}`;
}

/** Python's default asctime: local `YYYY-MM-DD HH:MM:SS,mmm`. */
export function ascTime(ms: number): string {
  return `${localTime(ms)},${pad(Math.floor(ms) % 1000, 3)}`;
}

/** UTC ISO 8601 with microseconds and `+00:00`, like Python's `datetime.now(timezone.utc).isoformat()`. */
export function utcIsoMicro(ms: number): string {
  const whole = Math.floor(ms);
  const iso = new Date(whole).toISOString().slice(0, 19);
  const micros = Math.floor(ms * 1000) % 1_000_000;
  return `${iso}.${pad(micros, 6)}+00:00`;
}

function thread(rec: LogRecord): string {
  const t = rec.fields.thread;
  return typeof t === "string" && t ? t : "MainThread";
}

export function formatLine(rec: LogRecord, format: LineFormat, tag: string): string {
  switch (format) {
    case "stderr":
      return `${tag}: ${thread(rec)}: ${rec.message}`;
    case "file":
      return `${ascTime(rec.time)}: ${rec.level}: ${thread(rec)}: ${rec.message}`;
    case "syslog":
      return `${tag}[${process.pid}]: ${rec.level}: ${thread(rec)}: ${rec.message}`;
  }
}

/** Keys placed by the layout itself; everything else in `fields` is an extra, in insertion order. */
const PLACED = new Set(["thread", "realm", "worker", "host", "tag", "event_source"]);

const isEmpty = (v: unknown): boolean => v === undefined || v === null || v === "";

/**
 * One JSON log line. Key order follows the original: constants (event_source, realm, worker, host, tag),
 * then time, level, message, thread, pid, then the record's extras. Empty constants are left out.
 * A record that cannot be serialised keeps only what can be, plus `internal_error`.
 */
export function jsonLine(rec: LogRecord, constants: JsonConstants, style: JsonStyle): string {
  const f = rec.fields;
  const out: Record<string, unknown> = {};
  const put = (k: string, v: unknown): void => {
    if (!isEmpty(v)) out[k] = v;
  };
  put("event_source", constants.event_source);
  put("realm", isEmpty(f.realm) ? constants.realm : f.realm);
  put("worker", isEmpty(f.worker) ? constants.worker : f.worker);
  put("host", constants.host);
  put("tag", constants.tag);
  if (style === "worker") {
    out.localtime = localTime(rec.time);
    out.timestamp = utcIsoMicro(rec.time);
  } else {
    out.timestamp = localTime(rec.time);
  }
  out.level = rec.level;
  out.message = rec.message;
  if (style === "worker") out.thread = thread(rec);
  out.pid = process.pid;
  const extras: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(f)) {
    if (!PLACED.has(k) && v !== undefined) extras[k] = v;
  }
  try {
    return pyJson({ ...out, ...extras });
  } catch (e) {
    return pyJson({ ...out, internal_error: `cannot serialise log record: ${(e as Error).message}` });
  }
}

/**
 * JSON text as Python's `json.dumps` writes it by default: `", "` and `": "` separators and every
 * non-ASCII character escaped. Throws on cycles.
 */
export function pyJson(value: unknown, seen: Set<object> = new Set()): string {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "string":
      return pyString(value);
    case "number":
      return Number.isFinite(value) ? String(value) : Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return value.toString();
    case "object":
      break;
    default:
      return pyString(String(value));
  }
  if (value instanceof Date) return pyString(value.toISOString());
  if (value instanceof Error) return pyString(value.message);
  if (value instanceof Uint8Array) return pyString(`<${value.byteLength} bytes>`);
  if (seen.has(value)) throw new Error("circular reference");
  seen.add(value);
  try {
    if (Array.isArray(value)) return `[${value.map((v) => pyJson(v, seen)).join(", ")}]`;
    const parts: string[] = [];
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined || typeof v === "function") continue;
      parts.push(`${pyString(k)}: ${pyJson(v, seen)}`);
    }
    return `{${parts.join(", ")}}`;
  } finally {
    seen.delete(value);
  }
}

function pyString(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
