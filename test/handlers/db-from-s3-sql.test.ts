/**
 * db_from_s3 loaders for databases that do not run here, checked as the statements they send: RDS/Aurora
 * PostgreSQL (`aws_s3.table_import_from_s3`), Aurora MySQL (`LOAD DATA FROM S3`), Oracle and SQL Server
 * (batched INSERTs). A recording session answers the catalogue queries; objects are on the local backend.
 * (Their table steps run on real servers in db-from-s3.test.ts where a stand-in exists.)
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { SqlResult, SqlSession } from "../../src/ports/index.ts";
import type { LoadRequest } from "../../src/handlers/loaders/base.ts";
import { PostgresRdsLoader } from "../../src/handlers/loaders/postgres-rds.ts";
import { MysqlAuroraLoader } from "../../src/handlers/loaders/mysql-aurora.ts";
import { OracleLoader } from "../../src/handlers/loaders/oracle.ts";
import { MssqlLoader } from "../../src/handlers/loaders/mssql.ts";
import { BUCKET, openHarness, type Harness } from "./harness.ts";

let h: Harness;
beforeAll(async () => {
  h = await openHarness();
});
afterAll(async () => {
  await h?.close();
});

function recorder(answer: (sql: string) => SqlResult = () => ({ columns: [], rows: [] })) {
  const sent: { sql: string; params?: unknown[] }[] = [];
  const session: SqlSession = {
    async query(sql, params) {
      sent.push(params ? { sql, params } : { sql });
      return answer(sql);
    },
    async *cursor() {
      throw new Error("not used");
    },
    async close() {},
  };
  return { sent, session };
}

const request = (extra: Partial<LoadRequest>): LoadRequest => ({
  schema: "s",
  table: "t",
  bucket: BUCKET,
  key: "in/t.csv",
  region: "ap-southeast-2",
  args: undefined,
  columns: undefined,
  s3Keys: undefined,
  iamRole: undefined,
  minSize: 0,
  ...extra,
});

describe("postgres-rds / postgres-aurora: aws_s3.table_import_from_s3", () => {
  test("one import per manifest entry with the keys; quotes doubled; FORCE_NULL * expanded; GZIP sets Content-Encoding", async () => {
    await h.ports.objects.put(`s3://${BUCKET}/in/a.csv`, "1\n");
    await h.ports.objects.put(`s3://${BUCKET}/in/m.json`, JSON.stringify({ entries: [{ url: `s3://${BUCKET}/in/a.csv` }] }));
    const { sent, session } = recorder((sql) =>
      sql.includes("information_schema.columns") ? { columns: ["column_name"], rows: [["ID"], ["v"]] } : { columns: ["x"], rows: [["1 rows imported"]] },
    );
    const loader = new PostgresRdsLoader(h.jobRun({}), session, false);
    const events = await loader.copyFromS3(
      request({
        key: "in/m.json",
        args: ["MANIFEST", "GZIP", "FORMAT csv", "NULL 'x'", "FORCE_NULL *"],
        columns: ["ID int", "v text"],
        s3Keys: { accessKeyId: "AKID", secretAccessKey: "se'cret", sessionToken: "tok" },
      }),
    );
    const imp = sent.find((s) => s.sql.includes("table_import_from_s3"))!.sql;
    expect(imp).toBe(`
                SELECT aws_s3.table_import_from_s3(
                    '"s"."t"',
                    '"id","v"',
                    '(FORMAT csv, NULL ''x'', FORCE_NULL ("id", "v"))',
                    '${BUCKET}',
                    'in/a.csv',
                    'ap-southeast-2',
                    'AKID',
                    'se''cret',
                    'tok'
                )
                `);
    expect(events[0]).toBe(`Reading manifest s3://${BUCKET}/in/m.json`);
    expect(events.some((e) => e.includes("se'cret") || e.includes("AKID"))).toBe(false);
    expect(events.slice(-3)).toEqual([`Copying s3://${BUCKET}/in/a.csv`, "Copy complete", "1 rows imported"]);
    await expect(loader.copyFromS3(request({ args: ["HEADER", "IGNOREHEADER 1"] }))).rejects.toThrow("Invalid COPY arguments: IGNOREHEADER");
  });
});

describe("mysql-aurora: LOAD DATA FROM S3", () => {
  test("the pseudo-options become MySQL clauses; usage errors", async () => {
    const { sent, session } = recorder(() => ({ columns: [], rows: [], rowCount: 3 }));
    const loader = new MysqlAuroraLoader(h.jobRun({}), session, false);
    const events = await loader.copyFromS3(
      request({ args: ["PREFIX", "REPLACE", "DELIMITER '|'", "QUOTE OPTIONAL '\"'", "ESCAPE '\\\\'", "ENCODING utf8mb4", "TERMINATOR DOS", "HEADER 2"], columns: ["a int", "b text"] }),
    );
    expect(sent.map((s) => s.sql)).toEqual([
      `LOAD DATA FROM S3 PREFIX 's3-ap-southeast-2://${BUCKET}/in/t.csv' REPLACE INTO TABLE \`s\`.\`t\` CHARACTER SET utf8mb4 COLUMNS TERMINATED BY '|' OPTIONALLY ENCLOSED BY '"' ESCAPED BY '\\\\' LINES TERMINATED BY '\\r\\n' IGNORE 2 LINES (\`a\`,\`b\`)`,
    ]);
    expect(events.slice(-2)).toEqual(["Copy to s.t complete", "3 records processed"]);
    await expect(loader.copyFromS3(request({ args: ["FILE", "MANIFEST"] }))).rejects.toThrow("Only one of FILE | PREFIX | MANIFEST allowed");
    await expect(loader.copyFromS3(request({ args: ["QUOTE sometimes"] }))).rejects.toThrow("Usage: QUOTE [OPTIONAL] 'char'");
    await expect(loader.copyFromS3(request({ args: ["GZIP"] }))).rejects.toThrow("Invalid COPY arguments: GZIP");
  });
});

describe("oracle and mssql: batched INSERTs", () => {
  test("SQL Server: [] names, @p parameters, rows batched within 2000 parameters, BEGIN TRANSACTION", async () => {
    const rows = Array.from({ length: 1001 }, (_, i) => `${i},"v ${i}"\n`).join("");
    await h.ports.objects.put(`s3://${BUCKET}/in/many.csv`, rows);
    const { sent, session } = recorder();
    const loader = new MssqlLoader(h.jobRun({}), session, false);
    await loader.begin();
    const events = await loader.copyFromS3(request({ key: "in/many.csv", columns: ["id int", "v nvarchar(20)"] }));
    expect(sent[0]!.sql).toBe("BEGIN TRANSACTION");
    const inserts = sent.slice(1);
    expect(inserts.map((s) => s.params!.length)).toEqual([2000, 2]);
    expect(inserts[1]!.sql).toBe("INSERT INTO [s].[t]([id],[v]) VALUES (@p1,@p2)");
    expect(inserts[1]!.params).toEqual(["1000", "v 1000"]);
    expect(inserts[0]!.sql).toStartWith("INSERT INTO [s].[t]([id],[v]) VALUES (@p1,@p2),(@p3,@p4),");
    expect(events.at(-1)).toBe(`Inserted 1001 rows from s3://${BUCKET}/in/many.csv`);
    expect(await loader.tableIsEmpty("s", "t")).toBe(true);
    expect(sent.at(-1)!.sql).toBe("SELECT TOP 1 1 FROM [s].[t]");
  });

  test("Oracle: unquoted checked names, INSERT ALL with :v binds, columns from all_tab_columns, no BEGIN", async () => {
    await h.ports.objects.put(`s3://${BUCKET}/in/o.csv`, "h1;h2\n1;'a;b'\n");
    const { sent, session } = recorder((sql) => (sql.includes("all_tab_columns") ? { columns: ["COLUMN_NAME"], rows: [["ID"], ["NAME"]] } : { columns: [], rows: [] }));
    const loader = new OracleLoader(h.jobRun({}), session, false);
    await loader.begin();
    const events = await loader.copyFromS3(request({ schema: "scott", key: "in/o.csv", args: ["HEADER", "DELIMITER ';'", "QUOTECHAR '''"] }));
    expect(sent.map((s) => s.sql)).toEqual([
      "SELECT column_name FROM all_tab_columns WHERE UPPER(owner) = :sch AND UPPER(table_name) = :tbl ORDER BY column_id",
      "INSERT ALL INTO scott.t(ID,NAME) VALUES (:v1,:v2) SELECT 1 FROM DUAL",
    ]);
    expect(sent[1]!.params).toEqual(["1", "a;b"]);
    expect(events).toContain("Running INSERTs for scott.t");
    expect(() => loader.objectName("bad name")).toThrow("Bad database object name: bad name");
  });
});
