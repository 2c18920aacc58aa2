/**
 * Database connections: reading one into a typed SqlConnection with credentials in the original's order,
 * and opening a driver connection on it.
 *
 * Credential order (as the original): the `password` field names an SSM SecureString, read first; then
 * `secret_id` names a Secrets Manager JSON secret whose fields fill only what the item lacks; then, still
 * without a password, the type's IAM getter (RDS auth token, Redshift temporary password) if it has one,
 * else "Password must be specified".
 */
import type { SqlSession } from "../ports/index.ts";
import { dictCheck } from "../core/dict-check.ts";
import { errorText } from "../core/error-text.ts";
import { rememberSecret } from "../core/secrets.ts";
import { applicationName } from "./appname.ts";
import { connectionError, connectionParameter, connectionSecret } from "./params.ts";
import { CONNECTION_REQUIRED_FIELDS, getConnectionSpec } from "./spec.ts";
import { connectorTypes } from "./registry.ts";
import { rdsCredentials } from "./rds.ts";
import { redshiftCredentials, redshiftServerlessCredentials } from "./redshift.ts";
import {
  ConnectionError,
  type ConnectionSpec,
  type ConnectorContext,
  type SqlConnectOptions,
  type SqlConnection,
  type SqlDialect,
} from "./types.ts";

const DIALECT_TYPES: Record<SqlDialect, readonly string[]> = {
  postgresql: ["psql", "postgresql", "postgres", "postgres-aurora", "postgres-rds"],
  redshift: ["redshift", "redshift-serverless"],
  oracle: ["oracle", "oracle-rds"],
  mysql: ["mysql", "mariadb", "mysql-aurora", "mysql-rds", "mariadb-rds"],
  mssql: ["mssql"],
  sqlite3: ["sqlite3"],
};

/** The original's default driver per dialect, and the ones it also accepts. */
const SUBTYPES: Record<SqlDialect, { default: string; accepted: readonly string[] }> = {
  postgresql: { default: "pg8000", accepted: ["pg8000", "pygresql"] },
  redshift: { default: "pg8000", accepted: ["pg8000", "redshift"] },
  mysql: { default: "pymysql", accepted: ["pymysql"] },
  mssql: { default: "pyodbc", accepted: ["pyodbc"] },
  oracle: { default: "cx_oracle", accepted: ["cx_oracle"] },
  sqlite3: { default: "sqlite3", accepted: ["sqlite3"] },
};

export const SQL_TYPES: readonly string[] = Object.values(DIALECT_TYPES).flat();

export function sqlDialect(type: string): SqlDialect | undefined {
  for (const [dialect, types] of Object.entries(DIALECT_TYPES)) if (types.includes(type)) return dialect as SqlDialect;
  return undefined;
}

/** `iamToken`: the password is an RDS auth token, which must only travel over SSL. */
type CredentialGetter = (spec: ConnectionSpec, ctx: ConnectorContext) => Promise<{ user: string; password: string; iamToken?: boolean }>;

/** Types that can make a password when the item has none. */
const CREDENTIAL_GETTERS: Record<string, CredentialGetter> = {
  "postgres-aurora": rdsCredentials,
  "postgres-rds": rdsCredentials,
  "mysql-aurora": rdsCredentials,
  "mysql-rds": rdsCredentials,
  redshift: redshiftCredentials,
  "redshift-serverless": redshiftServerlessCredentials,
  // SQLite needs none; the original hands back fixed dummy values that nothing reads.
  sqlite3: async () => ({ user: "chronosynclastic", password: "infundibulum" }),
};

/** Secrets Manager fields → connection fields. */
const SECRET_FIELDS: Record<string, string> = {
  username: "user",
  password: "password",
  host: "host",
  port: "port",
  dbname: "database",
  dbClusterIdentifier: "description",
  serviceName: "service_name",
  sid: "sid",
};

/** Fills in the item's credentials in the original's order; returns the expanded copy. */
export async function expandSqlSpec(item: ConnectionSpec, ctx: ConnectorContext): Promise<{ spec: ConnectionSpec; iamToken: boolean }> {
  const spec: ConnectionSpec = { ...item };
  if ("password" in spec) spec.password = await connectionParameter(spec, ctx, spec.password, "password");
  if ("secret_id" in spec) {
    const secret = await connectionSecret(spec, ctx, spec.secret_id);
    for (const [from, to] of Object.entries(SECRET_FIELDS)) if (!(to in spec) && from in secret) spec[to] = secret[from];
  }
  try {
    dictCheck(spec, [...CONNECTION_REQUIRED_FIELDS, "host", "port"], null, true);
  } catch (e) {
    throw connectionError(spec, ctx, errorText(e));
  }
  if (!spec.enabled) throw connectionError(spec, ctx, "Not enabled");
  const dialect = sqlDialect(spec.type);
  if (!dialect) throw connectionError(spec, ctx, `Unsupported connection type - ${spec.type}`);
  spec.port = portNumber(spec, ctx);
  spec.subtype = spec.subtype === undefined ? SUBTYPES[dialect].default : String(spec.subtype).toLowerCase();
  let iamToken = false;
  if (!("password" in spec)) {
    const getter = CREDENTIAL_GETTERS[spec.type];
    if (!getter) throw connectionError(spec, ctx, "Password must be specified");
    let creds;
    try {
      creds = await getter(spec, ctx);
    } catch (e) {
      if (e instanceof ConnectionError) throw e;
      throw connectionError(spec, ctx, `Cannot get IAM credentials: ${errorText(e)}`, e);
    }
    rememberSecret(creds.password);
    spec.user = creds.user;
    spec.password = creds.password;
    iamToken = creds.iamToken === true;
  }
  for (const f of ["user", "password"]) if (spec[f] === undefined || spec[f] === null) throw connectionError(spec, ctx, `Missing keys: ${f}`);
  return { spec, iamToken };
}

function portNumber(spec: ConnectionSpec, ctx: ConnectorContext): number {
  const port = Number(spec.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw connectionError(spec, ctx, `Bad port ${String(spec.port)}`);
  return port;
}

/** An SQL item as a typed connection (credentials resolved). */
export async function resolveSqlConnection(item: ConnectionSpec, ctx: ConnectorContext): Promise<SqlConnection> {
  const { spec, iamToken } = await expandSqlSpec(item, ctx);
  const dialect = sqlDialect(spec.type)!;
  const subtype = String(spec.subtype);
  if (!SUBTYPES[dialect].accepted.includes(subtype)) {
    throw connectionError(spec, ctx, `Unsupported connection type - ${spec.type} = (${dialect}, ${subtype})`);
  }
  const opt = (f: string) => (spec[f] === undefined || spec[f] === null ? undefined : String(spec[f]));
  return {
    connId: spec.conn_id,
    type: spec.type,
    dialect,
    subtype,
    host: String(spec.host),
    port: spec.port as number,
    database: opt("database"),
    user: String(spec.user),
    password: String(spec.password),
    iamToken: iamToken || String(spec.password).includes("X-Amz-Credential="),
    ssl: flag(spec.ssl),
    caCert: opt("ca_cert"),
    serviceName: opt("service_name"),
    sid: opt("sid") ?? opt("database"),
    edition: opt("edition"),
    timeout: spec.timeout === undefined ? undefined : Number(spec.timeout),
    preserveCase: flag(spec.preserve_case),
    spec,
  };
}

/** Boolean fields: DynamoDB booleans, or the strings people write for them. */
export function flag(v: unknown): boolean {
  if (typeof v === "string") return /^(1|true|yes|on)$/i.test(v.trim());
  return Boolean(v);
}

/** Reads connection `connId` and opens a driver connection to it (PostgreSQL, Redshift, MySQL, SQL Server, Oracle, SQLite). */
export async function getSqlConnection(connId: string, ctx: ConnectorContext, opts: SqlConnectOptions = {}): Promise<SqlSession> {
  const item = await getConnectionSpec(ctx.ports, ctx.realm, connId);
  return connectSql(item, ctx, opts);
}

export async function connectSql(item: ConnectionSpec, ctx: ConnectorContext, opts: SqlConnectOptions = {}): Promise<SqlSession> {
  if (!sqlDialect(item.type)) {
    throw connectionError(item, ctx, `Must be a database connection (${SQL_TYPES.join(", ")}), not "${item.type}"`);
  }
  const conn = await resolveSqlConnection(item, ctx);
  const connector = await connectorTypes[conn.type]!();
  const name = opts.applicationName === undefined ? applicationName(ctx.config, conn.connId, ctx.realm, ctx.jobId) : (opts.applicationName ?? undefined);
  try {
    return await connector.connect!(conn, ctx, { ...opts, applicationName: name ?? null });
  } catch (e) {
    if (e instanceof ConnectionError) throw e;
    throw connectionError(conn.spec, ctx, `Cannot connect to ${conn.type} database at ${conn.host}:${conn.port}: ${errorText(e)}`, e);
  }
}

/** Connect timeout for every network driver, as the original's mysql client wrapper uses. */
export const CONNECT_TIMEOUT_SECONDS = 10;

/** The item's `timeout` (seconds; the original reads it for mssql only) when positive, else CONNECT_TIMEOUT_SECONDS. */
export function connectTimeout(conn: SqlConnection): number {
  return conn.timeout !== undefined && Number.isFinite(conn.timeout) && conn.timeout > 0 ? conn.timeout : CONNECT_TIMEOUT_SECONDS;
}
