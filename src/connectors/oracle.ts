/**
 * Oracle connections (`oracle`, `oracle-rds`). Driver: `oracledb` in thin mode (pure JavaScript, no Oracle
 * client libraries). The DSN is the original's (cx_Oracle.makedsn): SERVICE_NAME when `service_name` is
 * set, else SID from `sid` (or the deprecated `database`).
 *
 * The CLI wrapper is the original's `sqlplus -NOLOGINTIME -L -S [-C edition] 'user/password@dsn' "$@"`.
 * sqlplus takes the password only on its command line, so it is visible to `ps` on the worker while sqlplus
 * runs, as with the original; the script reads it from a 0600 file so the script holds no secret. Not tested
 * against a server (none runs here).
 */
import oracledb from "oracledb";
import type { SqlRows, SqlSession } from "../ports/index.ts";
import { connectionDir, shQuote, writeScript, writeSecretFile } from "./scripts.ts";
import { connectTimeout, resolveSqlConnection } from "./sql.ts";
import type { ConnectionSpec, Connector, ConnectorContext, SqlConnectOptions, SqlConnection } from "./types.ts";

export const oracleConnector: Connector = {
  types: ["oracle", "oracle-rds"],
  cliScript: oracleScript,
  connect: oracleConnect,
};

export function oracleDsn(conn: Pick<SqlConnection, "host" | "port" | "serviceName" | "sid">): string {
  const data = conn.serviceName ? `(SERVICE_NAME=${conn.serviceName})` : conn.sid ? `(SID=${conn.sid})` : "";
  return `(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=${conn.host})(PORT=${conn.port}))(CONNECT_DATA=${data}))`;
}

async function oracleConnect(conn: SqlConnection, _ctx: ConnectorContext, opts: SqlConnectOptions): Promise<SqlSession> {
  const connection = await oracledb.getConnection({
    user: conn.user,
    password: conn.password,
    connectString: oracleDsn(conn),
    connectTimeout: connectTimeout(conn),
    ...(conn.edition ? { edition: conn.edition } : {}),
  });
  return new OracleSession(connection, opts.autocommit ?? true);
}

class OracleSession implements SqlSession {
  constructor(
    private readonly conn: oracledb.Connection,
    private readonly autocommit: boolean,
  ) {}

  async query(sql: string, params: unknown[] = []) {
    const result = await this.conn.execute(sql, params as oracledb.BindParameters, { outFormat: oracledb.OUT_FORMAT_ARRAY, autoCommit: this.autocommit });
    return {
      columns: (result.metaData ?? []).map((m) => m.name),
      rows: (result.rows ?? []) as unknown[][],
      ...(result.rowsAffected !== undefined ? { rowCount: result.rowsAffected } : {}),
    };
  }

  async *cursor(sql: string, batchSize: number): AsyncIterable<SqlRows> {
    const result = await this.conn.execute(sql, [], { resultSet: true, outFormat: oracledb.OUT_FORMAT_ARRAY });
    const columns = (result.metaData ?? []).map((m) => m.name);
    const rs = result.resultSet!;
    try {
      for (;;) {
        const rows = (await rs.getRows(batchSize)) as unknown[][];
        if (!rows.length) break;
        yield { columns, rows };
      }
    } finally {
      await rs.close();
    }
  }

  async close(): Promise<void> {
    await this.conn.close();
  }
}

async function oracleScript(item: ConnectionSpec, workdir: string, ctx: ConnectorContext): Promise<string> {
  const conn = await resolveSqlConnection(item, ctx);
  const dir = connectionDir(workdir);
  const passwordFile = writeSecretFile(dir, ".oracle-password", conn.password);
  const compatibility = conn.edition ? `-C ${shQuote(conn.edition)} ` : "";
  const login = `${shQuote(conn.user)}/"$(cat ${shQuote(passwordFile)})"@${shQuote(oracleDsn(conn))}`;
  return writeScript(dir, "sqlplus", `sqlplus -NOLOGINTIME -L -S ${compatibility}${login} "$@"`);
}
