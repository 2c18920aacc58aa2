/**
 * MySQL and MariaDB connections (`mysql`, `mariadb`, `mysql-rds`, `mariadb-rds`, `mysql-aurora`). Driver:
 * mysql2; the client program name goes in the `program_name` connection attribute. With `ssl` the link is
 * encrypted; the server certificate is verified only against a given `ca_cert` (host names unchecked), as
 * the original's PyMySQL settings do. An RDS IAM token is sent with the cleartext plugin, over SSL only.
 *
 * The CLI wrapper is the original's: `mysql --defaults-file=<0600 [client] user/password file> --batch
 * --host --port --connect-timeout=10 [--database] [--ssl-mode=required (MySQL client) | --ssl (MariaDB
 * client)] [--ssl-ca] [--enable-cleartext-plugin (MySQL client, IAM)] "$@"`.
 */
import { readFileSync } from "node:fs";
import mysql from "mysql2";
import type { Connection, FieldPacket, ResultSetHeader } from "mysql2";
import type { CursorOptions, SqlRows, SqlSession } from "../ports/index.ts";
import { mysqlPythonColumns, mysqlPythonRow } from "./mysql-python.ts";
import { connectionError } from "./params.ts";
import { connectionDir, shQuote, writeScript, writeSecretFile } from "./scripts.ts";
import { CONNECT_TIMEOUT_SECONDS, connectTimeout, resolveSqlConnection } from "./sql.ts";
import type { ConnectionSpec, Connector, ConnectorContext, SqlConnectOptions, SqlConnection } from "./types.ts";

export const mysqlConnector: Connector = {
  types: ["mysql", "mariadb", "mysql-rds", "mariadb-rds", "mysql-aurora"],
  cliScript: mysqlScript,
  connect: mysqlConnect,
};

async function mysqlConnect(conn: SqlConnection, ctx: ConnectorContext, opts: SqlConnectOptions): Promise<SqlSession> {
  if (conn.iamToken && !conn.ssl) throw connectionError(conn.spec, ctx, "SSL is required with IAM database authentication");
  let ssl: { ca?: string; rejectUnauthorized: boolean; checkServerIdentity?: () => undefined } | undefined;
  if (conn.ssl) {
    ssl = conn.caCert
      ? { ca: readFileSync(conn.caCert, "utf8"), rejectUnauthorized: true, checkServerIdentity: () => undefined }
      : { rejectUnauthorized: false };
  }
  const connection = mysql.createConnection({
    host: conn.host,
    port: conn.port,
    user: conn.user,
    password: conn.password,
    ...(conn.database ? { database: conn.database } : {}),
    ...(ssl ? { ssl } : {}),
    connectTimeout: connectTimeout(conn) * 1000,
    ...(opts.applicationName ? { connectAttributes: { program_name: opts.applicationName } } : {}),
    ...(conn.iamToken ? { authPlugins: { mysql_clear_password: () => () => Buffer.from(`${conn.password}\0`) } } : {}),
  });
  try {
    await connection.promise().connect();
  } catch (e) {
    connection.destroy();
    throw e;
  }
  return new MysqlSession(connection);
}

class MysqlSession implements SqlSession {
  constructor(private readonly conn: Connection) {}

  async query(sql: string, params: unknown[] = []) {
    const [rows, fields] = await this.conn.promise().query({ sql, rowsAsArray: true, values: params });
    if (!Array.isArray(rows)) return { columns: [], rows: [], rowCount: (rows as ResultSetHeader).affectedRows };
    return { columns: ((fields ?? []) as FieldPacket[]).map((f) => f.name), rows: rows as unknown as unknown[][] };
  }

  async *cursor(sql: string, batchSize: number, opts: CursorOptions = {}): AsyncIterable<SqlRows> {
    // In python mode the driver hands over the server's raw bytes (typeCast false), converted as PyMySQL would (mysql-python.ts).
    const query = this.conn.query({ sql, rowsAsArray: true, ...(opts.python ? { typeCast: false } : {}) });
    let columns: string[] = [];
    let shape: ReturnType<typeof mysqlPythonColumns> | undefined;
    query.on("fields", (fields: FieldPacket[]) => {
      columns = (fields ?? []).map((f) => f.name);
      if (opts.python) shape = mysqlPythonColumns(fields ?? []);
    });
    const numeric = () => (shape ? { numeric: shape.numeric } : {});
    let batch: unknown[][] = [];
    for await (const row of query.stream({ highWaterMark: batchSize })) {
      batch.push(shape ? mysqlPythonRow(row as (Buffer | null)[], shape.convert) : (row as unknown[]));
      if (batch.length >= batchSize) {
        yield { columns, rows: batch, ...numeric() };
        batch = [];
      }
    }
    if (batch.length || columns.length) yield { columns, rows: batch, ...numeric() };
  }

  async close(): Promise<void> {
    await this.conn.promise().end().catch(() => this.conn.destroy());
  }
}

type MysqlFlavour = "mysql" | "mariadb";
let flavour: MysqlFlavour | null | undefined;

/** Which mysql client is installed: their SSL options differ. Null when there is none. */
function mysqlFlavour(): MysqlFlavour | null {
  if (flavour !== undefined) return flavour;
  try {
    const out = Bun.spawnSync(["mysql", "--version"], { stdout: "pipe", stderr: "ignore" });
    flavour = out.exitCode !== 0 ? null : out.stdout.toString().toLowerCase().includes("mariadb") ? "mariadb" : "mysql";
  } catch {
    flavour = null;
  }
  return flavour;
}

/** Option-file value: quoted, with the escapes mysql option files understand. */
function optionValue(v: string): string {
  return `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

async function mysqlScript(item: ConnectionSpec, workdir: string, ctx: ConnectorContext): Promise<string> {
  const client = mysqlFlavour();
  if (!client) throw connectionError(item, ctx, "No mysql client available");
  const conn = await resolveSqlConnection(item, ctx);
  const dir = connectionDir(workdir);
  const conf = writeSecretFile(dir, ".mysql.conf", `[client]\nuser=${optionValue(conn.user)}\npassword=${optionValue(conn.password)}\n`);
  const args = [`--defaults-file=${shQuote(conf)}`, "--batch", `--host=${shQuote(conn.host)}`, `--port=${conn.port}`, `--connect-timeout=${CONNECT_TIMEOUT_SECONDS}`];
  if (conn.database) args.push(`--database=${shQuote(conn.database)}`);
  if (conn.ssl) args.push(client === "mysql" ? "--ssl-mode=required" : "--ssl");
  if (conn.caCert) args.push(`--ssl-ca=${shQuote(conn.caCert)}`);
  if (conn.iamToken) {
    if (!conn.ssl) throw connectionError(item, ctx, "SSL is required with IAM database authentication");
    if (client === "mysql") args.push("--enable-cleartext-plugin");
  }
  return writeScript(dir, "mysql", `\nmysql ${args.join(" ")} "$@"`);
}
