/**
 * db_from_s3 into SQLite (`sqlite3`): batched INSERTs of the object's csv rows (inserts.ts). The schema is
 * `main` (other names are ignored by the table checks and fail in the INSERT, as the original).
 *
 * Transactions: every step is transactional in SQLite, so a failed load leaves the table as it was in every
 * mode. `truncate` is a DELETE inside the load's transaction and a VACUUM after its commit (VACUUM cannot
 * run in a transaction); the original deleted, committed and vacuumed before loading.
 */
import { InsertLoader } from "./inserts.ts";
import type { LoadRequest } from "./base.ts";

export class SqliteLoader extends InsertLoader {
  // SQLITE_MAX_VARIABLE_NUMBER since SQLite 3.32.
  protected readonly maxParams = 32766;

  protected insertSql(target: string, cols: string, width: number, rows: number): string {
    const row = `(${Array(width).fill("?").join(",")})`;
    return `INSERT INTO ${target}(${cols}) VALUES ${Array(rows).fill(row).join(",")}`;
  }

  protected override eventTarget(req: LoadRequest): string {
    return this.objectName(req.schema, req.table);
  }

  override async truncateTable(_schema: string, table: string): Promise<void> {
    await this.exec(`DELETE FROM ${this.objectName(table)}`);
    if (this.inTransaction) this.afterCommit.push("VACUUM");
    else await this.exec("VACUUM");
  }

  override async createTable(_schema: string, table: string, columns: string[]): Promise<void> {
    await super.createTable("", table, columns);
  }

  override async dropTable(_schema: string, table: string): Promise<void> {
    await super.dropTable("", table);
  }

  override async tableIsEmpty(_schema: string, table: string): Promise<boolean> {
    return super.tableIsEmpty("", table);
  }

  override async tableExists(_schema: string, table: string): Promise<boolean> {
    const out = await this.exec("SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name=?", [table]);
    return Number(out.rows[0]?.[0]) > 0;
  }

  override async columns(_schema: string, table: string): Promise<string[]> {
    return (await this.exec(`PRAGMA table_info(${this.objectName(table)})`)).rows.map((r) => String(r[1]));
  }
}
