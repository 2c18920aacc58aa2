/**
 * sql and sqli jobs end to end on the local backend: SQLite files, PostgreSQL (127.0.0.1:5432, trust) and
 * MariaDB (127.0.0.1:3306, root) for the failure paths. Output files are compared byte for byte with what
 * Python writes: for SQLite, Python's own sqlite3 reads the same database file; for PostgreSQL, the rows
 * pg8000 returns for the inserted literals are built in Python. Python's csv.writer writes both.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import mysql from "mysql2/promise";
import { sqlJob } from "../../src/handlers/sql.ts";
import { sqliJob } from "../../src/handlers/sqli.ts";
import { JobFailure, type AugmentedJob } from "../../src/core/job-contract.ts";
import { realmTable } from "../../src/core/names.ts";
import { trackSecrets } from "../../src/core/secrets.ts";
import { needs, freePort, tcpOpen } from "../support/availability.ts";
import { pythonPresent, runPython } from "../support/python.ts";
import { BUCKET, REALM, openHarness, type Harness } from "./harness.ts";

const MY_PASSWORD = "Sql-My-S3cret-8181";

const pgUp = needs("PostgreSQL on 127.0.0.1:5432", await tcpOpen(5432));
const myUp = needs("MariaDB on 127.0.0.1:3306", await tcpOpen(3306));
const pyUp = needs("python3 at /usr/bin/python3", pythonPresent());

let h: Harness;
let dbFile: string;
const payloads = `s3://${BUCKET}/payloads`;
const closedPort = freePort();

const put = (key: string, body: string) => h.ports.objects.put(`${payloads}/${key}`, body);
const conn = (item: Record<string, unknown>) => h.ports.tables.put(realmTable(REALM, "connections"), { enabled: true, ...item });

beforeAll(async () => {
  h = await openHarness();
  trackSecrets(h.ports);
  dbFile = join(h.root, "test.sqlite3");
  await conn({ conn_id: "lite", type: "sqlite3", host: dbFile, port: 0, user: "ignored" });
  await conn({ conn_id: "pg", type: "postgres", host: "127.0.0.1", port: 5432, database: "test", user: "postgres", password: "/lava/test/pgpw" });
  await conn({ conn_id: "pg-dead", type: "postgres", host: "127.0.0.1", port: closedPort, database: "test", user: "postgres", password: "/lava/test/pgpw" });
  await conn({ conn_id: "my-wrong", type: "mariadb", host: "127.0.0.1", port: 3306, database: "test", user: "lava_sql_my", password: "/lava/test/mywrong" });
  await conn({ conn_id: "hook", type: "slack", webhook_url: "http://127.0.0.1:1/x" });
  await conn({ conn_id: "off", type: "sqlite3", enabled: false, host: dbFile, port: 0, user: "x" });
  h.ports.local.putParameter("/lava/test/pgpw", "unused-by-trust", { secure: true });
  h.ports.local.putParameter("/lava/test/mywrong", MY_PASSWORD, { secure: true });
  if (myUp) {
    const c = await mysql.createConnection({ host: "127.0.0.1", port: 3306, user: "root" });
    await c.query("DROP USER IF EXISTS 'lava_sql_my'@'%'");
    await c.query("CREATE USER 'lava_sql_my'@'%' IDENTIFIED BY 'the-right-one-9'");
    await c.end();
  }
});

afterAll(async () => {
  await h?.close();
});

function job(type: "sql" | "sqli", payload: unknown, parameters: Record<string, unknown>, config: Record<string, unknown> = {}) {
  return h.jobRun({ type, payload, parameters, job_id: `test/${type}` } as Partial<AugmentedJob>, { config });
}

async function runJob(type: "sql" | "sqli", payload: unknown, parameters: Record<string, unknown>, config: Record<string, unknown> = {}) {
  const run = job(type, payload, parameters, config);
  const result = await (type === "sql" ? sqlJob : sqliJob).run(run);
  return { run, result: result as { exit_status: number; output: Record<string, string[]> } };
}

async function failure(type: "sql" | "sqli", payload: unknown, parameters: Record<string, unknown>, config: Record<string, unknown> = {}): Promise<string> {
  try {
    await runJob(type, payload, parameters, config);
  } catch (e) {
    expect(e).toBeInstanceOf(JobFailure);
    return (e as Error).message;
  }
  throw new Error("the job succeeded");
}

describe("sqli and sql on SQLite", () => {
  test("sqli: output keys per payload item, files <m>.<n>.out under s3tmp, header, CRLF", async () => {
    const { run, result } = await runJob(
      "sqli",
      ["CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, name TEXT)", "INSERT INTO t (name) VALUES ('{{ job.run_id }}')", "SELECT count(*) AS n FROM t"],
      { conn_id: "lite", header: true },
    );
    expect(result).toEqual({ exit_status: 0, output: { "0": [], "1": [], "2": [`${run.s3tmp}/2.0.out`] } });
    expect(await h.readObject(`${run.s3tmp}/2.0.out`)).toBe("n\r\n1\r\n");
    expect(h.objectKmsKey(`${run.s3tmp}/2.0.out`)).toBe("alias/lava-test-user");
    // The local copy the original leaves in the run directory.
    expect(readFileSync(join(run.runDir, "2.0.out"), "utf8")).toBe("n\r\n1\r\n");
  });

  test("sql: statements split (sqlparse rules) before rendering, empty ones keep their number, output dir", async () => {
    await put("q/query.sql", "-- a comment\nSELECT 'a;b' AS x;\n;\nSELECT name FROM t WHERE name = '{{ job.run_id }}' ; ;\nUPDATE t SET name = name;\n");
    const { run, result } = await runJob("sql", "q/query.sql", { conn_id: "lite", output: "out1" });
    expect(result.output).toEqual({ "query.sql": [`${run.s3tmp}/out1/query.sql.0.out`, `${run.s3tmp}/out1/query.sql.2.out`] });
    expect(await h.readObject(`${run.s3tmp}/out1/query.sql.0.out`)).toBe("a;b\r\n");
    // No row matched: an empty object, as the original uploads the empty file.
    expect(await h.readObject(`${run.s3tmp}/out1/query.sql.2.out`)).toBe("");
    expect(existsSync(join(run.runDir, "out1", "query.sql.2.out"))).toBe(true);
  });

  test("sql: a prefix of several files, in payload order, each its own output key", async () => {
    await put("multi/b.sql", "select 2 as b");
    await put("multi/a.sql", "select 1 as a; select 11");
    const { run, result } = await runJob("sql", "multi/", { conn_id: "lite" });
    expect(result.output).toEqual({ "a.sql": [`${run.s3tmp}/a.sql.0.out`, `${run.s3tmp}/a.sql.1.out`], "b.sql": [`${run.s3tmp}/b.sql.0.out`] });
    expect(await h.readObject(`${run.s3tmp}/a.sql.1.out`)).toBe("11\r\n");
  });

  test("raw: the text runs as one statement", async () => {
    const { run, result } = await runJob("sqli", "select 'x;y' as v;", { conn_id: "lite", raw: true });
    expect(result.output).toEqual({ "0": [`${run.s3tmp}/0.0.out`] });
    expect(await h.readObject(`${run.s3tmp}/0.0.out`)).toBe("x;y\r\n");
  });

  test("columns of one name keep their own values (a join's two ids), in batches", async () => {
    const { run } = await runJob("sqli", "select 1 as a, 2 as a, 3 as b union all select 4, 5, 6", { conn_id: "lite", header: true, batch_size: 1 });
    // Python's cursor rows are tuples: both columns named a are written, each with its value.
    expect(await h.readObject(`${run.s3tmp}/0.0.out`)).toBe("a|a|b\r\n1|2|3\r\n4|5|6\r\n");
  });

  test.if(pyUp)("every SQLite value kind and csv option set, byte for byte as Python sqlite3 + csv.writer write them", async () => {
    await runJob(
      "sqli",
      [
        "DROP TABLE IF EXISTS kinds",
        "CREATE TABLE kinds (i INTEGER, big INTEGER, r REAL, whole REAL, t TEXT, b BLOB, n TEXT)",
        `INSERT INTO kinds VALUES (1, 9007199254740993, 0.1, 2.0, 'plain', x'00ff27', NULL),
          (-5, -9223372036854775808, 1e300, -0.0, 'a|b "q" ''s''
line', x'', NULL), (0, 0, 1.5e-7, 1e16, 'ünïcødé ✓', NULL, 'x')`,
      ],
      { conn_id: "lite" },
    );
    const optionSets = [
      { escapechar: "\\" },
      { header: true, quoting: "all", escapechar: "~" },
      { quoting: "nonnumeric", delimiter: ",", doublequote: true },
      { quoting: "none", escapechar: "\\" },
      { dialect: "unix", quotechar: "'", doublequote: true, batch_size: 2 },
    ];
    const ours: string[] = [];
    for (const o of optionSets) {
      const { run } = await runJob("sqli", "SELECT * FROM kinds ORDER BY i", { conn_id: "lite", ...o });
      ours.push(await h.readObject(`${run.s3tmp}/0.0.out`));
    }
    const expected = runPython(
      `
import csv, io, json, sqlite3, sys
d = json.load(sys.stdin)
out = []
for o in d['options']:
    c = sqlite3.connect(d['db'])
    cur = c.cursor()
    cur.execute('SELECT * FROM kinds ORDER BY i')
    buf = io.StringIO(newline='')
    w = csv.writer(buf, delimiter=o.get('delimiter', '|'), doublequote=o.get('doublequote', False),
                   escapechar=o.get('escapechar'), quotechar=o.get('quotechar', '"'),
                   quoting=getattr(csv, 'QUOTE_' + o.get('quoting', 'minimal').upper()), dialect=o.get('dialect', 'excel'))
    if o.get('header'):
        w.writerow(col[0] for col in cur.description)
    w.writerows(cur.fetchall())
    out.append(buf.getvalue())
print(json.dumps(out))
`,
      { db: dbFile, options: optionSets },
    ) as string[];
    expect(ours).toEqual(expected);
  });

  test("doublequote false with a quote in the data and no escapechar: Python's error, naming the statement", async () => {
    const msg = await failure("sqli", ["select 1", `select 'say "hi"' as v`], { conn_id: "lite" });
    expect(msg).toBe("payload 1 statement 0: need to escape, but no escapechar set");
  });
});

describe("sql and sqli on PostgreSQL", () => {
  test.if(pgUp && pyUp)("pg8000's values (numerics beyond float, zoned timestamps, bytea, json, NULL) written as Python writes them", async () => {
    const { run } = await runJob(
      "sqli",
      [
        "DROP TABLE IF EXISTS lava_sql_kinds",
        `CREATE TABLE lava_sql_kinds (id int, big bigint, num numeric, tiny numeric, f float8, r real, ok boolean, t text,
           ts timestamp, tz timestamptz, d date, tm time, b bytea, j jsonb, u uuid, nothing text)`,
        `INSERT INTO lava_sql_kinds VALUES
          (1, 9223372036854775807, 12345678901234567890.123456789, 0.0000001, 0.1, 1.5, true, 'a|b "q" ''s''
line', '2024-01-02 03:04:05.5', '2024-06-30 23:59:59.123456+10', '2024-02-29', '12:00:00.25', '\\x00ff27', '{"b": [1, 2.5, null, true], "a": "x"}',
           'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', NULL),
          (2, -1, 0, 1.50, 1e20, -0.25, false, 'ünïcødé ✓', '2024-01-02 03:04:05', '2024-01-01 00:00:00+00', '1999-12-31', '00:00:00', '\\x', '[]', NULL, NULL)`,
        "SELECT * FROM lava_sql_kinds ORDER BY id",
      ],
      { conn_id: "pg", header: true, quoting: "nonnumeric", doublequote: true },
    );
    const ours = await h.readObject(`${run.s3tmp}/3.0.out`);
    const expected = runPython(
      `
import csv, io, json, sys, uuid
from datetime import datetime, date, time, timezone, timedelta
from decimal import Decimal
rows = [
  (1, 9223372036854775807, Decimal('12345678901234567890.123456789'), Decimal('0.0000001'), 0.1, 1.5, True, 'a|b "q" \\'s\\'\\nline',
   datetime(2024, 1, 2, 3, 4, 5, 500000), datetime(2024, 6, 30, 13, 59, 59, 123456, tzinfo=timezone.utc), date(2024, 2, 29),
   time(12, 0, 0, 250000), b'\\x00\\xff\\x27', {'a': 'x', 'b': [1, 2.5, None, True]}, uuid.UUID('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'), None),
  (2, -1, Decimal('0'), Decimal('1.50'), 1e20, -0.25, False, 'ünïcødé ✓', datetime(2024, 1, 2, 3, 4, 5),
   datetime(2024, 1, 1, tzinfo=timezone.utc), date(1999, 12, 31), time(0, 0), b'', [], None, None),
]
cols = ['id', 'big', 'num', 'tiny', 'f', 'r', 'ok', 't', 'ts', 'tz', 'd', 'tm', 'b', 'j', 'u', 'nothing']
buf = io.StringIO(newline='')
w = csv.writer(buf, delimiter='|', doublequote=True, escapechar=None, quotechar='"', quoting=csv.QUOTE_NONNUMERIC, dialect='excel')
w.writerow(cols)
w.writerows(rows)
print(json.dumps(buf.getvalue()))
`,
      null,
    );
    expect(ours).toBe(expected as string);
  });

  test.if(pgUp)("an empty result writes the header only; rows fetched in batches", async () => {
    const { run } = await runJob("sqli", ["select g from generate_series(1, 5) g", "select 1 as a where false"], { conn_id: "pg", header: true, batch_size: 2 });
    expect(await h.readObject(`${run.s3tmp}/0.0.out`)).toBe("g\r\n1\r\n2\r\n3\r\n4\r\n5\r\n");
    expect(await h.readObject(`${run.s3tmp}/1.0.out`)).toBe("a\r\n");
  });

  test.if(pgUp)("transaction: a failure rolls back what the job did", async () => {
    const msg = await failure("sqli", ["DROP TABLE IF EXISTS lava_sql_tx", "CREATE TABLE lava_sql_tx (a int)", "INSERT INTO lava_sql_tx VALUES (1)", "SELECT * FROM lava_sql_nosuch"], {
      conn_id: "pg",
      transaction: true,
    });
    expect(msg).toBe('payload 3 statement 0: relation "lava_sql_nosuch" does not exist');
    const sql = postgres({ host: "127.0.0.1", port: 5432, database: "test", username: "postgres", onnotice: () => {} });
    try {
      expect((await sql`SELECT to_regclass('lava_sql_tx') AS t`)[0]!.t).toBeNull();
    } finally {
      await sql.end();
    }
  });

  test.if(pgUp)("transaction: committed at the end", async () => {
    await runJob("sqli", ["DROP TABLE IF EXISTS lava_sql_tx2", "CREATE TABLE lava_sql_tx2 (a int)", "INSERT INTO lava_sql_tx2 VALUES (7)"], { conn_id: "pg", transaction: true });
    const { run } = await runJob("sqli", "SELECT a FROM lava_sql_tx2", { conn_id: "pg" });
    expect(await h.readObject(`${run.s3tmp}/0.0.out`)).toBe("7\r\n");
  });

  test.if(pgUp)("bad SQL: the statement number and the server's message", async () => {
    await put("bad/bad.sql", "select 1;\nselec 2;\n");
    expect(await failure("sql", "bad/bad.sql", { conn_id: "pg" })).toBe('bad.sql statement 1: syntax error at or near "selec"');
  });
});

describe("bad input and faults: a clear failure naming what was wrong", () => {
  test("unknown connection", async () => {
    expect(await failure("sqli", "select 1", { conn_id: "nosuch" })).toBe("nosuch: No such connection");
  });
  test("a connection that is not a database", async () => {
    expect(await failure("sqli", "select 1", { conn_id: "hook" })).toStartWith('Connection hook: Must be a database connection (');
  });
  test("a disabled connection", async () => {
    expect(await failure("sqli", "select 1", { conn_id: "off" })).toBe("Connection off: Not enabled");
  });
  test("missing table (SQLite)", async () => {
    expect(await failure("sqli", "select * from nosuch", { conn_id: "lite" })).toBe("payload 0 statement 0: no such table: nosuch");
  });
  test.if(pgUp)("unreachable host: the connection, host and port", async () => {
    const msg = await failure("sqli", "select 1", { conn_id: "pg-dead" });
    expect(msg).toStartWith(`Connection pg-dead: Cannot connect to postgres database at 127.0.0.1:${closedPort}:`);
  });
  test.if(myUp)("wrong password: the server's refusal, never the password", async () => {
    const msg = await failure("sqli", "select 1", { conn_id: "my-wrong" });
    expect(msg).toStartWith("Connection my-wrong: Cannot connect to mariadb database at 127.0.0.1:3306: Access denied for user 'lava_sql_my'");
    expect(msg).not.toContain(MY_PASSWORD);
  });
  test("payload over SQL_MAX_PAYLOAD_SIZE", async () => {
    await put("big/big.sql", `select '${"x".repeat(300)}'`);
    const msg = await failure("sql", "big/big.sql", { conn_id: "lite" }, { SQL_MAX_PAYLOAD_SIZE: "200" });
    expect(msg).toBe(`${payloads}/big/big.sql: Payload size 309 exceeds maximum of 200`);
  });
  test("parameters: required conn_id, unknown ones, quoting, output, batch_size, sqli payload", async () => {
    expect(await failure("sqli", "select 1", {})).toStartWith("Bad job parameters: ");
    expect(await failure("sqli", "select 1", { conn_id: "lite", bogus: 1 })).toStartWith("Bad job parameters: ");
    expect(await failure("sqli", "select 1", { conn_id: "lite", quoting: "sometimes" })).toBe("Bad quoting style: SOMETIMES");
    expect(await failure("sqli", "select 1", { conn_id: "lite", output: "../up" })).toBe("Bad output parameter: Must be alphanumeric");
    expect(await failure("sqli", "select 1", { conn_id: "lite", batch_size: 0 })).toBe("Bad batch_size: Must be >= 1");
    expect(await failure("sqli", { a: 1 }, { conn_id: "lite" })).toBe("Bad payload: must be string or list of strings");
    expect(await failure("sqli", "select 1", { conn_id: "lite", delimiter: "||" })).toBe('payload 0 statement 0: "delimiter" must be a 1-character string');
  });
});
