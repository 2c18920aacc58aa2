/**
 * Delimited text exactly as Python 3.11's `csv.writer` writes it, for the output of sql and sqli jobs.
 *
 * Hand-written because the files must be byte-identical to the original's and no JS CSV library has
 * Python's rules: a field is quoted when it holds the delimiter, quote character, escape character or a
 * character of the line terminator; `doublequote` false with no `escapechar` is an error ("need to escape,
 * but no escapechar set"); QUOTE_NONE escapes instead of quoting; QUOTE_NONNUMERIC quotes everything that is
 * not a Python number (None included); a record of one empty field is written `""`. Parameter checks
 * give Python's messages. test/handlers/sql-csv.test.ts compares with Python's csv module.
 *
 * Cells are Python values in the SqlSession "python" form (src/ports/sql.ts): string = str, number = float,
 * bigint = int, boolean = bool, Uint8Array = bytes, null/undefined = None; anything else goes through
 * Python's `str()` as the template engine's value model prints it.
 */
import { floatRepr } from "../../jinja/values.ts";
import { PyFloat, isDecimal, pyStr } from "../../jinja/index.ts";
import { bytesRepr } from "../../core/pyformat.ts";

export type Quoting = "MINIMAL" | "ALL" | "NONNUMERIC" | "NONE";

/** Python 3.11's QUOTE_* names. */
export const QUOTING_STYLES: readonly Quoting[] = ["MINIMAL", "ALL", "NONNUMERIC", "NONE"];

/** The dialects Python registers; only their line terminator survives the job's explicit parameters. */
const DIALECT_TERMINATORS: Record<string, string> = { excel: "\r\n", "excel-tab": "\r\n", unix: "\n" };

export interface CsvOptions {
  dialect: unknown;
  delimiter: unknown;
  quotechar: unknown;
  escapechar: unknown;
  doublequote: unknown;
  quoting: Quoting;
}

/** A Python csv error (`_csv.Error` or the TypeError of a bad parameter); its message is Python's. */
export class CsvError extends Error {
  override name = "CsvError";
}

function oneChar(name: string, v: unknown, allowNone: boolean): string | undefined {
  if ((v === null || v === undefined) && allowNone) return undefined;
  if (typeof v !== "string") throw new CsvError(`"${name}" must be string${allowNone ? " or None" : ""}, not ${pyTypeName(v)}`);
  if ([...v].length !== 1) throw new CsvError(`"${name}" must be a 1-character string`);
  return v;
}

function pyTypeName(v: unknown): string {
  if (v === null || v === undefined) return "NoneType";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  if (Array.isArray(v)) return "list";
  return "dict";
}

/** Python truthiness of a JSON parameter value (`doublequote`). */
function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "object" && v !== null) return Object.keys(v).length > 0;
  return Boolean(v);
}

export class CsvWriter {
  private readonly delimiter: string;
  private readonly quotechar: string | undefined;
  private readonly escapechar: string | undefined;
  private readonly doublequote: boolean;
  readonly lineterminator: string;
  private readonly quoting: Quoting;
  /** Characters that make a field special (need quoting or escaping). */
  private readonly special: Set<string>;
  private readonly specialRe: RegExp;

  constructor(opts: CsvOptions) {
    if (typeof opts.dialect !== "string" || !(opts.dialect in DIALECT_TERMINATORS)) throw new CsvError("unknown dialect");
    this.lineterminator = DIALECT_TERMINATORS[opts.dialect]!;
    this.delimiter = oneChar("delimiter", opts.delimiter, false)!;
    this.quotechar = oneChar("quotechar", opts.quotechar, true);
    this.escapechar = oneChar("escapechar", opts.escapechar, true);
    this.doublequote = truthy(opts.doublequote);
    this.quoting = opts.quoting;
    if (this.quoting !== "NONE" && this.quotechar === undefined) throw new CsvError("quotechar must be set if quoting enabled");
    this.special = new Set([this.delimiter, ...[...this.lineterminator]]);
    if (this.quotechar !== undefined) this.special.add(this.quotechar);
    if (this.escapechar !== undefined) this.special.add(this.escapechar);
    this.specialRe = new RegExp(`[${[...this.special].map((c) => `\\u{${c.codePointAt(0)!.toString(16)}}`).join("")}]`, "u");
  }

  /** One record, with its line terminator. `numeric[i]` marks a column whose strings are Python numbers. */
  row(cells: readonly unknown[], numeric?: readonly boolean[]): string {
    let out = "";
    for (let i = 0; i < cells.length; i++) {
      const v = cells[i];
      const text = cellText(v);
      let quoted: boolean;
      if (this.quoting === "ALL") quoted = true;
      else if (this.quoting === "NONNUMERIC") quoted = !(isNumber(v) || (typeof v === "string" && numeric?.[i] === true));
      else quoted = false;
      if (i > 0) out += this.delimiter;
      out += this.field(text, quoted);
    }
    if (cells.length > 0 && out.length === 0) {
      // Python writes a record of one empty field as `""`, so that it reads back as a field.
      if (this.quoting === "NONE") throw new CsvError("single empty field record must be quoted");
      out = this.quotechar! + this.quotechar!;
    }
    return out + this.lineterminator;
  }

  private field(text: string, quoted: boolean): string {
    if (!this.specialRe.test(text)) return quoted ? this.quotechar + text + this.quotechar : text;
    let body = "";
    for (const c of text) {
      if (this.special.has(c)) {
        let escape = false;
        if (this.quoting === "NONE") escape = true;
        else {
          if (c === this.quotechar) {
            if (this.doublequote) body += this.quotechar;
            else escape = true;
          } else if (c === this.escapechar) {
            escape = true;
          }
          if (!escape) quoted = true;
        }
        if (escape) {
          if (this.escapechar === undefined) throw new CsvError("need to escape, but no escapechar set");
          body += this.escapechar;
        }
      }
      body += c;
    }
    return quoted ? this.quotechar + body + this.quotechar : body;
  }
}

function isNumber(v: unknown): boolean {
  return typeof v === "number" || typeof v === "bigint" || typeof v === "boolean" || v instanceof PyFloat || isDecimal(v);
}

/** Python's `str()` of a cell, None as the empty field. */
export function cellText(v: unknown): string {
  if (typeof v === "string") return v;
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return floatRepr(v);
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "boolean") return v ? "True" : "False";
  if (v instanceof Uint8Array) return bytesRepr(v);
  if (v instanceof Date) return utcDatetimeStr(v);
  return pyStr(v);
}

/** A JS Date (an instant) as Python prints an aware UTC datetime: `2024-01-02 03:04:05.678000+00:00`. */
function utcDatetimeStr(d: Date): string {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const ms = d.getUTCMilliseconds();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${ms ? `.${String(ms).padStart(3, "0")}000` : ""}+00:00`;
}
