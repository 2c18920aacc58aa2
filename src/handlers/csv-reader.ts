/**
 * Rows of a text stream as the original's insert loaders read them: the file opened in Python text mode
 * (`open(f, 'rt')`: UTF-8, universal newlines, so `\r\n` and `\r` arrive as `\n`, inside quoted fields too)
 * and parsed by Python 3.11's `csv.reader` (the original fleet's Python) with the job's DELIMITER, QUOTECHAR, ESCAPECHAR, DOUBLEQUOTE and
 * QUOTING (excel dialect otherwise: skipinitialspace and strict off).
 *
 * Hand-written because these are CPython's `_csv.c` state machine's rules (a blank line is an empty row, a
 * quote inside an unquoted field is text, text after a closing quote joins the field, an escaped newline
 * stays in the field, end of data inside quotes ends the field), which no CSV package follows; the states
 * and their names are `_csv.c`'s. test/handlers/csv-reader.test.ts compares with Python's csv module.
 *
 * Cells: strings; with QUOTE_NONNUMERIC every unquoted field is a Python float (a number).
 */

import { strRepr } from "../jinja/values.ts";

/** Python 3.11's QUOTE_* names (3.12's STRINGS and NOTNULL do not exist there). */
export type ReaderQuoting = "MINIMAL" | "ALL" | "NONNUMERIC" | "NONE";

export const READER_QUOTING: readonly ReaderQuoting[] = ["MINIMAL", "ALL", "NONNUMERIC", "NONE"];

export interface ReaderOptions {
  delimiter?: string;
  quotechar?: string;
  escapechar?: string;
  doublequote?: boolean;
  quoting?: ReaderQuoting;
}

export type Cell = string | number;

/** Python's `_csv.Error` (message as Python words it). */
export class CsvReadError extends Error {
  override name = "CsvReadError";
}

const enum S {
  START_RECORD,
  START_FIELD,
  ESCAPED_CHAR,
  IN_FIELD,
  IN_QUOTED_FIELD,
  ESCAPE_IN_QUOTED_FIELD,
  QUOTE_IN_QUOTED_FIELD,
  EAT_CRNL,
  AFTER_ESCAPED_CRNL,
}

/** Python's float() of a string: surrounding whitespace, digit-group underscores, inf/nan spellings. */
export function pythonFloat(text: string): number {
  const t = text.trim();
  if (/^[+-]?(inf|infinity)$/i.test(t)) return t.startsWith("-") ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(t)) return NaN;
  if (/^[+-]?(\d(_?\d)*(\.(\d(_?\d)*)?)?|\.\d(_?\d)*)([eE][+-]?\d(_?\d)*)?$/.test(t)) return Number(t.replaceAll("_", ""));
  throw new CsvReadError(`could not convert string to float: ${strRepr(text)}`);
}

/**
 * Parses lines (each ending in `\n` except perhaps the last, as Python's text-mode file iterator yields
 * them) into rows.
 */
export class PyCsvReader {
  private readonly delimiter: string;
  private readonly quotechar: string | undefined;
  private readonly escapechar: string | undefined;
  private readonly doublequote: boolean;
  private readonly quoting: ReaderQuoting;
  private state = S.START_RECORD;
  private fields: Cell[] = [];
  private field = "";
  private fieldLen = 0;
  private numeric = false;

  constructor(opts: ReaderOptions = {}) {
    this.delimiter = opts.delimiter ?? ",";
    this.quoting = opts.quoting ?? "MINIMAL";
    this.quotechar = opts.quotechar ?? '"';
    this.escapechar = opts.escapechar;
    this.doublequote = opts.doublequote ?? true;
    for (const [name, v] of [["delimiter", this.delimiter], ["quotechar", this.quotechar], ["escapechar", this.escapechar]] as const) {
      if (v !== undefined && [...v].length !== 1) throw new CsvReadError(`"${name}" must be a 1-character string`);
    }
    if (this.delimiter === "\n" || this.delimiter === "\r") throw new CsvReadError("bad delimiter value");
  }

  /** Feeds one line; returns the row it completes, if any. */
  line(text: string): Cell[] | undefined {
    for (const c of text) {
      if (c === "\0") throw new CsvReadError("line contains NUL");
      this.char(c);
    }
    this.char("\0");
    if (this.state !== S.START_RECORD) return undefined;
    const row = this.fields;
    this.fields = [];
    return row;
  }

  /** End of data: the row of a field left open (an unterminated quote ends the field), if any. */
  end(): Cell[] | undefined {
    if (this.fieldLen !== 0 || this.state === S.IN_QUOTED_FIELD) {
      this.saveField();
      const row = this.fields;
      this.fields = [];
      this.state = S.START_RECORD;
      return row;
    }
    return undefined;
  }

  private add(c: string): void {
    this.field += c;
    this.fieldLen++;
  }

  private saveField(): void {
    this.fields.push(this.numeric ? pythonFloat(this.field) : this.field);
    this.field = "";
    this.fieldLen = 0;
    this.numeric = false;
  }

  private isQuote(c: string): boolean {
    return this.quoting !== "NONE" && c === this.quotechar;
  }

  private char(c: string): void {
    const eol = c === "\0";
    const nl = c === "\n" || c === "\r";
    switch (this.state) {
      case S.START_RECORD:
        if (eol) return;
        if (nl) {
          this.state = S.EAT_CRNL;
          return;
        }
        this.state = S.START_FIELD;
        this.char(c);
        return;
      case S.START_FIELD:
        if (nl || eol) {
          this.saveField();
          this.state = eol ? S.START_RECORD : S.EAT_CRNL;
        } else if (this.isQuote(c)) {
          this.state = S.IN_QUOTED_FIELD;
        } else if (c === this.escapechar) {
          this.state = S.ESCAPED_CHAR;
        } else if (c === this.delimiter) {
          this.saveField();
        } else {
          if (this.quoting === "NONNUMERIC") this.numeric = true;
          this.add(c);
          this.state = S.IN_FIELD;
        }
        return;
      case S.ESCAPED_CHAR:
        if (nl) {
          this.add(c);
          this.state = S.AFTER_ESCAPED_CRNL;
          return;
        }
        this.add(eol ? "\n" : c);
        this.state = S.IN_FIELD;
        return;
      case S.AFTER_ESCAPED_CRNL:
        if (eol) return;
        this.state = S.IN_FIELD;
        this.char(c);
        return;
      case S.IN_FIELD:
        if (nl || eol) {
          this.saveField();
          this.state = eol ? S.START_RECORD : S.EAT_CRNL;
        } else if (c === this.escapechar) {
          this.state = S.ESCAPED_CHAR;
        } else if (c === this.delimiter) {
          this.saveField();
          this.state = S.START_FIELD;
        } else {
          this.add(c);
        }
        return;
      case S.IN_QUOTED_FIELD:
        if (eol) return;
        if (c === this.escapechar) this.state = S.ESCAPE_IN_QUOTED_FIELD;
        else if (this.isQuote(c)) this.state = this.doublequote ? S.QUOTE_IN_QUOTED_FIELD : S.IN_FIELD;
        else this.add(c);
        return;
      case S.ESCAPE_IN_QUOTED_FIELD:
        this.add(eol ? "\n" : c);
        this.state = S.IN_QUOTED_FIELD;
        return;
      case S.QUOTE_IN_QUOTED_FIELD:
        if (this.isQuote(c)) {
          this.add(c);
          this.state = S.IN_QUOTED_FIELD;
        } else if (c === this.delimiter) {
          this.saveField();
          this.state = S.START_FIELD;
        } else if (nl || eol) {
          this.saveField();
          this.state = eol ? S.START_RECORD : S.EAT_CRNL;
        } else {
          // strict off: the text after the closing quote joins the field
          this.add(c);
          this.state = S.IN_FIELD;
        }
        return;
      case S.EAT_CRNL:
        if (nl) return;
        if (eol) {
          this.state = S.START_RECORD;
          return;
        }
        throw new CsvReadError("new-line character seen in unquoted field - do you need to open the file with newline=''?");
    }
  }
}

/**
 * Lines of a byte stream as Python's text-mode file iterator gives them: UTF-8 decoded (a BOM kept, a bad byte an
 * error, as Python's strict utf-8 codec), `\r\n` and lone `\r` turned into `\n`, each line ending in `\n`
 * except perhaps the last.
 */
export async function* textLines(stream: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  let carry = "";
  let pendingCr = false;
  const normalise = (text: string, final: boolean): string => {
    let t = pendingCr ? `\r${text}` : text;
    pendingCr = false;
    if (!final && t.endsWith("\r")) {
      // A \r at a chunk's end may be the first half of \r\n: decide with the next chunk.
      pendingCr = true;
      t = t.slice(0, -1);
    }
    return t.replace(/\r\n?/g, "\n");
  };
  for await (const chunk of stream) {
    carry += normalise(decoder.decode(chunk, { stream: true }), false);
    let nl = carry.indexOf("\n");
    let start = 0;
    while (nl >= 0) {
      yield carry.slice(start, nl + 1);
      start = nl + 1;
      nl = carry.indexOf("\n", start);
    }
    carry = carry.slice(start);
  }
  carry += normalise(decoder.decode(), true);
  let start = 0;
  for (let nl = carry.indexOf("\n"); nl >= 0; nl = carry.indexOf("\n", start)) {
    yield carry.slice(start, nl + 1);
    start = nl + 1;
  }
  if (start < carry.length) yield carry.slice(start);
}

/** Rows of a byte stream: textLines through a PyCsvReader. */
export async function* csvRows(stream: AsyncIterable<Uint8Array>, opts: ReaderOptions): AsyncGenerator<Cell[]> {
  const reader = new PyCsvReader(opts);
  for await (const line of textLines(stream)) {
    const row = reader.line(line);
    if (row) yield row;
  }
  const last = reader.end();
  if (last) yield last;
}
