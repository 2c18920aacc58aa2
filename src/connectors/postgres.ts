/**
 * PostgreSQL connections (`postgres`, `psql`, `postgres-rds`, `postgres-aurora`; Redshift reuses the driver
 * and the psql wrapper). Driver: `postgres` (porsager). With `ssl` the link is encrypted without verifying
 * the server certificate, as the original's bare SSLContext does.
 *
 * The psql wrapper is the original's: `-h -p -d -U --no-psqlrc --set=sslmode=… --quiet --set ON_ERROR_STOP=on
 * --pset footer=off "$@"`, PGAPPNAME defaulting to CONN_APP_NAME with the job's LAVA_REALM / LAVA_JOB_ID.
 * The password goes in a 0600 pgpass file (PGPASSFILE); passwords psql cannot read from pgpass (99 characters
 * and more: IAM tokens) go in PGPASSWORD, as the original does, read at run time from a 0600 file so the
 * script itself holds no secret. Divergence: the original's `--set=sslmode` only sets a psql variable; we
 * also export PGSSLMODE so `ssl: true` really requires SSL.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import postgres from "postgres";
import type { CursorOptions, SqlRows, SqlSession } from "../ports/index.ts";
import { pythonColumns, pythonRow, type PgColumn } from "./pg-python.ts";
import { renderTemplate } from "../jinja/index.ts";
import { connAppNameContext } from "../jinja/contexts.ts";
import { cleanApplicationName } from "./appname.ts";
import { connectionError } from "./params.ts";
import { connectionDir, shQuote, writeScript, writeSecretFile } from "./scripts.ts";
import { connectTimeout, resolveSqlConnection } from "./sql.ts";
import type { ConnectionSpec, Connector, ConnectorContext, SqlConnectOptions, SqlConnection } from "./types.ts";

/** psql does not take longer passwords from a pgpass file (the original's measure). */
const PSQL_MAX_PGPASS_PASSWORD = 99;

export const postgresConnector: Connector = {
  types: ["postgres", "psql", "postgresql", "postgres-rds", "postgres-aurora"],
  cliScript: postgresScript,
  connect: (conn, ctx, opts) => {
    if (!conn.database) throw connectionError(conn.spec, ctx, "database must be specified for Postgres");
    return postgresConnect(conn, ctx, opts);
  },
};

export async function postgresConnect(conn: SqlConnection, _ctx: ConnectorContext, opts: SqlConnectOptions): Promise<SqlSession> {
  const sql = postgres({
    host: conn.host,
    port: conn.port,
    database: conn.database,
    username: conn.user,
    password: conn.password,
    ssl: conn.ssl || conn.iamToken ? "require" : false,
    max: 1,
    connect_timeout: connectTimeout(conn),
    onnotice: () => {},
    connection: opts.applicationName ? { application_name: opts.applicationName } : {},
  });
  try {
    // Connect now, so a wrong password or a dead host fails here and not at the first query.
    const reserved = await sql.reserve();
    return new PostgresSession(sql, reserved);
  } catch (e) {
    await sql.end({ timeout: 0 });
    throw e;
  }
}

class PostgresSession implements SqlSession {
  constructor(
    private readonly pool: postgres.Sql,
    private readonly sql: postgres.ReservedSql,
  ) {}

  async query(text: string, params: unknown[] = []) {
    const result = await this.sql.unsafe(text, params as postgres.ParameterOrJSON<never>[]).values();
    return {
      columns: (result.columns ?? []).map((c) => c.name),
      rows: [...result] as unknown[][],
      ...(typeof result.count === "number" ? { rowCount: result.count } : {}),
    };
  }

  async *cursor(text: string, batchSize: number, opts: CursorOptions = {}): AsyncIterable<SqlRows> {
    if (opts.python) {
      yield* this.pythonCursor(text, batchSize);
      return;
    }
    let columns: string[] = [];
    for await (const batch of this.sql.unsafe(text).values().cursor(batchSize)) {
      // The driver names the columns on the first batch only.
      const cols = (batch as unknown as { columns?: { name: string }[] | null }).columns;
      if (cols) columns = cols.map((c) => c.name);
      yield { columns, rows: [...batch] as unknown[][] };
    }
  }

  /** Raw text-format values converted as pg8000 would return them (pg-python.ts). */
  private async *pythonCursor(text: string, batchSize: number): AsyncIterable<SqlRows> {
    // The query object learns the statement's columns from its RowDescription, also when no row comes.
    const query = this.sql.unsafe(text).raw() as unknown as postgres.PendingQuery<postgres.Row[]> & { statement?: { columns?: PgColumn[] | null } };
    let shape: { columns: string[]; convert: ReturnType<typeof pythonColumns>["convert"]; numeric: boolean[] } | undefined;
    const describe = () => {
      const cols = query.statement?.columns ?? [];
      const { convert, numeric } = pythonColumns(cols);
      return { columns: cols.map((c) => c.name), convert, numeric };
    };
    let yielded = false;
    for await (const batch of query.cursor(batchSize)) {
      shape ??= describe();
      if (shape.columns.length === 0) continue;
      const rows = (batch as unknown as (Uint8Array | null)[][]).map((r) => pythonRow(r, shape!.convert));
      yielded = true;
      yield { columns: shape.columns, rows, numeric: shape.numeric };
    }
    shape ??= describe();
    if (shape.columns.length > 0 && !yielded) yield { columns: shape.columns, rows: [], numeric: shape.numeric };
  }

  async copyFrom(text: string, data: AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<number | undefined> {
    type Hooks = { resolve?: (x: unknown) => void; reject?: (e: unknown) => void; active?: boolean };
    const query = this.sql.unsafe(text) as unknown as postgres.PendingQuery<postgres.Row[]> & Hooks;
    // The driver settles a COPY query twice: its first resolve hands over the copy stream, and at
    // ReadyForQuery it resolves again with the result (the row count) or rejects with the server's error,
    // which the settled promise no longer shows. An error the server sends after our CopyDone would then
    // leave the stream waiting forever, so both are caught on the way (driver internals, postgres 3.4).
    let count: number | undefined;
    let writable: import("node:stream").Writable | undefined;
    const { resolve, reject } = query;
    if (typeof resolve === "function" && typeof reject === "function") {
      query.resolve = (x: unknown) => {
        const n = (x as { count?: unknown } | null)?.count;
        if (typeof n === "number") count = n;
        resolve(x);
      };
      query.reject = (e: unknown) => {
        writable?.destroy(e instanceof Error ? e : new Error(String(e)));
        reject(e);
      };
    }
    writable = await query.writable();
    // An abort cancels the statement on the server (a CancelRequest: rows already sent are not waited for)
    // and destroys the stream, which sends CopyFail. The driver marked the query inactive when it handed over
    // the stream and would only queue the cancel for later: the copy is still running, so say so.
    const cancel = () => {
      query.active = true;
      Promise.resolve(query.cancel() as unknown).catch(() => undefined);
    };
    signal?.addEventListener("abort", cancel, { once: true });
    try {
      await pipeline(Readable.from(data), writable, ...(signal ? [{ signal }] : []));
    } finally {
      signal?.removeEventListener("abort", cancel);
    }
    return count;
  }

  async close(): Promise<void> {
    this.sql.release();
    await this.pool.end({ timeout: 5 });
  }
}

/** The `psql` wrapper for LAVA_CONN_*. */
export async function postgresScript(item: ConnectionSpec, workdir: string, ctx: ConnectorContext): Promise<string> {
  const conn = await resolveSqlConnection(item, ctx);
  const dir = connectionDir(workdir);
  const sslMode = conn.ssl || conn.iamToken ? "require" : "prefer";
  const args = [
    `-h ${shQuote(conn.host)}`,
    `-p ${conn.port}`,
    ...(conn.database ? [`-d ${shQuote(conn.database)}`] : []),
    `-U ${shQuote(conn.user)}`,
    "--no-psqlrc",
    `--set=sslmode=${sslMode}`,
    "--quiet",
    "--set ON_ERROR_STOP=on",
    "--pset footer=off",
  ].join(" ");
  let credentials: string;
  if (conn.password.length < PSQL_MAX_PGPASS_PASSWORD) {
    const line = [conn.host, String(conn.port), conn.database ?? "*", conn.user, conn.password].map(pgpassField).join(":");
    credentials = `PGPASSFILE=${shQuote(writeSecretFile(dir, ".pgpass", `${line}\n`))}`;
  } else {
    credentials = `PGPASSWORD="$(cat ${shQuote(writeSecretFile(dir, ".pgpassword", conn.password))})"`;
  }
  const body = [
    `[ "$PGAPPNAME" == "" ] && export PGAPPNAME=${shellAppName(ctx, conn.connId)}`,
    `export PGSSLMODE=${sslMode}`,
    `${credentials} exec psql ${args} "$@"`,
  ].join("\n");
  return writeScript(dir, "psql", body);
}

function pgpassField(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/:/g, "\\:");
}

/**
 * CONN_APP_NAME with the realm and job id left to the job's environment (`${LAVA_REALM}`, `${LAVA_JOB_ID}`),
 * everything else single-quoted so no other part of it is expanded.
 */
function shellAppName(ctx: ConnectorContext, connId: string): string {
  const template = ctx.config.str("CONN_APP_NAME");
  if (!template) return "''";
  const rendered = cleanApplicationName(renderTemplate(template, connAppNameContext("\u0001R\u0001", "\u0001J\u0001", connId)));
  return rendered
    .split(/(\u0001[RJ]\u0001)/)
    .filter(Boolean)
    .map((part) => (part === "\u0001R\u0001" ? '"${LAVA_REALM}"' : part === "\u0001J\u0001" ? '"${LAVA_JOB_ID}"' : `'${part.replace(/'/g, `'\\''`)}'`))
    .join("");
}
