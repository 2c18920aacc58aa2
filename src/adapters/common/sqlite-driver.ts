/** `sqlite3` connections on bun:sqlite, for both backends (a database file is local either way). */
import { Database, type SQLQueryBindings, type Statement } from "bun:sqlite";
import type { CursorOptions, SqlitePort, SqlResult, SqlRows, SqlSession } from "../../ports/sql.ts";

/**
 * The statement's rows as arrays. bun:sqlite streams rows only as objects keyed by column name (iterate()),
 * where two columns of one name (`SELECT a.id, b.id ...`) collapse into one; its arrays (values()) come only
 * as the whole result. So a result with repeated names is read whole, every other one streamed.
 */
function* rowsAsArrays(stmt: Statement, columns: readonly string[]): Iterable<unknown[]> {
  if (new Set(columns).size !== columns.length) {
    yield* stmt.values() as unknown[][];
    return;
  }
  for (const row of stmt.iterate() as Iterable<Record<string, unknown>>) yield columns.map((c) => row[c]);
}

class BunSqliteSession implements SqlSession {
  constructor(private readonly db: Database) {}

  async query(sql: string, params: unknown[] = []): Promise<SqlResult> {
    const stmt = this.db.query(sql);
    try {
      const rows = stmt.values(...(params as SQLQueryBindings[])) as unknown[][];
      const changes = stmt.columnNames.length === 0 ? this.changes() : undefined;
      return { columns: [...stmt.columnNames], rows, ...(changes !== undefined ? { rowCount: changes } : {}) };
    } finally {
      stmt.finalize();
    }
  }

  async *cursor(sql: string, batchSize: number, opts: CursorOptions = {}): AsyncIterable<SqlRows> {
    const stmt = this.db.prepare(sql);
    // Python's sqlite3 gives INTEGER as int and REAL as float: bigints and numbers tell them apart.
    if (opts.python) stmt.safeIntegers(true);
    try {
      const columns = [...stmt.columnNames];
      let batch: unknown[][] = [];
      for (const row of rowsAsArrays(stmt, columns)) {
        batch.push(row);
        if (batch.length >= batchSize) {
          yield { columns, rows: batch };
          batch = [];
        }
      }
      if (batch.length || columns.length) yield { columns, rows: batch };
    } finally {
      stmt.finalize();
    }
  }

  private changes(): number {
    return Number((this.db.query("SELECT changes() AS n").get() as { n: number }).n);
  }

  async close(): Promise<void> {
    this.db.close(false);
  }
}

export const bunSqlite: SqlitePort = {
  open(path: string): SqlSession {
    return new BunSqliteSession(new Database(path, { create: true }));
  },
};
