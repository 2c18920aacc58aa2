/**
 * The contract of a connector: one file per connection type family, listed once in `registry.ts`.
 * A connection item lives in `lava.<realm>.connections`; `spec.ts` reads and checks its common fields.
 */
import type { Ports, SqlSession } from "../ports/index.ts";
import type { LavaConfig } from "../core/config.ts";
import { scrubSecrets } from "../core/secrets.ts";

export interface ConnectionSpec {
  conn_id: string;
  /** Lower-cased connection type. */
  type: string;
  enabled: boolean;
  [field: string]: unknown;
}

export interface ConnectorContext {
  ports: Ports;
  realm: string;
  config: LavaConfig;
  /** The job using the connection, for client application names (CONN_APP_NAME). */
  jobId?: string;
}

/** SQL dialects: which driver and which command-line client a database type uses. */
export type SqlDialect = "postgresql" | "redshift" | "mysql" | "mssql" | "oracle" | "sqlite3";

/**
 * A database connection resolved once: credentials fetched (SSM, Secrets Manager, IAM), fields checked
 * and typed. Everything downstream (drivers, CLI scripts) reads this, never the raw item.
 */
export interface SqlConnection {
  connId: string;
  type: string;
  dialect: SqlDialect;
  /** The original's driver name (`pg8000`, `pymysql`, ...); kept for compatibility checks. */
  subtype: string;
  host: string;
  port: number;
  database?: string;
  user: string;
  password: string;
  /** True when the password is an IAM token (RDS) rather than a stored password. */
  iamToken: boolean;
  ssl: boolean;
  caCert?: string;
  serviceName?: string;
  sid?: string;
  edition?: string;
  /** Login timeout in seconds (mssql `timeout`). */
  timeout?: number;
  preserveCase: boolean;
  /** The expanded item, for type-specific fields. */
  spec: ConnectionSpec;
}

export interface SqlConnectOptions {
  /** Client application name; default from CONN_APP_NAME. Null: none. */
  applicationName?: string | null;
  autocommit?: boolean;
}

export interface Connector {
  /** Connection `type` values this connector serves. */
  readonly types: readonly string[];
  /**
   * Writes an executable into `workdir` that gives a job's process this connection (`LAVA_CONN_<LABEL>`)
   * and returns its path. Absent: this type has no command-line form yet.
   */
  cliScript?(spec: ConnectionSpec, workdir: string, ctx: ConnectorContext): Promise<string>;
  /** SQL connectors: a live driver connection. */
  connect?(conn: SqlConnection, ctx: ConnectorContext, opts: SqlConnectOptions): Promise<SqlSession>;
}

/** Every connection failure; the message names the connection and never holds a known secret value. */
export class ConnectionError extends Error {
  override name = "ConnectionError";
  constructor(
    message: string,
    readonly context: { realm: string; conn_id: string },
    cause?: unknown,
  ) {
    super(scrubSecrets(message), cause === undefined ? undefined : { cause });
  }
}
