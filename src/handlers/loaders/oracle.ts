/**
 * db_from_s3 into Oracle (`oracle`): batched INSERTs of the object's csv rows (inserts.ts), as one
 * `INSERT ALL` per batch. Object names are checked, not quoted (Oracle's quoting changes what a name means),
 * as the original. Not tested against a server (none runs here): the SQL is checked as text.
 *
 * Transactions: Oracle commits implicitly around TRUNCATE, DROP and CREATE, so `truncate`, `drop` and a
 * created table are not undone by a failed load; `delete`, `append` and the rows of `switch` are.
 */
import { InsertLoader } from "./inserts.ts";
import { LoadError } from "./base.ts";

const NAME_RE = /^[$#\w]+$/i;

export class OracleLoader extends InsertLoader {
  protected readonly maxParams = 10000;
  protected override readonly maxRows = 500;
  private readonly oracleColumns = new Map<string, string[]>();

  override objectName(...parts: string[]): string {
    for (const s of parts) if (!NAME_RE.test(s)) throw new LoadError(`Bad database object name: ${s}`);
    return parts.filter((s) => s).join(".");
  }

  /** The session runs with autocommit off; there is no BEGIN statement. */
  protected override beginSql(): string | null {
    return null;
  }

  protected insertSql(target: string, cols: string, width: number, rows: number): string {
    const into: string[] = [];
    for (let r = 0; r < rows; r++) {
      into.push(`INTO ${target}(${cols}) VALUES (${Array.from({ length: width }, (_, i) => `:v${r * width + i + 1}`).join(",")})`);
    }
    return `INSERT ALL ${into.join(" ")} SELECT 1 FROM DUAL`;
  }

  override async tableIsEmpty(schema: string, table: string): Promise<boolean> {
    return (await this.exec(`SELECT 1 FROM ${this.objectName(schema, table)} FETCH FIRST 1 ROWS ONLY`)).rows.length === 0;
  }

  override async tableExists(schema: string, table: string): Promise<boolean> {
    const out = await this.exec("SELECT 1 FROM all_tables WHERE UPPER(owner) = :sch AND UPPER(table_name) = :tbl", [schema.toUpperCase(), table.toUpperCase()]);
    return out.rows.length > 0;
  }

  override async dropTable(schema: string, table: string): Promise<void> {
    if (await this.tableExists(schema, table)) await this.exec(`DROP TABLE ${this.objectName(schema, table)}`);
    else this.run.log.debug(`Cannot drop ${schema}.${table} - no such table`);
  }

  override async columns(schema: string, table: string): Promise<string[]> {
    let cols = this.oracleColumns.get(table);
    if (!cols) {
      const out = await this.exec(
        "SELECT column_name FROM all_tab_columns WHERE UPPER(owner) = :sch AND UPPER(table_name) = :tbl ORDER BY column_id",
        [schema.toUpperCase(), table.toUpperCase()],
      );
      cols = out.rows.map((r) => String(r[0]));
      if (!cols.length) throw new LoadError(`${schema}.${table}: Cannot get columns`);
      this.oracleColumns.set(table, cols);
    }
    return cols;
  }
}
