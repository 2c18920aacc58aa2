/**
 * sql/sqli output from MariaDB (127.0.0.1:3306, root without password, db `test`) compared byte for byte
 * with what the original writes: this machine's python3 with PyMySQL (Debian python3-pymysql) reads the
 * same table with its default converters and Python's csv.writer writes the rows.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import mysql from "mysql2/promise";
import { sqliJob } from "../../src/handlers/sqli.ts";
import type { AugmentedJob } from "../../src/core/job-contract.ts";
import { realmTable } from "../../src/core/names.ts";
import { needs, tcpOpen } from "../support/availability.ts";
import { PYTHON, pythonPresent } from "../support/python.ts";
import { openHarness, type Harness } from "./harness.ts";

const USER = "lava_sql_myval";
const PASSWORD = "Sql-MyVal-S3cret-4242";
const TABLE = "lava_sql_my_kinds";

const pymysql = pythonPresent() && Bun.spawnSync([PYTHON, "-c", "import pymysql"]).exitCode === 0;
const ready = needs("MariaDB on 127.0.0.1:3306 and python3 with PyMySQL", (await tcpOpen(3306)) && pymysql);

let h: Harness;

beforeAll(async () => {
  h = await openHarness();
  await h.ports.tables.put(realmTable("test", "connections"), {
    conn_id: "my",
    enabled: true,
    type: "mariadb",
    host: "127.0.0.1",
    port: 3306,
    database: "test",
    user: USER,
    password: "/lava/test/myval",
  });
  h.ports.local.putParameter("/lava/test/myval", PASSWORD, { secure: true });
  if (!ready) return;
  const c = await mysql.createConnection({ host: "127.0.0.1", port: 3306, user: "root", database: "test" });
  try {
    await c.query(`DROP USER IF EXISTS '${USER}'@'%'`);
    await c.query(`CREATE USER '${USER}'@'%' IDENTIFIED BY '${PASSWORD}'`);
    await c.query(`GRANT ALL ON test.* TO '${USER}'@'%'`);
    await c.query(`DROP TABLE IF EXISTS ${TABLE}`);
    await c.query(`CREATE TABLE ${TABLE} (
      id INT, tiny TINYINT, zf INT(5) ZEROFILL, big BIGINT, ubig BIGINT UNSIGNED, yr YEAR,
      dec1 DECIMAL(30,9), dec2 DECIMAL(12,10), f FLOAT, d DOUBLE,
      dt DATETIME, dt6 DATETIME(6), dt3 DATETIME(3), ts TIMESTAMP(6) NULL, dd DATE, tm TIME, tm6 TIME(6),
      t VARCHAR(50), lt TEXT, ch CHAR(3), bin VARBINARY(8), bl BLOB, bt BIT(12), j JSON, en ENUM('a','b'), nothing VARCHAR(5))`);
    await c.query("SET SESSION sql_mode = ''");
    await c.query(`INSERT INTO ${TABLE} VALUES
      (1, -128, 42, 9223372036854775807, 18446744073709551615, 2024,
       12345678901234567890.123456789, 0.0000001, 0.1, 1e20,
       '2024-01-02 03:04:05', '2024-06-30 23:59:59.123456', '2024-01-02 03:04:05.500', '2024-02-29 12:00:00.000001', '2024-02-29',
       '-01:00:00', '838:59:59.250000',
       'a|b "q" ''s''\nline', 'ünïcødé ✓', 'x', X'00FF27225C0A', X'', b'101', '{"b": [1, 2.5, null, true], "a": "x"}', 'b', NULL),
      (2, 0, 0, -9007199254740993, 0, 0,
       0, -1.5, -0.25, 3.141592653589793,
       '0000-00-00 00:00:00', '1000-01-01 00:00:00.000000', '9999-12-31 23:59:59.999', NULL, '0000-00-00',
       '25:06:17', '00:00:00',
       '', '', '', X'41', 'plain', b'111111111111', '[]', 'a', NULL)`);
  } finally {
    await c.end();
  }
});

afterAll(async () => {
  await h?.close();
});

/** The original's output: PyMySQL's rows of the same query through csv.writer with the job's parameters. */
function pymysqlCsv(sql: string, header: boolean, quoting: string, lineterminator: "excel" | "unix"): string {
  const script = `
import csv, io, json, sys, pymysql
conn = pymysql.connect(host='127.0.0.1', port=3306, user='root', password='', database='test', autocommit=True)
cur = conn.cursor()
cur.execute(sys.argv[1])
buf = io.StringIO(newline='')
w = csv.writer(buf, delimiter='|', doublequote=True, escapechar=None, quotechar='"', quoting=getattr(csv, 'QUOTE_' + sys.argv[3]), dialect=sys.argv[4])
if sys.argv[2] == '1':
    w.writerow(col[0] for col in cur.description)
w.writerows(cur.fetchall())
sys.stdout.write(json.dumps(buf.getvalue()))
`;
  const r = Bun.spawnSync([PYTHON, "-c", script, sql, header ? "1" : "0", quoting, lineterminator]);
  if (r.exitCode !== 0) throw new Error(`python failed: ${r.stderr.toString()}`);
  return JSON.parse(r.stdout.toString()) as string;
}

async function ours(sql: string, parameters: Record<string, unknown>): Promise<string> {
  const run = h.jobRun({ type: "sqli", payload: sql, parameters: { conn_id: "my", ...parameters }, job_id: "test/sqli" } as Partial<AugmentedJob>);
  await sqliJob.run(run);
  return h.readObject(`${run.s3tmp}/0.0.out`);
}

describe("sql output from MariaDB equals PyMySQL's through Python's csv", () => {
  const select = `SELECT * FROM ${TABLE} ORDER BY id`;

  test.if(ready)("every kind of value, QUOTE_NONNUMERIC with header", async () => {
    expect(await ours(select, { header: true, quoting: "nonnumeric", doublequote: true })).toBe(pymysqlCsv(select, true, "NONNUMERIC", "excel"));
  });

  test.if(ready)("QUOTE_MINIMAL, batches of one, unix line ends", async () => {
    expect(await ours(select, { quoting: "minimal", doublequote: true, batch_size: 1, dialect: "unix" })).toBe(pymysqlCsv(select, false, "MINIMAL", "unix"));
  });

  test.if(ready)("expressions: JSON_ARRAY, NULL literal, negative TIME, tiny DECIMAL, binary strings", async () => {
    const sql =
      "SELECT JSON_ARRAY(1, 'x') AS j, NULL AS n, TIME('-838:59:59') AS t, CAST('-0.00000012' AS DECIMAL(20,10)) AS d, " +
      "BINARY 'ab' AS b, CAST(1 AS SIGNED) * 1.5 AS x, CONVERT('é' USING latin1) AS l, 7 DIV 2 AS i";
    expect(await ours(sql, { header: true, quoting: "nonnumeric", doublequote: true })).toBe(pymysqlCsv(sql, true, "NONNUMERIC", "excel"));
  });
});
