/**
 * Text formats shared with the Python lava fleet. A Python worker parses our dispatch messages and a
 * Python `lava-events` reads our event items, so these must match the original byte for byte.
 */

/** ISO 8601 in the host's local zone with its offset and no fraction: `2026-11-27T17:42:06+00:00` (Python `isoformat()` after dropping microseconds). */
export function isoLocal(date: Date): string {
  const offsetMin = -date.getTimezoneOffset();
  const sign = offsetMin < 0 ? "-" : "+";
  const abs = Math.abs(offsetMin);
  return (
    `${date.getFullYear().toString().padStart(4, "0")}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())}` +
    `T${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}` +
    `${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`
  );
}

/** Naive UTC `YYYY-MM-DDTHH:MM:SS`: the events table's sort-key format (no zone, no fraction). */
export function naiveUtc(date: Date): string {
  return date.toISOString().slice(0, 19);
}

/** Local `YYYY-MM-DD HH:MM:SS` (Python logging `asctime` without milliseconds). */
export function localAscTime(date: Date): string {
  return isoLocal(date).slice(0, 19).replace("T", " ");
}

/** UTC ISO with microseconds and `+00:00`, as Python's `datetime.now(timezone.utc).isoformat()`. */
export function isoUtcMicros(date: Date): string {
  return `${date.toISOString().slice(0, 23)}000+00:00`;
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
 * JSON text as Python's `json.dumps(value)` writes it: `", "` and `": "` separators, non-ASCII escaped
 * as `\uXXXX`, floats in Python's repr. The Python worker only parses our messages, but operators grep
 * and diff them, and the golden captures compare bodies verbatim.
 */
export function pyJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") return pyNumber(value);
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "string") return pyString(value);
  if (value instanceof Date) return pyString(isoLocal(value));
  if (Array.isArray(value)) return `[${value.map(pyJsonDumps).join(", ")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries.map(([k, v]) => `${pyString(k)}: ${pyJsonDumps(v)}`).join(", ")}}`;
  }
  return pyString(String(value));
}

function pyString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += "\\\\";
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0d) out += "\\r";
    else if (c === 0x09) out += "\\t";
    else if (c === 0x08) out += "\\b";
    else if (c === 0x0c) out += "\\f";
    else if (c < 0x20 || c > 0x7e) out += `\\u${c.toString(16).padStart(4, "0")}`;
    else out += text[i];
  }
  return out + '"';
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
