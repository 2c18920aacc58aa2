/**
 * The one shape every in-process database connection has (PostgreSQL, Redshift, MySQL/MariaDB, SQL Server,
 * Oracle, SQLite), so SQL job types need not know the driver. SQLite is a port because its driver is
 * `bun:sqlite`, which only adapters may import; the network drivers are plain npm libraries the
 * connectors use directly.
 */

export interface SqlRows {
  /** Empty when the statement returns no rows (no cursor description). */
  columns: string[];
  rows: unknown[][];
  /**
   * With `python`: columns whose string cells are Python numbers (int, float, Decimal, bool) already
   * printed, so a writer can tell them from text (csv QUOTE_NONNUMERIC).
   */
  numeric?: boolean[];
}

export interface CursorOptions {
  /**
   * Cells as the original's Python driver (pg8000, PyMySQL, sqlite3) hands them to `str()`: a string is
   * the value's Python `str()` text, a number a Python float, a bigint an int, a boolean a bool, a
   * Uint8Array bytes, null None. Sessions whose driver has no such mapping yield their driver's values.
   */
  python?: boolean;
}

export interface SqlResult extends SqlRows {
  /** Rows changed by a data-changing statement, when the driver says. */
  rowCount?: number;
}

export interface SqlSession {
  /** Runs one statement and returns every row. */
  query(sql: string, params?: unknown[]): Promise<SqlResult>;
  /**
   * Runs one statement and yields its rows in batches of at most `batchSize`, fetching each batch only when
   * the previous one was taken. A statement that returns rows yields at least one batch naming its
   * columns, even with no rows; one that returns none yields no batch with columns.
   */
  cursor(sql: string, batchSize: number, opts?: CursorOptions): AsyncIterable<SqlRows>;
  /**
   * PostgreSQL only: runs a `COPY ... FROM STDIN` statement fed from `data` (streamed, never held whole).
   * Aborting `signal` sends CopyFail, so the server abandons the copy. Resolves with the rows copied when the
   * driver says.
   */
  copyFrom?(sql: string, data: AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<number | undefined>;
  close(): Promise<void>;
}

export interface SqlitePort {
  /** Opens (creating when absent) the database file at `path`. */
  open(path: string): SqlSession;
}
