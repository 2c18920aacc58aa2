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
  // The common shape, `YYYY-MM-DD HH:MM:SS+HH` with no fraction, without the regex (measured: bench/sql.ts).
  if (t.length === 22 && (t.charCodeAt(19) === 43 || t.charCodeAt(19) === 45) && t.charCodeAt(10) === 32) return `${t}:00`;
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
  const n = Number(t);
  // Measured (bench/sql.ts): most floats lie where JS and Python print the same shortest digits plainly
  // (1e-4 <= |x| < 1e16); only an integral value needs Python's ".0". floatRepr does the rest.
  const a = Math.abs(n);
  if (a >= 1e-4 && a < 1e16) {
    const s = String(n);
    return s.includes(".") ? s : `${s}.0`;
  }
  return floatRepr(n);
}

function bytea(t: string): string {
  if (t.startsWith("\\x")) return bytesRepr(Buffer.from(t.slice(2), "hex"));
  return t; // the pre-9.0 escape format: servers send hex unless bytea_output is changed
}

function json(t: string): string {
  return pyStr(parseJson(t));
}

const BOOL: Convert = (t) => (t === "t" ? "True" : "False");

/**
 * Types whose text is ASCII are decoded as latin1 (the same text), measured about 25% faster per value
 * than UTF-8 decoding in Bun (bench/sql.ts converts ten million values).
 */
const latin1 = (b: Buffer): string => (b as unknown as { latin1Slice(): string }).latin1Slice();
const utf8 = (b: Buffer): string => b.toString("utf8");

/** Converter, numeric-ness and ASCII-ness by type OID. */
const TYPES: Record<number, [Convert, boolean, boolean?]> = {
  16: [BOOL, true, true],
  20: [asIs, true, true],
  21: [asIs, true, true],
  23: [asIs, true, true],
  26: [asIs, true, true],
  700: [float, true, true],
  701: [float, true, true],
  1700: [decimalText, true, true],
  1082: [asIs, false, true],
  1083: [micro, false, true],
  1114: [micro, false, true],
  1184: [timestamptz, false, true],
  17: [bytea, false, true],
  114: [json, false],
  3802: [json, false],
  // A UUID has __int__, so Python's csv counts it a number (QUOTE_NONNUMERIC leaves it unquoted).
  2950: [asIs, true, true],
};

export interface PgColumn {
  name: string;
  type: number;
}

type ConvertRaw = (raw: Buffer) => string;

/** Per-column converters (raw text-format value → Python's str()) of a result's columns. */
export function pythonColumns(columns: readonly PgColumn[]): { convert: ConvertRaw[]; numeric: boolean[] } {
  const convert: ConvertRaw[] = [];
  const numeric: boolean[] = [];
  for (const c of columns) {
    const [fn, num, ascii] = TYPES[c.type] ?? [asIs, false];
    const decode = ascii ? latin1 : utf8;
    convert.push(fn === asIs ? decode : (b) => fn(decode(b)));
    numeric.push(num);
  }
  return { convert, numeric };
}

/** One raw row (text-format Buffers, null for NULL) as Python's str() of each value. */
export function pythonRow(raw: readonly (Uint8Array | null)[], convert: readonly ConvertRaw[]): (string | null)[] {
  const out: (string | null)[] = new Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i];
    out[i] = b === null || b === undefined ? null : convert[i]!(b as Buffer);
  }
  return out;
}
