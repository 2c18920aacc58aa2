/**
 * PostgreSQL text-format values as the original's driver (pg8000 1.31) returns them, printed with Python's
 * `str()`: the `python` form of SqlSession.cursor (src/ports/sql.ts), used for sql/sqli output.
 *
 * Hand-written from the text the server sends, not from the JS driver's parsed values, because those lose
 * what Python keeps: microseconds and the offset of a timestamptz, the exact digits of a numeric, a float
 * written `1.0`. pg8000's conversions: bool → True/False; int2/4/8, oid → int; float4/8 → float (Python
 * repr); numeric → Decimal (its str, `1E-7` below 1e-6); date/time/timestamp/timestamptz → datetime types
 * (six-digit fractions, `+HH:MM` offsets in the session time zone); bytea → bytes (`b'...'`); json/jsonb →
 * parsed and printed as a Python dict/list; uuid → UUID. Every other type (text, uuid, intervals, arrays, ...) is kept
 * as the server's text; for intervals and arrays pg8000 builds Python objects that print differently
 * (docs/WORKER.md lists this).
 */
import { bytesRepr } from "../core/pyformat.ts";
import { parseJson, pyDecimal, pyStr } from "../jinja/index.ts";
import { floatRepr } from "../jinja/values.ts";

type Convert = (text: string) => string;

const asIs: Convert = (t) => t;

/** `.f` fractions padded to Python's six digits. */
function micro(t: string): string {
  const dot = t.indexOf(".");
  if (dot < 0) return t;
  let end = dot + 1;
  while (end < t.length && t.charCodeAt(end) >= 48 && t.charCodeAt(end) <= 57) end++;
  const frac = t.slice(dot + 1, end);
  return t.slice(0, dot + 1) + (frac + "000000").slice(0, 6) + t.slice(end);
}

/** `...+10` / `...+05:30` → Python's `+10:00` / `+05:30`. */
function timestamptz(t: string): string {
  if (t === "infinity" || t === "-infinity") return t;
  const m = /([+-]\d\d)(?::?(\d\d))?(?::?(\d\d))?$/.exec(t);
  if (!m) return micro(t);
  const zone = `${m[1]}:${m[2] ?? "00"}${m[3] && m[3] !== "00" ? `:${m[3]}` : ""}`;
  return micro(t.slice(0, m.index)) + zone;
}

/** A numeric's text as Python's `str(Decimal(text))` (shared with mysql-python.ts). */
export function decimalText(t: string): string {
  if (t === "NaN" || t === "Infinity" || t === "-Infinity") return t;
  // Plain digits print as they came unless below 1e-6, where Decimal's str switches to an exponent.
  if (!/^-?0\.0{5}/.test(t)) return t;
  return pyStr(pyDecimal(t));
}

function float(t: string): string {
  if (t === "NaN") return "nan";
  if (t === "Infinity") return "inf";
  if (t === "-Infinity") return "-inf";
  return floatRepr(Number(t));
}

function bytea(t: string): string {
  if (t.startsWith("\\x")) return bytesRepr(Buffer.from(t.slice(2), "hex"));
  return t; // the pre-9.0 escape format: servers send hex unless bytea_output is changed
}

function json(t: string): string {
  return pyStr(parseJson(t));
}

const BOOL: Convert = (t) => (t === "t" ? "True" : "False");

/** Converter and numeric-ness by type OID. */
const TYPES: Record<number, [Convert, boolean]> = {
  16: [BOOL, true],
  20: [asIs, true],
  21: [asIs, true],
  23: [asIs, true],
  26: [asIs, true],
  700: [float, true],
  701: [float, true],
  1700: [decimalText, true],
  1083: [micro, false],
  1114: [micro, false],
  1184: [timestamptz, false],
  17: [bytea, false],
  114: [json, false],
  3802: [json, false],
  // A UUID has __int__, so Python's csv counts it a number (QUOTE_NONNUMERIC leaves it unquoted).
  2950: [asIs, true],
};

export interface PgColumn {
  name: string;
  type: number;
}

/** Per-column converters of a result's columns. */
export function pythonColumns(columns: readonly PgColumn[]): { convert: Convert[]; numeric: boolean[] } {
  const convert: Convert[] = [];
  const numeric: boolean[] = [];
  for (const c of columns) {
    const [fn, num] = TYPES[c.type] ?? [asIs, false];
    convert.push(fn);
    numeric.push(num);
  }
  return { convert, numeric };
}

/** One raw row (text-format Buffers, null for NULL) as Python's str() of each value. */
export function pythonRow(raw: readonly (Uint8Array | null)[], convert: readonly Convert[]): (string | null)[] {
  const out: (string | null)[] = new Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i];
    out[i] = b === null || b === undefined ? null : convert[i]!((b as Buffer).toString("utf8"));
  }
  return out;
}
