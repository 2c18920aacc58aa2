/**
 * db_from_s3 into SQL Server (`mssql`; in the original's code, not its guide): batched INSERTs of the
 * object's csv rows (inserts.ts), `[...]` quoted names. Not tested against a server (none runs here): the
 * SQL is checked as text.
 *
 * Transactions: SQL Server's TRUNCATE, DROP and CREATE are transactional, so a failed load leaves the table
 * as it was in every mode.
 */
import { InsertLoader } from "./inserts.ts";

export class MssqlLoader extends InsertLoader {
  // SQL Server takes at most 2100 parameters per request and 1000 rows per VALUES list.
  protected readonly maxParams = 2000;
  protected override quotes = "[]";

  protected override beginSql(): string {
    return "BEGIN TRANSACTION";
  }

  protected insertSql(target: string, cols: string, width: number, rows: number): string {
    const values: string[] = [];
    for (let r = 0; r < rows; r++) values.push(`(${Array.from({ length: width }, (_, i) => `@p${r * width + i + 1}`).join(",")})`);
    return `INSERT INTO ${target}(${cols}) VALUES ${values.join(",")}`;
  }

  override async tableIsEmpty(schema: string, table: string): Promise<boolean> {
    return (await this.exec(`SELECT TOP 1 1 FROM ${this.objectName(schema, table)}`)).rows.length === 0;
  }
}
