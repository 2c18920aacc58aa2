/**
 * MySQL/MariaDB text-protocol values as the original's driver (PyMySQL, default converters) returns them,
 * printed with Python's `str()`: the `python` form of SqlSession.cursor (src/ports/sql.ts) for mysql2.
 *
 * Hand-written from the raw bytes the server sends (mysql2 with `typeCast: false`), not from mysql2's
 * parsed values, because those lose what Python keeps: the digits of a DECIMAL and of a BIGINT beyond
 * 2^53, the microseconds of a DATETIME, a TIME as a duration. PyMySQL's rules (connections.py
 * `_get_descriptions`, converters.py `decoders`), followed here:
 * - TINY/SHORT/LONG/INT24/LONGLONG/YEAR → int; FLOAT/DOUBLE → float (Python repr); DECIMAL/NEWDECIMAL →
 *   Decimal (its str: `1.0E-7` below 1e-6);
 * - DATETIME/TIMESTAMP → datetime (`YYYY-MM-DD HH:MM:SS[.ffffff]`, the fraction only when not zero), DATE →
 *   date, TIME → timedelta (`1 day, 1:06:17`, `-1 day, 23:00:00`); a value Python cannot build (a zero
 *   date) is kept as the server's text, as PyMySQL's ValueError fallback does;
 * - the text types (CHAR, VARCHAR, TEXT/BLOB, BIT, GEOMETRY) with the binary character set (63) → bytes
 *   (`b'...'`), others → str in the connection's utf8mb4; JSON → str (MySQL marks it binary, PyMySQL
 *   decodes it anyway; MariaDB sends JSON as LONGTEXT);
 * - any other type → the server's text.
 */
import { bytesRepr } from "../core/pyformat.ts";
import { floatRepr } from "../jinja/values.ts";
import { decimalText } from "./pg-python.ts";

type Convert = (raw: Buffer) => string;

/** mysql2's column definition fields this module reads. */
export interface MysqlColumn {
  name: string;
  columnType?: number;
  characterSet?: number;
}

const BINARY_CHARSET = 63;

// MySQL protocol column types (include/field_types.h).
const T = {
  DECIMAL: 0,
  TINY: 1,
  SHORT: 2,
  LONG: 3,
  FLOAT: 4,
  DOUBLE: 5,
  TIMESTAMP: 7,
  LONGLONG: 8,
  INT24: 9,
  DATE: 10,
  TIME: 11,
  DATETIME: 12,
  YEAR: 13,
  VARCHAR: 15,
  BIT: 16,
  JSON: 245,
  NEWDECIMAL: 246,
  TINY_BLOB: 249,
  MEDIUM_BLOB: 250,
  LONG_BLOB: 251,
  BLOB: 252,
  VAR_STRING: 253,
  STRING: 254,
  GEOMETRY: 255,
} as const;

/** PyMySQL's TEXT_TYPES: bytes when their character set is binary, else str. */
const TEXT_TYPES = new Set<number>([T.BIT, T.BLOB, T.LONG_BLOB, T.MEDIUM_BLOB, T.STRING, T.TINY_BLOB, T.VAR_STRING, T.VARCHAR, T.GEOMETRY]);

const text: Convert = (b) => b.toString("utf8");
const latin: Convert = (b) => b.toString("latin1");
const bytes: Convert = (b) => bytesRepr(b);

/** Python's int() of the server's digits: leading zeros (ZEROFILL) and `-0` drop. */
const int: Convert = (b) => {
  const t = b.toString("latin1");
  const c = t.charCodeAt(t[0] === "-" ? 1 : 0);
  return c === 48 && t.length > 1 ? BigInt(t).toString() : t;
};

const float: Convert = (b) => floatRepr(Number(b.toString("latin1")));
const decimal: Convert = (b) => decimalText(b.toString("latin1"));

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));
const pad4 = (n: number) => String(n).padStart(4, "0");

/** PyMySQL's _convert_second_fraction: right-padded to six digits. */
function micros(f: string | undefined): number {
  return f ? Number((f + "000000").slice(0, 6)) : 0;
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function validDate(y: number, m: number, d: number): boolean {
  if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1) return false;
  const leap = m === 2 && (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0));
  return d <= DAYS[m - 1]! + (leap ? 1 : 0);
}

/** Python's int() of one part of a date: surrounding blanks and a sign allowed. */
function pyInt(s: string): number | undefined {
  return /^\s*[+-]?\d+\s*$/.test(s) ? Number(s) : undefined;
}

/** convert_date: `date(*map(int, text.split("-", 2)))`, the text itself when that fails. */
function dateText(t: string): string {
  const first = t.indexOf("-");
  const second = first < 0 ? -1 : t.indexOf("-", first + 1);
  if (second < 0) return t;
  const [y, m, d] = [t.slice(0, first), t.slice(first + 1, second), t.slice(second + 1)].map(pyInt);
  if (y === undefined || m === undefined || d === undefined || !validDate(y, m, d)) return t;
  return `${pad4(y)}-${pad2(m)}-${pad2(d)}`;
}

const DATETIME_RE = /^(\d{1,4})-(\d{1,2})-(\d{1,2})[T ](\d{1,2}):(\d{1,2}):(\d{1,2})(?:.(\d{1,6}))?/;

/** convert_datetime, falling back to convert_date as PyMySQL does. */
const datetime: Convert = (b) => {
  const t = b.toString("latin1");
  const m = DATETIME_RE.exec(t);
  if (!m) return dateText(t);
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (!validDate(y, mo, d) || h > 23 || mi > 59 || s > 59) return dateText(t);
  const us = micros(m[7]);
  return `${pad4(y)}-${pad2(mo)}-${pad2(d)} ${pad2(h)}:${pad2(mi)}:${pad2(s)}${us ? `.${String(us).padStart(6, "0")}` : ""}`;
};

const date: Convert = (b) => dateText(b.toString("latin1"));

const TIMEDELTA_RE = /^(-)?(\d{1,3}):(\d{1,2}):(\d{1,2})(?:.(\d{1,6}))?/;
const DAY_US = 86_400_000_000;

/** convert_timedelta, printed as Python's timedelta.__str__. */
const timedelta: Convert = (b) => {
  const t = b.toString("latin1");
  const m = TIMEDELTA_RE.exec(t);
  if (!m) return t;
  const total = (m[1] ? -1 : 1) * ((Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4])) * 1e6 + micros(m[5]));
  const days = Math.floor(total / DAY_US);
  const rest = total - days * DAY_US;
  const secs = Math.floor(rest / 1e6);
  const us = rest - secs * 1e6;
  const clock = `${Math.floor(secs / 3600)}:${pad2(Math.floor(secs / 60) % 60)}:${pad2(secs % 60)}`;
  return `${days ? `${days} day${Math.abs(days) !== 1 ? "s" : ""}, ` : ""}${clock}${us ? `.${String(us).padStart(6, "0")}` : ""}`;
};

/** Converter and numeric-ness (a Python number: csv QUOTE_NONNUMERIC leaves it bare) of one column. */
function column(c: MysqlColumn): [Convert, boolean] {
  const type = c.columnType ?? T.STRING;
  switch (type) {
    case T.TINY:
    case T.SHORT:
    case T.LONG:
    case T.INT24:
    case T.LONGLONG:
    case T.YEAR:
      return [int, true];
    case T.FLOAT:
    case T.DOUBLE:
      return [float, true];
    case T.DECIMAL:
    case T.NEWDECIMAL:
      return [decimal, true];
    case T.TIMESTAMP:
    case T.DATETIME:
      return [datetime, false];
    case T.DATE:
      return [date, false];
    case T.TIME:
      return [timedelta, false];
    case T.JSON:
      return [text, false];
  }
  if (TEXT_TYPES.has(type)) return [c.characterSet === BINARY_CHARSET ? bytes : text, false];
  // PyMySQL decodes these as ascii; latin1 keeps the same text for it.
  return [latin, false];
}

/** Per-column converters of a result's columns. */
export function mysqlPythonColumns(columns: readonly MysqlColumn[]): { convert: Convert[]; numeric: boolean[] } {
  const convert: Convert[] = [];
  const numeric: boolean[] = [];
  for (const c of columns) {
    const [fn, num] = column(c);
    convert.push(fn);
    numeric.push(num);
  }
  return { convert, numeric };
}

/** One raw row (mysql2 `typeCast: false`: Buffers, null for NULL) as Python's str() of each value. */
export function mysqlPythonRow(raw: readonly (Buffer | null)[], convert: readonly Convert[]): (string | null)[] {
  const out: (string | null)[] = new Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i];
    out[i] = b === null || b === undefined ? null : convert[i]!(b);
  }
  return out;
}
