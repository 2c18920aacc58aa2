/**
 * Text formats shared with the Python lava fleet: JSON as Python's `json.dumps` writes it and times as
 * Python's `isoformat()` writes them. A Python worker parses our dispatch messages, a Python `lava-events`
 * reads our event items and Python jobs read our state items, so these must match the original byte for byte.
 *
 * The template engine has its own `dumps` (src/jinja/json.ts) over template values (dicts, PyFloat,
 * Markup); this one takes plain data and Dates, and stays free of the engine so the dispatcher, which
 * renders nothing, starts without loading it.
 */
import { localFields } from "./local-time.ts";

/**
 * ISO 8601 in the host's local zone with its offset, as Python's aware `isoformat()`: microseconds only
 * when non-zero (`2026-11-27T17:42:06+00:00`, `2026-11-27T17:42:06.250000+00:00`). Dispatch and event
 * times are truncated to whole seconds first, as the original drops their microseconds.
 */
export function isoLocal(date: Date): string {
  const local = localFields(date);
  const sign = local.offsetMin < 0 ? "-" : "+";
  const abs = Math.abs(local.offsetMin);
  const ms = date.getUTCMilliseconds();
  return (
    `${local.year.toString().padStart(4, "0")}-${pad2(local.month)}-${pad2(local.day)}` +
    `T${pad2(local.hour)}:${pad2(local.minute)}:${pad2(local.second)}` +
    (ms ? `.${ms.toString().padStart(3, "0")}000` : "") +
    `${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`
  );
}

/** ISO 8601 in UTC as Python's `astimezone(timezone.utc).isoformat()` writes it (`2026-11-27T07:42:06+00:00`). */
export function isoUtc(date: Date): string {
  const ms = date.getUTCMilliseconds();
  return `${date.toISOString().slice(0, 19)}${ms ? `.${ms.toString().padStart(3, "0")}000` : ""}+00:00`;
}

/** Naive UTC `YYYY-MM-DDTHH:MM:SS`: the events table's sort-key format (no zone, no fraction). */
export function naiveUtc(date: Date): string {
  return date.toISOString().slice(0, 19);
}

/** A number as Python prints a float (`600.0`, `0.5`), for messages the original formats that way. */
export function pythonFloat(value: number): string {
  return Number.isInteger(value) ? `${value}.0` : String(value);
}

/** Whole seconds of a Date, as the original drops microseconds from every event/dispatch time. */
export function truncateToSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

function pad2(n: number): string {
  return n.toString().padStart(2, "0");
}

/** A timestamp read from a message: the instant, and its text as Python's `isoformat()` would write it back. */
export interface ParsedTimestamp {
  date: Date;
  iso: string;
}

/**
 * Parses an ISO 8601 timestamp (what the dispatchers of both implementations write). The returned `iso`
 * keeps the sender's offset, as the original keeps the parsed aware datetime and writes it back into the
 * event. A value without an offset is read as local time and written back without one (naive).
 */
export function parseIsoTimestamp(text: string): ParsedTimestamp | undefined {
  const m =
    /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(
      text.trim(),
    );
  if (!m) return undefined;
  const [, y, mo, d, h = "00", mi = "00", s = "00", frac = "", zone] = m;
  const micros = Number((frac + "000000").slice(0, 6));
  const parts = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Math.floor(micros / 1000)] as const;
  if (parts[1] > 11 || parts[2] < 1 || parts[2] > 31 || parts[3] > 23 || parts[4] > 59 || parts[5] > 59) return undefined;
  const base = `${y}-${mo}-${d}T${h}:${mi}:${s}${micros ? "." + String(micros).padStart(6, "0") : ""}`;
  if (!zone) {
    const date = new Date(...parts);
    return Number.isNaN(date.getTime()) ? undefined : { date, iso: base };
  }
  let offsetMin = 0;
  if (zone !== "Z") {
    const zm = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
    offsetMin = (Number(zm[2]) * 60 + Number(zm[3] ?? 0)) * (zm[1] === "-" ? -1 : 1);
  }
  const date = new Date(Date.UTC(...parts) - offsetMin * 60_000);
  if (Number.isNaN(date.getTime())) return undefined;
  const abs = Math.abs(offsetMin);
  const offset = `${offsetMin < 0 ? "-" : "+"}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
  return { date, iso: base + offset };
}

/**
 * JSON text as Python's `json.dumps(value, indent=indent)` writes it: `", "` and `": "` separators (`","`
 * at line ends when indented), non-ASCII escaped as `\uXXXX`, floats in Python's repr. Dates and
 * template datetimes (anything with `isoformat()`) become ISO text, as lava's JSON default does;
 * undefined object entries are left out; bytes are refused as Python refuses them.
 */
export function pyJsonDumps(value: unknown, indent?: number): string {
  return dumpValue(value, indent, "");
}

function dumpValue(value: unknown, indent: number | undefined, pad: string): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") return pyNumber(value);
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "string") return pyString(value);
  if (value instanceof Date) return pyString(isoLocal(value));
  if (value instanceof Uint8Array) throw new TypeError("Object of type bytes is not JSON serializable");
  const isoformat = (value as { isoformat?: unknown }).isoformat;
  if (typeof isoformat === "function") return pyString(String(isoformat.call(value)));
  if (typeof value !== "object") return pyString(String(value));
  const inner = indent === undefined ? undefined : pad + " ".repeat(indent);
  const open = inner === undefined ? "" : `\n${inner}`;
  const sep = inner === undefined ? ", " : `,\n${inner}`;
  const close = inner === undefined ? "" : `\n${pad}`;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[${open}${value.map((v) => dumpValue(v, indent, inner ?? "")).join(sep)}${close}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return "{}";
  return `{${open}${entries.map(([k, v]) => `${pyString(k)}: ${dumpValue(v, indent, inner ?? "")}`).join(sep)}${close}}`;
}

/**
 * `pyJsonDumps(value, indent)` written only up to `maxChars`: the text is the first `maxChars` characters
 * of the full output and `cut` how many characters were left off. The work is bounded by the size of the
 * value, not of the output: past the budget nothing is built, lengths are only counted (indentation of a
 * deeply nested value grows with the square of its depth, so a 30 KB message can otherwise make 100 MB).
 */
export function pyJsonDumpsBounded(
  value: unknown,
  indent: number | undefined,
  maxChars: number,
  opts: { sortKeys?: boolean; hide?: (key: string, value: unknown) => string | undefined } = {},
): { text: string; cut: number } {
  const sortKeys = opts.sortKeys ?? false;
  const nested = new BoundedText(maxChars);
  try {
    dumpNested(value, indent, nested, sortKeys, opts.hide);
    return { text: nested.parts.join(""), cut: nested.cut };
  } catch (err) {
    if (err !== TOO_DEEP_TO_RECURSE) throw err;
  }
  const out = new BoundedText(maxChars);
  dumpBounded(value, indent, out, sortKeys, opts.hide);
  return { text: out.parts.join(""), cut: out.cut };
}

/** Thrown by dumpNested past RECURSION_LIMIT levels: the value is written again by dumpBounded. */
const TOO_DEEP_TO_RECURSE = new Error("too deep to recurse");
const RECURSION_LIMIT = 200;

/**
 * dumpBounded's output, by recursion: the same calls on `out` in the same order, without a step object
 * per key, value and separator. The `log` job writes its whole job this way, and dumpBounded's walk was a
 * tenth of a worker's CPU per `log` job (docs/BENCHMARKS.md). Values nested deeper than RECURSION_LIMIT
 * (or cyclic) make it give up; the caller starts again with dumpBounded, at most twice the work.
 */
function dumpNested(
  root: unknown,
  indent: number | undefined,
  out: BoundedText,
  sortKeys: boolean,
  hide?: (key: string, value: unknown) => string | undefined,
): void {
  const write = (value: unknown, width: number, depth: number): void => {
    if (writeLeaf(out, value, indent)) return;
    if (depth >= RECURSION_LIMIT) throw TOO_DEEP_TO_RECURSE;
    const inner = width + (indent ?? 0);
    const { entries, open, close } = containerOf(value as object, sortKeys);
    if (entries.length === 0) return out.put(open + close);
    out.put(open);
    // dumpBounded decides every entry's shown value before writing the first: hide is pure, so no difference.
    for (let i = 0; i < entries.length; i++) {
      const [k, v] = entries[i]!;
      if (i > 0) out.put(indent === undefined ? ", " : ",");
      if (indent !== undefined) out.newline(inner);
      if (k !== undefined) {
        if (out.full) out.skipString(k);
        else out.put(pyString(k));
        out.put(": ");
      }
      write(k !== undefined && hide ? (hide(k, v) ?? v) : v, inner, depth + 1);
    }
    if (indent !== undefined) out.newline(width);
    out.put(close);
  };
  write(root, 0, 0);
}

/**
 * Writes `value` whole when it is not a container to walk (a scalar, a date, a datetime) and says so; a
 * string past the budget is only counted. Bytes are refused, as Python's json refuses them.
 */
function writeLeaf(out: BoundedText, value: unknown, indent: number | undefined): boolean {
  if (value === null || value === undefined || typeof value !== "object" || value instanceof Date) {
    if (out.full && typeof value === "string") out.skipString(value);
    else out.put(dumpValue(value, indent, ""));
    return true;
  }
  if (value instanceof Uint8Array) throw new TypeError("Object of type bytes is not JSON serializable");
  if (typeof (value as { isoformat?: unknown }).isoformat !== "function") return false;
  out.put(dumpValue(value, indent, ""));
  return true;
}

/** A list's or mapping's entries in writing order (keys sorted with `sortKeys`) and its brackets. */
function containerOf(value: object, sortKeys: boolean): { entries: [string | undefined, unknown][]; open: string; close: string } {
  const isArray = Array.isArray(value);
  let entries: [string | undefined, unknown][] = isArray
    ? (value as unknown[]).map((v) => [undefined, v])
    : Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  if (sortKeys && !isArray && Object.getPrototypeOf(value) === Object.prototype) {
    entries = entries.sort(([a], [b]) => (a! < b! ? -1 : a! > b! ? 1 : 0));
  }
  return isArray ? { entries, open: "[", close: "]" } : { entries, open: "{", close: "}" };
}

/** A newline and N spaces, for the widths of the first 16 levels of 4-space indentation. */
const NEWLINES = Array.from({ length: 65 }, (_, n) => `\n${" ".repeat(n)}`);

class BoundedText {
  readonly parts: string[] = [];
  private room: number;
  cut = 0;

  constructor(maxChars: number) {
    this.room = Math.max(0, maxChars);
  }

  put(text: string): void {
    if (text.length <= this.room) {
      this.parts.push(text);
      this.room -= text.length;
      return;
    }
    if (this.room > 0) this.parts.push(text.slice(0, this.room));
    this.cut += text.length - this.room;
    this.room = 0;
  }

  /** A newline and `width` spaces, built only as far as the budget reaches. */
  newline(width: number): void {
    const length = 1 + width;
    if (length <= this.room) {
      this.parts.push(NEWLINES[width] ?? `\n${" ".repeat(width)}`);
      this.room -= length;
      return;
    }
    if (this.room > 0) this.parts.push(`\n${" ".repeat(this.room - 1)}`);
    this.cut += length - this.room;
    this.room = 0;
  }

  get full(): boolean {
    return this.room === 0;
  }

  /** Counts a string that would be written, without building it. */
  skipString(text: string): void {
    this.cut += pyStringLength(text);
  }
}

type Step = { value: unknown; width: number } | { text: string } | { key: string } | { newline: number };

/**
 * Walks with its own stack instead of recursion: a message may nest tens of thousands of levels deep,
 * more than the call stack holds. With `sortKeys`, plain objects' keys are written sorted (Python's
 * `sort_keys=True`). `hide` may give a replacement for a mapping entry's value (a secret), at any depth.
 */
function dumpBounded(
  root: unknown,
  indent: number | undefined,
  out: BoundedText,
  sortKeys: boolean,
  hide?: (key: string, value: unknown) => string | undefined,
): void {
  const steps: Step[] = [{ value: root, width: 0 }];
  for (let step = steps.pop(); step !== undefined; step = steps.pop()) {
    if ("text" in step) out.put(step.text);
    else if ("newline" in step) out.newline(step.newline);
    else if ("key" in step) {
      if (out.full) out.skipString(step.key);
      else out.put(pyString(step.key));
      out.put(": ");
    } else writeValue(step.value, step.width);
  }

  function writeValue(value: unknown, width: number): void {
    if (writeLeaf(out, value, indent)) return;
    const inner = width + (indent ?? 0);
    const { entries, open, close } = containerOf(value as object, sortKeys);
    if (entries.length === 0) return out.put(open + close);
    out.put(open);
    // Pushed in reverse: the stack gives them back in writing order.
    steps.push({ text: close });
    if (indent !== undefined) steps.push({ newline: width });
    for (let i = entries.length - 1; i >= 0; i--) {
      const [k, v] = entries[i]!;
      const shown = k !== undefined && hide ? (hide(k, v) ?? v) : v;
      steps.push({ value: shown, width: inner });
      if (k !== undefined) steps.push({ key: k });
      if (indent !== undefined) steps.push({ newline: inner });
      if (i > 0) steps.push({ text: indent === undefined ? ", " : "," });
    }
  }
}

/** Length of pyString(text) without building it. */
function pyStringLength(text: string): number {
  let n = 2;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 || c === 0x5c || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x08 || c === 0x0c) n += 2;
    else if (c < 0x20 || c > 0x7e) n += 6;
    else n += 1;
  }
  return n;
}

/**
 * Python's `json.dumps` string (ensure_ascii). JSON.stringify escapes the same characters below 0x20, `"`
 * and `\\` the same way (lowercase hex) and lone surrogates as `\\udxxx`; what is left for Python's rule
 * is every code unit from 0x7f up, as `\\uxxxx`. Measured on dispatch-message strings (200k calls, Bun
 * 1.4.5): 1.6x faster than a loop over code units cold, 1.9x warm; the loop was a tenth of a 1,000-job
 * dispatch's CPU profile.
 */
function pyString(text: string): string {
  const json = JSON.stringify(text);
  return NOT_ASCII_PRINTABLE.test(json) ? json.replace(NOT_ASCII_PRINTABLE_ALL, escapeUnit) : json;
}

/** A string as Python's `json.dumps` writes it (pyString above). */
export { pyString as pyJsonString };

const NOT_ASCII_PRINTABLE = /[\u007f-\uffff]/;
const NOT_ASCII_PRINTABLE_ALL = /[\u007f-\uffff]/g;

function escapeUnit(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

function pyNumber(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (!Number.isFinite(n)) return n > 0 ? "Infinity" : "-Infinity";
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return n.toString();
  // Python repr switches to exponent form below 1e-4 and from 1e16, and always writes a mantissa dot or exponent.
  const abs = Math.abs(n);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e16)) {
    const [mant, exp] = n.toExponential().split("e") as [string, string];
    const e = Number(exp);
    return `${mant}e${e < 0 ? "-" : "+"}${Math.abs(e).toString().padStart(2, "0")}`;
  }
  return n.toString();
}

/** Python's `str(bytes)`: `b'...'` with `\xNN` escapes, double quotes when the bytes hold ' and no ". */
export function bytesRepr(b: Uint8Array): string {
  let hasSingle = false;
  let hasDouble = false;
  for (const x of b) {
    if (x === 0x27) hasSingle = true;
    else if (x === 0x22) hasDouble = true;
  }
  const quote = hasSingle && !hasDouble ? '"' : "'";
  let out = "b" + quote;
  for (const x of b) {
    if (x === 0x5c) out += "\\\\";
    else if (x === quote.charCodeAt(0)) out += "\\" + quote;
    else if (x === 0x09) out += "\\t";
    else if (x === 0x0a) out += "\\n";
    else if (x === 0x0d) out += "\\r";
    else if (x < 0x20 || x >= 0x7f) out += "\\x" + x.toString(16).padStart(2, "0");
    else out += String.fromCharCode(x);
  }
  return out + quote;
}
