/**
 * SQL Server connections (`mssql`). Driver: `mssql` (on tedious, pure JavaScript: the original's ODBC
 * `driver` name is accepted and not needed). No SSL, as the original's FreeTDS setup; `timeout` is the
 * login timeout in seconds. The CLI wrapper is the original's `lava-sql --conn-id <id> "$@"`, since no
 * SQL Server command-line client is worth using: here this same program's `sql` command (so it needs no
 * `lava-sql` on PATH), on the backend the worker uses; the realm comes from LAVA_REALM, as the original's. Not tested against a server (none runs here).
 */
import mssql from "mssql";
import type { SqlRows, SqlSession } from "../ports/index.ts";
import { selfCommand } from "../core/program.ts";
import { connectionDir, shQuote, writeScript } from "./scripts.ts";
import { connectTimeout } from "./sql.ts";
import { checkEnabled } from "./spec.ts";
import type { ConnectionSpec, Connector, ConnectorContext, SqlConnectOptions, SqlConnection } from "./types.ts";

export const mssqlConnector: Connector = {
  types: ["mssql"],
  cliScript: mssqlScript,
  connect: mssqlConnect,
};

/** The driver's settings for a connection (separate so it can be checked without a server). */
export function mssqlConfig(conn: SqlConnection, opts: SqlConnectOptions): mssql.config {
  return {
    server: conn.host,
    port: conn.port,
    user: conn.user,
    password: conn.password,
    ...(conn.database ? { database: conn.database } : {}),
    connectionTimeout: connectTimeout(conn) * 1000,
    pool: { max: 1, min: 0 },
    options: {
      encrypt: false,
      trustServerCertificate: true,
      ...(opts.applicationName ? { appName: opts.applicationName } : {}),
    },
  };
}

async function mssqlConnect(conn: SqlConnection, _ctx: ConnectorContext, opts: SqlConnectOptions): Promise<SqlSession> {
  const pool = new mssql.ConnectionPool(mssqlConfig(conn, opts));
  try {
    await pool.connect();
  } catch (e) {
    await pool.close().catch(() => undefined);
    throw e;
  }
  return new MssqlSession(pool);
}

class MssqlSession implements SqlSession {
  constructor(private readonly pool: mssql.ConnectionPool) {}

  async query(sql: string, params: unknown[] = []) {
    const request = this.pool.request();
    params.forEach((p, i) => request.input(`p${i + 1}`, p));
    request.arrayRowMode = true;
    const result = await request.query(sql);
    const columns = (result as unknown as { columns?: { name: string }[][] }).columns?.[0]?.map((c) => c.name) ?? [];
    return { columns, rows: (result.recordset ?? []) as unknown as unknown[][], rowCount: result.rowsAffected.at(-1) };
  }

  /** Batches of the full result: the driver's row stream does not fit a pull-based cursor cleanly. */
  async *cursor(sql: string, batchSize: number): AsyncIterable<SqlRows> {
    const { columns, rows } = await this.query(sql);
    for (let i = 0; i < rows.length || i === 0; i += batchSize) yield { columns, rows: rows.slice(i, i + batchSize) };
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

async function mssqlScript(spec: ConnectionSpec, workdir: string, ctx: ConnectorContext): Promise<string> {
  checkEnabled(spec, ctx.realm);
  const self = selfCommand().map(shQuote).join(" ");
  return writeScript(connectionDir(workdir), "mssql", `\nexec ${self} sql --backend ${ctx.ports.backend} --conn-id ${shQuote(spec.conn_id)} "$@"`);
}
