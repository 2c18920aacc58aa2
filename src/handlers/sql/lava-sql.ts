/**
 * What `lava sql` (the original's `lava-sql`) does once it has a session: each SQL text split (sqlparse
 * rules, unless `raw`), each statement run in turn, and the rows of every statement that returns rows
 * written to one output stream in the chosen format, fetched `batchSize` rows at a time and handed on as
 * they are written (the caller's sink pulls, so neither a result nor the output is held whole).
 *
 * Formats, as the original writes them with the rows its Python drivers return (the SqlSession "python"
 * form, src/ports/sql.ts):
 * - csv: Python's csv.writer (./csv.ts), header row with `header`;
 * - jsonl: `json.dump(dict(zip(columns, row)), sort_keys=…, default=json_default)` and a newline per row;
 * - html: the original's Jinja table template, rendered for each statement (hand-written below to stream:
 *   the template's whitespace kept exactly; values HTML-escaped as markupsafe does).
 * Parquet is not offered: the original registers it only where pyarrow is installed, and its schema is
 * pyarrow's guess from the first batch, which no JavaScript library reproduces.
 */
import type { SqlSession } from "../../ports/index.ts";
import type { Logger } from "../../core/log.ts";
import type { SqlDialect } from "../../connectors/types.ts";
import { errorText } from "../../core/error-text.ts";
import { pyJsonDumps } from "../../core/pyformat.ts";
import { floatRepr } from "../../jinja/values.ts";
import { CsvWriter, cellText, type CsvOptions } from "./csv.ts";
import { BEGIN_TRANSACTION } from "./run.ts";
import { pyStrip, splitSql } from "./split.ts";

export const SQL_FORMATS = ["csv", "html", "jsonl"] as const;
export type SqlFormat = (typeof SQL_FORMATS)[number];

export interface LavaSqlOptions {
  format: SqlFormat;
  header: boolean;
  raw: boolean;
  batchSize: number;
  transaction: boolean;
  /** csv only. */
  csv?: CsvOptions;
  /** jsonl only. */
  sortKeys?: boolean;
}

/** One SQL text: its name as given (`-` for standard input) and how to read it. */
export interface SqlSource {
  name: string;
  read(): Promise<string>;
}

/** A failure of lava sql; the message is what it logs. */
export class LavaSqlError extends Error {
  override name = "LavaSqlError";
}

/** A statement's failure, named by its number; the file is added where it is caught. */
class StatementError extends Error {
  override name = "StatementError";
}

/** How one format writes the rows of one statement. */
interface RowFormat {
  begin(columns: string[]): string;
  rows(rows: unknown[][], numeric: readonly boolean[] | undefined): string;
  end(): string;
}

export function rowFormat(opts: LavaSqlOptions): RowFormat {
  if (opts.format === "csv") return csvFormat(new CsvWriter(opts.csv!), opts.header);
  if (opts.format === "jsonl") return jsonlFormat(opts.sortKeys === true);
  return htmlFormat(opts.header);
}

function csvFormat(writer: CsvWriter, header: boolean): RowFormat {
  return {
    begin: (columns) => (header ? writer.row(columns) : ""),
    rows(rows, numeric) {
      let out = "";
      for (const row of rows) out += writer.row(row, numeric);
      return out;
    },
    end: () => "",
  };
}

function jsonlFormat(sortKeys: boolean): RowFormat {
  let keys: string[] = [];
  let positions: number[] = [];
  return {
    begin(columns) {
      // dict(zip(...)): a repeated name keeps its first place and its last value.
      const last = new Map<string, number>();
      columns.forEach((c, i) => last.set(c, i));
      keys = [...last.keys()];
      if (sortKeys) keys.sort(codePointOrder);
      positions = keys.map((k) => last.get(k)!);
      return "";
    },
    rows(rows, numeric) {
      let out = "";
      for (const row of rows) {
        const parts = keys.map((k, j) => `${pyJsonDumps(k)}: ${jsonValue(row[positions[j]!], numeric?.[positions[j]!] === true)}`);
        out += `{${parts.join(", ")}}\n`;
      }
      return out;
    },
    end: () => "",
  };
}

function codePointOrder(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/**
 * A cell as Python's json.dump writes the value the driver returned, through lava's json_default: numbers as
 * JSON numbers (float repr, NaN, Infinity), Decimals as `float(d) if '.' in str(d) else int(d)`, bools as
 * true/false, bytes and other objects as their str(). A numeric column's cells come as Python's printed
 * text, which says which of those it was: `True`/`False`, digits (int), float repr (`e`, `nan`, `inf` or a
 * `.`), Decimal (an `E` exponent or a `.`). UUIDs, which csv counts as numbers, stay text.
 */
function jsonValue(v: unknown, numeric: boolean): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") return jsonFloat(v);
  if (typeof v !== "string") return pyJsonDumps(cellText(v));
  if (!numeric) return pyJsonDumps(v);
  if (v === "True" || v === "False") return v === "True" ? "true" : "false";
  if (/^-?\d+$/.test(v)) return BigInt(v).toString();
  if (v === "nan" || v === "inf" || v === "-inf") return jsonFloat(Number(v.replace("nan", "NaN").replace("inf", "Infinity")));
  if (/^-?\d+(\.\d*)?e[+-]?\d+$/.test(v)) return v; // a float's repr
  if (/^-?(\d+\.\d*|\.\d+)(E[+-]?\d+)?$/.test(v)) return floatRepr(Number(v));
  const exp = /^(-?)(\d+)E([+-]?\d+)$/.exec(v);
  if (exp) return decimalToInt(exp[1]!, exp[2]!, Number(exp[3]));
  if (v === "NaN" || v === "Infinity" || v === "-Infinity" || v === "sNaN") {
    throw new LavaSqlError(`cannot convert ${v.replace(/^-/, "")} to integer`);
  }
  return pyJsonDumps(v);
}

function jsonFloat(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "Infinity" : "-Infinity";
  return floatRepr(x);
}

/** int(Decimal('dEn')): exact, truncated toward zero. */
function decimalToInt(sign: string, digits: string, exp: number): string {
  const n = exp >= 0 ? BigInt(digits) * 10n ** BigInt(exp) : BigInt(digits) / 10n ** BigInt(-exp);
  return (sign && n !== 0n ? -n : n).toString();
}

/** markupsafe's escape of str(value). */
function html(v: unknown): string {
  const s = v === null || v === undefined ? "None" : cellText(v);
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;" })[c]!);
}

/** The original's HTML template's output, piece by piece (checked against Jinja in test/cli/sql.test.ts). */
function htmlFormat(header: boolean): RowFormat {
  return {
    begin(columns) {
      let out = '<TABLE class="lava-sql">\n            ';
      if (header) {
        out += "<THEAD>\n                <TR>\n                    ";
        for (const c of columns) out += `<TH>${html(c)}</TH>\n                    `;
        out += "\n                </TR>\n            </THEAD>";
      }
      return `${out}\n            <TBODY>`;
    },
    rows(rows) {
      let out = "";
      for (const row of rows) {
        out += "\n                <TR>\n                    ";
        for (const v of row) out += `<TD>${html(v)}</TD>\n                    `;
        out += "\n                </TR>\n            ";
      }
      return out;
    },
    end: () => "\n            </TBODY>\n        </TABLE>\n    ",
  };
}

/** Python's text-mode reading: universal newlines (`\r\n` and `\r` read as `\n`). */
export function universalNewlines(text: string): string {
  return text.replace(/\r\n?/g, "\n");
}

/**
 * Runs every source through `session` and yields the output text as it is made. Transaction: begun before
 * the first file, committed after the last, rolled back on any error (`<file>: Rollback : <error>`).
 * Errors name the file and the statement (1-based, as the original counts its queries).
 */
export async function* runLavaSql(
  session: SqlSession,
  dialect: SqlDialect,
  sources: readonly SqlSource[],
  opts: LavaSqlOptions,
  log: Logger,
): AsyncGenerator<string> {
  const format = rowFormat(opts);
  let began = false;
  let current: string | undefined;
  try {
    if (opts.transaction) {
      log.info("Starting transaction");
      const begin = BEGIN_TRANSACTION[dialect];
      if (begin) await session.query(begin);
      began = true;
    }
    for (const source of sources) {
      current = source.name;
      const text = universalNewlines(await source.read());
      log.debug(`Raw SQL: ${source.name}: ${text}`);
      const statements = opts.raw ? [text] : splitSql(pyStrip(text));
      let rows = 0;
      for (const [i, statement] of statements.entries()) {
        const sql = pyStrip(statement).replace(/;+$/, "");
        if (!sql) {
          log.debug(`Skipping empty SQL statement # ${i + 1}`);
          continue;
        }
        try {
          for await (const chunk of runStatement(session, sql, opts.batchSize, format, (n) => (rows += n))) yield chunk;
        } catch (e) {
          throw new StatementError(`statement ${i + 1}: ${errorText(e)}`);
        }
      }
      const n = statements.length;
      log.info(`${source.name}: ${n} ${n === 1 ? "query" : "queries"} completed, ${rows} ${rows === 1 ? "row" : "rows"} returned`);
    }
    if (opts.transaction) {
      log.info("Committing transaction");
      await session.query("COMMIT");
    }
  } catch (e) {
    if (began) {
      await session.query("ROLLBACK").catch((r) => log.warning(`Rollback failed: ${errorText(r)}`));
      if (current) throw new LavaSqlError(`${current}: Rollback : ${errorText(e)}`);
    }
    if (e instanceof StatementError && current) throw new LavaSqlError(`${current}: ${e.message}`);
    throw e;
  }
}

async function* runStatement(session: SqlSession, sql: string, batchSize: number, format: RowFormat, count: (n: number) => void): AsyncGenerator<string> {
  let started = false;
  for await (const batch of session.cursor(sql, batchSize, { python: true })) {
    if (batch.columns.length === 0) continue;
    let out = "";
    if (!started) {
      out += format.begin(batch.columns);
      started = true;
    }
    out += format.rows(batch.rows, batch.numeric);
    count(batch.rows.length);
    if (out) yield out;
  }
  if (started) {
    const tail = format.end();
    if (tail) yield tail;
  }
}
