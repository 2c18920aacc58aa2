/**
 * What sql and sqli share: their parameters, the connection (autocommit unless `transaction`), and running
 * each SQL text statement by statement with row-returning statements written as delimited text
 * (`<file>.<n>.out`) to the run directory and, streamed as it is fetched, to `<s3tmp>[/<output>]/`.
 *
 * The original's order is kept: parameters, quoting and `output` checked, then the connection, then
 * `batch_size`; each text split (sqlparse rules) before each statement is rendered on its own; a statement
 * that renders empty is skipped but keeps its number. Errors name the statement (0-based, as the output
 * file names count) and carry the database's own message.
 */
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { CursorOptions, SqlRows, SqlSession } from "../../ports/index.ts";
import { JobFailure, type JobRun } from "../../core/job-contract.ts";
import { errorText } from "../../core/error-text.ts";
import { connectSql, sqlDialect, SQL_TYPES } from "../../connectors/sql.ts";
import { getConnectionSpec } from "../../connectors/spec.ts";
import { connectionError } from "../../connectors/params.ts";
import { ConnectionError, type SqlDialect } from "../../connectors/types.ts";
import { checkParameters, jinjaEnabled } from "../common.ts";
import { CsvWriter, QUOTING_STYLES, type Quoting } from "./csv.ts";
import { pyStrip, splitSql } from "./split.ts";

export const SQL_OPTIONAL = [
  "batch_size",
  "delimiter",
  "dialect",
  "doublequote",
  "escapechar",
  "header",
  "jinja",
  "output",
  "quotechar",
  "quoting",
  "raw",
  "transaction",
  "vars",
] as const;

/** One SQL text to run: its output-dict key, the name its output files start with, the text. */
export interface SqlText {
  key: string;
  /** Label of the text in error messages. */
  label: string;
  text: string;
}

export interface SqlResult {
  exit_status: number;
  output: Record<string, string[]>;
  [k: string]: unknown;
}

/** How each dialect opens a transaction when autocommit is on (the original's begin_transaction, plan C). */
export const BEGIN_TRANSACTION: Record<SqlDialect, string | null> = {
  postgresql: "BEGIN",
  redshift: "BEGIN",
  mysql: "BEGIN",
  sqlite3: "BEGIN",
  mssql: "BEGIN TRANSACTION",
  // Oracle has no BEGIN statement: its session runs with autoCommit off instead.
  oracle: null,
};

const OUTPUT_RE = /^[\p{L}\p{N}_]+$/u;
const PYTHON: CursorOptions = { python: true };

export interface SqlJob {
  run: JobRun;
  parameters: Record<string, unknown>;
  /** Resolved after the connection is open (the payload fetch and checks the original does inside its try). */
  texts: () => Promise<SqlText[]>;
}

/** Checks the parameters shared by sql and sqli (the original's order and words). */
export function sqlParameters(run: JobRun): Record<string, unknown> {
  const parameters = checkParameters(run, ["conn_id"], SQL_OPTIONAL);
  quoting(run, parameters);
  outputDir(parameters);
  return parameters;
}

function quoting(run: JobRun, parameters: Record<string, unknown>): Quoting {
  const raw = parameters.quoting ?? run.config.str("SQL_QUOTING");
  const style = String(raw).toUpperCase();
  if (typeof raw !== "string" || !QUOTING_STYLES.includes(style as Quoting)) throw new JobFailure(`Bad quoting style: ${style}`);
  return style as Quoting;
}

function outputDir(parameters: Record<string, unknown>): string[] {
  if (!("output" in parameters)) return [];
  const out = parameters.output;
  if (typeof out !== "string" || !OUTPUT_RE.test(out)) throw new JobFailure("Bad output parameter: Must be alphanumeric");
  return [out];
}

function batchSize(run: JobRun, parameters: Record<string, unknown>): number {
  const raw = parameters.batch_size ?? run.config.int("SQL_BATCH_SIZE");
  // Python's int(): whole numbers, numeric strings of digits, floats truncated.
  let n: number;
  if (typeof raw === "number") n = Math.trunc(raw);
  else if (typeof raw === "string" && /^\s*[+-]?\d+\s*$/.test(raw)) n = Number(raw);
  else if (typeof raw === "boolean") n = raw ? 1 : 0;
  else throw new JobFailure(`Bad batch_size: invalid literal for int() with base 10: ${JSON.stringify(raw)}`);
  if (!Number.isFinite(n) || n < 1) throw new JobFailure("Bad batch_size: Must be >= 1");
  return n;
}

/** Python truthiness of a parameter. */
function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "object" && v !== null) return Object.keys(v).length > 0;
  return Boolean(v);
}

export async function runSqlJob(job: SqlJob): Promise<SqlResult> {
  const { run, parameters } = job;
  const style = quoting(run, parameters);
  const datadir = outputDir(parameters);
  const transaction = truthy(parameters.transaction);
  const raw = truthy(parameters.raw);
  const render = jinjaEnabled(parameters);
  const connId = parameters.conn_id;
  if (typeof connId !== "string") throw new JobFailure("Bad job parameters: conn_id must be a string");

  const ctx = { ports: run.ports, realm: run.job.realm, config: run.config, jobId: run.job.job_id };
  let session: SqlSession;
  let dialect: SqlDialect;
  try {
    const item = await getConnectionSpec(run.ports, run.job.realm, connId);
    const d = sqlDialect(item.type);
    if (!d) throw connectionError(item, ctx, `Must be a database connection (${SQL_TYPES.join(", ")}), not "${item.type}"`);
    dialect = d;
    session = await connectSql(item, ctx, { autocommit: !transaction });
  } catch (e) {
    if (e instanceof ConnectionError) throw new JobFailure(errorText(e));
    throw e;
  }

  const result: SqlResult = { exit_status: 0, output: {} };
  let began = false;
  try {
    const size = batchSize(run, parameters);
    if (transaction && BEGIN_TRANSACTION[dialect]) {
      await dbStep("BEGIN", () => session.query(BEGIN_TRANSACTION[dialect]!));
      began = true;
    }
    for (const text of await job.texts()) {
      result.output[text.key] = [];
      const statements = raw ? [text.text] : splitSql(pyStrip(text.text));
      for (const [n, statement] of statements.entries()) {
        const where = `${text.label} statement ${n}`;
        let sql = statement;
        if (render) {
          try {
            sql = await run.render(sql);
          } catch (e) {
            throw new JobFailure(`${where}: ${errorText(e)}`);
          }
        }
        sql = pyStrip(sql).replace(/;+$/, "");
        if (!sql) continue;
        const uri = await runStatement(run, session, sql, size, {
          name: `${text.key}.${n}${run.config.str("SQL_OUTPUT_SUFFIX")}`,
          datadir,
          parameters,
          quoting: style,
          where,
        });
        if (uri) result.output[text.key]!.push(uri);
      }
    }
    if (transaction) await dbStep("COMMIT", () => session.query("COMMIT"));
  } catch (e) {
    if (transaction && (began || dialect === "oracle")) {
      // The job's own error is the one to report; a failed rollback is logged, the server drops the transaction with the connection.
      await session.query("ROLLBACK").catch((r) => run.log.warning(`Rollback failed: ${errorText(r)}`));
    }
    throw e;
  } finally {
    await session.close().catch((e) => run.log.warning(`Closing connection ${connId}: ${errorText(e)}`));
  }
  return result;
}

async function dbStep<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw new JobFailure(`${what}: ${errorText(e)}`);
  }
}

interface Output {
  name: string;
  datadir: string[];
  parameters: Record<string, unknown>;
  quoting: Quoting;
  where: string;
}

/**
 * Runs one statement. When it returns rows, they are written as they are fetched, batch by batch, to the
 * local file and to the object store at once (the upload pulls the next batch only when it has taken the
 * last), so neither the result nor the file is ever held in memory. Returns the object's URI.
 */
async function runStatement(run: JobRun, session: SqlSession, sql: string, size: number, out: Output): Promise<string | undefined> {
  const batches = session.cursor(sql, size, PYTHON)[Symbol.asyncIterator]();
  let failure: unknown;
  const fail = (e: unknown): never => {
    failure ??= e;
    throw new JobFailure(`${out.where}: ${errorText(e)}`);
  };
  let first: IteratorResult<SqlRows>;
  try {
    first = await batches.next();
    while (!first.done && first.value.columns.length === 0) first = await batches.next();
  } catch (e) {
    return fail(e);
  }
  if (first.done) return undefined;

  const p = out.parameters;
  const cfg = run.config;
  let writer: CsvWriter;
  try {
    writer = new CsvWriter({
      dialect: p.dialect ?? cfg.str("SQL_DIALECT"),
      delimiter: p.delimiter ?? cfg.str("SQL_DELIMITER"),
      doublequote: p.doublequote ?? cfg.bool("SQL_DOUBLEQUOTE"),
      escapechar: "escapechar" in p ? p.escapechar : (cfg.raw("SQL_ESCAPECHAR") ?? null),
      quotechar: p.quotechar ?? cfg.str("SQL_QUOTECHAR"),
      quoting: out.quoting,
    });
  } catch (e) {
    await batches.return?.();
    return fail(e);
  }

  const dir = join(run.runDir, ...out.datadir);
  mkdirSync(dir, { recursive: true });
  const local = join(dir, out.name);
  const uri = [run.s3tmp, ...out.datadir, out.name].join("/");
  const fd = openSync(local, "w", 0o600);
  const encoder = new TextEncoder();
  let pending: SqlRows | undefined = first.value;
  let header = truthy(p.header);
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          // Until there is something to hand over: an empty batch (no rows, no header to write) gives none.
          for (;;) {
            let batch = pending;
            pending = undefined;
            if (!batch) {
              const next = await batches.next();
              if (next.done) {
                controller.close();
                return;
              }
              batch = next.value;
            }
            let text = "";
            if (header) {
              text += writer.row(batch.columns);
              header = false;
            }
            for (const row of batch.rows) text += writer.row(row, batch.numeric);
            if (text.length === 0) continue;
            const bytes = encoder.encode(text);
            writeSync(fd, bytes);
            controller.enqueue(bytes);
            return;
          }
        } catch (e) {
          failure ??= e;
          controller.error(e);
        }
      },
      async cancel() {
        await batches.return?.();
      },
    },
    { highWaterMark: 0 },
  );
  try {
    await run.ports.objects.put(uri, body, run.realm.s3_key ? { kmsKeyId: run.realm.s3_key } : {});
  } catch (e) {
    // A database or CSV error met while streaming surfaces as the upload's error: report the cause itself.
    fail(failure ?? e);
  } finally {
    closeSync(fd);
  }
  return uri;
}
