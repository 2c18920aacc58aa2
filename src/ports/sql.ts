/**
 * The one shape every in-process database connection has (PostgreSQL, Redshift, MySQL/MariaDB, SQL Server,
 * Oracle, SQLite), so SQL job types need not know the driver. SQLite is a port because its driver is
 * `bun:sqlite`, which only adapters may import; the network drivers are plain npm libraries the
 * connectors use directly.
 */

export interface SqlRows {
  columns: string[];
  rows: unknown[][];
}

export interface SqlResult extends SqlRows {
  /** Rows changed by a data-changing statement, when the driver says. */
  rowCount?: number;
}

export interface SqlSession {
  /** Runs one statement and returns every row. */
  query(sql: string, params?: unknown[]): Promise<SqlResult>;
  /** Runs one statement and yields its rows in batches of at most `batchSize`. */
  cursor(sql: string, batchSize: number): AsyncIterable<SqlRows>;
  close(): Promise<void>;
}

export interface SqlitePort {
  /** Opens (creating when absent) the database file at `path`. */
  open(path: string): SqlSession;
}
