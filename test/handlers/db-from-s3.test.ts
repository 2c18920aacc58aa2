/**
 * db_from_s3 end to end on the local backend: SQLite files, PostgreSQL (127.0.0.1:5432, trust, db test;
 * client-side COPY) and MariaDB (127.0.0.1:3306, root; the mysql-aurora loader's table steps, whose
 * `LOAD DATA FROM S3` MariaDB cannot run). Every mode, manifests, gzip, min_size, skip_missing, the regex
 * rule, and a bad object leaving the table as it was. Loaders for databases not running here (Redshift,
 * RDS PostgreSQL, Aurora MySQL, Oracle, SQL Server) are checked as the SQL they send (test/handlers/
 * db-from-s3-sql.test.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import postgres from "postgres";
import mysql from "mysql2/promise";
import { dbFromS3Job, nameFromKey, stripExtensions } from "../../src/handlers/db_from_s3.ts";
import { JobFailure, type AugmentedJob } from "../../src/core/job-contract.ts";
import { realmTable } from "../../src/core/names.ts";
import { needs, tcpOpen } from "../support/availability.ts";
import { BUCKET, REALM, openHarness, type Harness } from "./harness.ts";

const pgUp = needs("PostgreSQL on 127.0.0.1:5432", await tcpOpen(5432));
const myUp = needs("MariaDB on 127.0.0.1:3306", await tcpOpen(3306));

let h: Harness;
let dbFile: string;
const data = `s3://${BUCKET}/data`;
const put = (key: string, body: string | Uint8Array) => h.ports.objects.put(`${data}/${key}`, body);
const conn = (item: Record<string, unknown>) => h.ports.tables.put(realmTable(REALM, "connections"), { enabled: true, ...item });
let pg: postgres.Sql;

beforeAll(async () => {
  h = await openHarness();
  dbFile = join(h.root, "load.sqlite3");
  await conn({ conn_id: "lite", type: "sqlite3", host: dbFile, port: 0, user: "ignored" });
  await conn({ conn_id: "pg", type: "postgres", host: "127.0.0.1", port: 5432, database: "test", user: "postgres", password: "/lava/test/pgpw" });
  await conn({ conn_id: "pg-rds", type: "postgres-rds", host: "127.0.0.1", port: 5432, database: "test", user: "postgres", password: "/lava/test/pgpw" });
  await conn({ conn_id: "my-aurora", type: "mysql-aurora", host: "127.0.0.1", port: 3306, database: "test", user: "root", password: "/lava/test/empty" });
  await conn({ conn_id: "pgsql", type: "postgresql", host: "127.0.0.1", port: 5432, database: "test", user: "postgres", password: "/lava/test/pgpw" });
  h.ports.local.putParameter("/lava/test/pgpw", "unused-by-trust", { secure: true });
  h.ports.local.putParameter("/lava/test/empty", "", { secure: true });
  if (pgUp) {
    pg = postgres({ host: "127.0.0.1", port: 5432, database: "test", username: "postgres", max: 1, onnotice: () => {} });
    await pg.unsafe("DROP SCHEMA IF EXISTS dbs3 CASCADE; CREATE SCHEMA dbs3").simple();
  }
});

afterAll(async () => {
  await pg?.end();
  await h?.close();
});

function job(parameters: Record<string, unknown>, config: Record<string, unknown> = {}) {
  return h.jobRun({ type: "db_from_s3", payload: "--", parameters, job_id: "test/db_from_s3" } as Partial<AugmentedJob>, { config });
}

async function load(parameters: Record<string, unknown>, config: Record<string, unknown> = {}) {
  const run = job(parameters, config);
  return { run, result: (await dbFromS3Job.run(run)) as { exit_status: number; bucket: string; key: string; events: string[] } };
}

async function failure(parameters: Record<string, unknown>): Promise<JobFailure> {
  try {
    await load(parameters);
  } catch (e) {
    expect(e).toBeInstanceOf(JobFailure);
    return e as JobFailure;
  }
  throw new Error("the job succeeded");
}

function lite(sql: string): unknown[][] {
  const db = new Database(dbFile);
  try {
    return db.query(sql).values() as unknown[][];
  } finally {
    db.close();
  }
}

const base = (extra: Record<string, unknown>) => ({ db_conn_id: "lite", bucket: BUCKET, schema: "main", ...extra });

describe("names from the key", () => {
  test("every extension is removed before the regex is searched; the group is lower-cased", () => {
    expect(stripExtensions("a/b/c.x.y")).toBe("a/b/c");
    expect(stripExtensions("a.d/.hidden.csv")).toBe("a.d/.hidden");
    expect(stripExtensions("plain")).toBe("plain");
    expect(nameFromKey("table", "/([^/]+)$", "in/Sales_2024.csv.gz")).toBe("sales_2024");
    expect(nameFromKey("schema", "/^(?P<s>\\w+)/", "Raw/t.csv")).toBe("raw");
    expect(nameFromKey("table", "MixedCase", "k")).toBe("mixedcase");
    expect(() => nameFromKey("table", "/^zz(.*)", "in/x.csv")).toThrow("Object name in/x does not match table regex");
    expect(() => nameFromKey("table", "/x", "in/x.csv")).toThrow("Regex for table does not contain a capture group");
  });
});

describe("db_from_s3 into SQLite", () => {
  test("append creates the table from columns, HEADER skips a line; the events are the original's", async () => {
    await put("people.csv", 'id,name\n1,"Smith, J"\n2,"say ""hi"""\n');
    const { result } = await load(base({ key: "data/people.csv", table: "People", mode: "append", columns: ["id INTEGER", "name TEXT"], args: ["HEADER"] }));
    expect(result).toEqual({
      exit_status: 0,
      bucket: BUCKET,
      key: "data/people.csv",
      events: [
        'Creating table "main"."people"',
        'Created table "main"."people"',
        'Running INSERTs for "main"."people"',
        `Inserting data from s3://${BUCKET}/data/people.csv`,
        `Inserted 2 rows from s3://${BUCKET}/data/people.csv`,
        'Commit "main"."people"',
      ],
    });
    expect(lite("SELECT id, name FROM people ORDER BY id")).toEqual([
      [1, "Smith, J"],
      [2, 'say "hi"'],
    ]);
    await load(base({ key: "data/people.csv", table: "people", mode: "append", args: ["HEADER"] }));
    expect(lite("SELECT count(*) FROM people")).toEqual([[4]]);
  });

  test("truncate, delete and drop replace the rows; abort refuses an existing table", async () => {
    await put("two.csv", "7,seven\n8,eight\n");
    for (const mode of ["truncate", "delete", "drop"]) {
      const { result } = await load(base({ key: "data/two.csv", table: "people", mode, columns: ["id INTEGER", "name TEXT"] }));
      expect(lite("SELECT id FROM people ORDER BY id")).toEqual([[7], [8]]);
      const verb = { truncate: "Truncat", delete: "Delet", drop: "Dropp" }[mode]!;
      expect(result.events.slice(0, 2)).toEqual([`${verb}ing${mode === "delete" ? " from" : ""} table "main"."people"`, `${verb}ed${mode === "delete" ? " from" : ""} table "main"."people"`]);
    }
    const f = await failure(base({ key: "data/two.csv", table: "people", mode: "abort" }));
    expect(f.message).toBe('Copy failed: Table "main"."people" already exists');
    expect(f.data).toMatchObject({ exit_status: 1, error: 'Table "main"."people" already exists', bucket: BUCKET, key: "data/two.csv" });
    const { result } = await load(base({ key: "data/two.csv", table: "fresh", mode: "abort", columns: ["id INTEGER", "name TEXT"] }));
    expect(result.events[0]).toBe('Creating table "main"."fresh"');
  });

  test("a bad object leaves the table as it was, in every mode (SQLite DDL is transactional)", async () => {
    await put("bad.csv", "1,one\n2,two,extra\n");
    for (const mode of ["truncate", "delete", "drop", "append"]) {
      const f = await failure(base({ key: "data/bad.csv", table: "people", mode, columns: ["id INTEGER", "name TEXT"] }));
      expect(f.message).toBe(`Copy failed: s3://${BUCKET}/data/bad.csv: Expected 2 columns but got 3`);
      expect(lite("SELECT id FROM people ORDER BY id")).toEqual([[7], [8]]);
    }
    // Not csv text at all: a UTF-8 error, also before anything changed.
    await put("binary.csv", new Uint8Array([0x31, 0x2c, 0xff, 0xfe, 0x0a]));
    const f = await failure(base({ key: "data/binary.csv", table: "people", mode: "truncate" }));
    expect(f.message).toMatch(/^Copy failed: s3:\/\/lava-test\/data\/binary.csv: /);
    expect(lite("SELECT id FROM people ORDER BY id")).toEqual([[7], [8]]);
  });

  test("missing object: a download failure, or with skip_missing a success that loads nothing", async () => {
    const f = await failure(base({ key: "data/nope.csv", table: "people", mode: "truncate" }));
    expect(f.message).toStartWith(`Copy failed: Download failed: s3://${BUCKET}/data/nope.csv - `);
    expect(lite("SELECT count(*) FROM people")).toEqual([[2]]);
    const { result } = await load(base({ key: "data/nope.csv", table: "people", mode: "truncate", skip_missing: "yes" }));
    expect(result).toEqual({ exit_status: 0, bucket: BUCKET, key: "data/nope.csv", events: ["Skipped missing object"] });
    expect(lite("SELECT count(*) FROM people")).toEqual([[2]]);
  });

  test("min_size skips runts; a manifest of gzipped objects loads each; csv options as Python reads them", async () => {
    await put("runt.csv", "1,x\n");
    const runt = await load(base({ key: "data/runt.csv", table: "people", mode: "append", min_size: "1K" }));
    expect(runt.result.events).toContain(`Skipping runt file s3://${BUCKET}/data/runt.csv`);
    expect(lite("SELECT count(*) FROM people")).toEqual([[2]]);

    await put("m/1.csv.gz", gzipSync("10|'a|b'\n11|'it''s'\n"));
    await put("m/2.csv.gz", gzipSync("12|plain\n"));
    await put("m/manifest", JSON.stringify({ entries: [{ url: `s3://${BUCKET}/data/m/1.csv.gz` }, { url: `s3://${BUCKET}/data/m/2.csv.gz`, mandatory: true }] }));
    const { result } = await load(base({ key: "data/m/manifest", table: "people", mode: "truncate", args: ["MANIFEST", "GZIP", "DELIMITER '|'", "QUOTECHAR '''"] }));
    expect(result.events).toContain(`Reading manifest s3://${BUCKET}/data/m/manifest`);
    expect(result.events).toContain(`Inserted 2 rows from s3://${BUCKET}/data/m/1.csv.gz`);
    expect(lite("SELECT id, name FROM people ORDER BY id")).toEqual([
      [10, "a|b"],
      [11, "it's"],
      [12, "plain"],
    ]);
  });

  test("switch alternates between _a and _b: load the empty one, empty the other", async () => {
    await put("s1.csv", "1,first\n");
    await put("s2.csv", "2,second\n");
    const cols = ["id INTEGER", "name TEXT"];
    const one = await load(base({ key: "data/s1.csv", table: "sw", mode: "switch", columns: cols }));
    expect(one.result.events).toEqual([
      "Creating table main.sw_a",
      "Created table main.sw_a",
      "Table main.sw_a is empty - setting as load target",
      "Creating table main.sw_b",
      "Created table main.sw_b",
      'Running INSERTs for "main"."sw_a"',
      `Inserting data from s3://${BUCKET}/data/s1.csv`,
      `Inserted 1 rows from s3://${BUCKET}/data/s1.csv`,
      "Deleting from table main.sw_b",
      "Deleted from table main.sw_b",
      "Commit main.sw",
      "Truncating table main.sw_b",
      "Truncated table main.sw_b",
    ]);
    await load(base({ key: "data/s2.csv", table: "sw", mode: "switch" }));
    expect([lite("SELECT * FROM sw_a"), lite("SELECT * FROM sw_b")]).toEqual([[], [[2, "second"]]]);
    // Neither empty: refused before loading.
    lite("INSERT INTO sw_a VALUES (9, 'x')");
    const f = await failure(base({ key: "data/s1.csv", table: "sw", mode: "switch" }));
    expect(f.message).toBe("Copy failed: Neither A nor B switch table is empty for main.sw");
  });

  test("schema and table from the key by regex, rendered with bucket and key", async () => {
    await put("in/Orders.csv.gz", gzipSync("5,five\n"));
    const { result } = await load(base({ key: "data/in/Orders.csv.gz", table: "/in/([^/]+)$", mode: "drop", columns: ["id INTEGER", "name TEXT"], args: ["GZIP"] }));
    expect(result.events).toContain('Created table "main"."orders"');
    expect(lite("SELECT * FROM orders")).toEqual([[5, "five"]]);
  });

  test("parameter and connection errors", async () => {
    expect((await failure(base({ key: "k", table: "t", mode: "replace" }))).message).toBe("Bad mode: replace");
    expect((await failure(base({ key: "k", table: "t", mode: "append", min_size: "lots" }))).message).toStartWith("Bad min_size: ");
    expect((await failure(base({ key: "k", table: "t", mode: "append", colour: 1 }))).message).toStartWith("Bad job parameters: ");
    expect((await failure({ db_conn_id: "nosuch", bucket: BUCKET, key: "k", schema: "s", table: "t", mode: "append" })).message).toContain("nosuch");
    expect((await failure({ db_conn_id: "pgsql", bucket: BUCKET, key: "k", schema: "s", table: "t", mode: "append" })).message).toBe("db_from_s3 does not support postgresql databases");
    await put("any.csv", "1\n");
    expect((await failure(base({ key: "data/any.csv", table: "people", mode: "append", args: ["FORMAT csv"] }))).message).toBe("Copy failed: Invalid COPY arguments: FORMAT");
    expect((await failure(base({ key: "data/any.csv", table: "people", mode: "append", args: ["QUOTING 'sometimes'"] }))).message).toBe("Copy failed: Bad quoting style: sometimes");
  });
});

describe.if(pgUp)("db_from_s3 into PostgreSQL (COPY FROM STDIN streamed from the object store)", () => {
  const pgBase = (extra: Record<string, unknown>) => ({ db_conn_id: "pg", bucket: BUCKET, schema: "dbs3", ...extra });
  const rows = async (t: string) => (await pg.unsafe(`SELECT * FROM dbs3.${t} ORDER BY 1`).values()) as unknown[][];

  test("append creates the table; csv with header, gzip; COPY's row count in the events", async () => {
    await put("pg/a.csv.gz", gzipSync('id,name,note\n1,"x, y",\n2,"multi\nline",n\n'));
    const { result } = await load(pgBase({ key: "data/pg/a.csv.gz", table: "T1", mode: "append", columns: ["id int", "name text", "note text"], args: ["FORMAT CSV", "HEADER", "GZIP"] }));
    expect(result.events).toEqual([
      'Creating table "dbs3"."t1"',
      'Created table "dbs3"."t1"',
      "Running COPY command(s) for dbs3.t1",
      'COPY command: COPY "dbs3"."t1"("id","name","note") FROM STDIN WITH (FORMAT CSV, HEADER)',
      `Copying s3://${BUCKET}/data/pg/a.csv.gz`,
      "Copy complete",
      "COPY 2",
      'Commit "dbs3"."t1"',
    ]);
    expect(await rows("t1")).toEqual([
      [1, "x, y", null],
      [2, "multi\nline", "n"],
    ]);
  });

  test("every mode; a bad object leaves the table as it was, TRUNCATE and DROP included", async () => {
    await put("pg/two.csv", "7\tseven\n8\teight\n");
    const cols = ["id int", "name text"];
    for (const mode of ["truncate", "delete", "drop", "append"]) {
      await pg.unsafe("DROP TABLE IF EXISTS dbs3.m; CREATE TABLE dbs3.m (id int, name text); INSERT INTO dbs3.m VALUES (1, 'old')").simple();
      await load(pgBase({ key: "data/pg/two.csv", table: "m", mode, columns: cols }));
      expect(await rows("m")).toEqual(mode === "append" ? [[1, "old"], [7, "seven"], [8, "eight"]] : [[7, "seven"], [8, "eight"]]);
    }
    await put("pg/bad.csv", "9\tnine\nnot-a-number\tx\n");
    for (const mode of ["truncate", "delete", "drop", "append"]) {
      const f = await failure(pgBase({ key: "data/pg/bad.csv", table: "m", mode, columns: cols }));
      expect(f.message).toStartWith(`Copy failed: s3://${BUCKET}/data/pg/bad.csv: `);
      expect(f.message).toContain("invalid input syntax for type integer");
      expect(await rows("m")).toEqual([[1, "old"], [7, "seven"], [8, "eight"]]);
    }
    // Not gzip although GZIP says so: the stream fails, the copy is abandoned, the table unchanged.
    const f = await failure(pgBase({ key: "data/pg/two.csv", table: "m", mode: "truncate", args: ["GZIP"] }));
    expect(f.message).toStartWith(`Copy failed: s3://${BUCKET}/data/pg/two.csv: `);
    expect(await rows("m")).toEqual([[1, "old"], [7, "seven"], [8, "eight"]]);
    expect((await failure(pgBase({ key: "data/pg/two.csv", table: "m", mode: "abort" }))).message).toBe('Copy failed: Table "dbs3"."m" already exists');
  });

  test("manifest with a runt skipped by min_size; FORCE_NULL *; switch", async () => {
    await put("pg/m1.csv", '1,""\n2,b\n' + "3,padding-padding-padding\n".repeat(4));
    await put("pg/m2.csv", "4,x\n");
    await put("pg/manifest.json", JSON.stringify({ entries: [{ url: `s3://${BUCKET}/data/pg/m1.csv` }, { url: `s3://${BUCKET}/data/pg/m2.csv` }] }));
    await pg.unsafe("DROP TABLE IF EXISTS dbs3.f; CREATE TABLE dbs3.f (id int, v text)").simple();
    const { result } = await load(pgBase({ key: "data/pg/manifest.json", table: "f", mode: "truncate", min_size: 20, args: ["MANIFEST", "FORMAT CSV", "FORCE_NULL *"] }));
    expect(result.events).toContain('COPY command: COPY "dbs3"."f" FROM STDIN WITH (FORMAT CSV, FORCE_NULL ("id", "v"))');
    expect(result.events).toContain(`Skipping runt file s3://${BUCKET}/data/pg/m2.csv`);
    expect((await rows("f")).slice(0, 2)).toEqual([
      [1, null],
      [2, "b"],
    ]);
    expect((await rows("f")).length).toBe(6);

    await put("pg/s.csv", "1\tone\n");
    await load(pgBase({ key: "data/pg/s.csv", table: "sw", mode: "switch", columns: ["id int", "name text"] }));
    await load(pgBase({ key: "data/pg/s.csv", table: "sw", mode: "switch" }));
    expect([await rows("sw_a"), await rows("sw_b")]).toEqual([[], [[1, "one"]]]);
  });

  test("PG_COPY_TIMEOUT: a copy that outlives it is abandoned on the server, the table unchanged", async () => {
    await pg.unsafe("DROP TABLE IF EXISTS dbs3.slow; CREATE TABLE dbs3.slow (id int); INSERT INTO dbs3.slow VALUES (1)").simple();
    // A trigger that sleeps makes the server take longer than the timeout for the copy.
    await pg.unsafe(`CREATE OR REPLACE FUNCTION dbs3.nap() RETURNS trigger AS $$ BEGIN PERFORM pg_sleep(0.5); RETURN NEW; END $$ LANGUAGE plpgsql;
      CREATE TRIGGER nap BEFORE INSERT ON dbs3.slow FOR EACH ROW EXECUTE FUNCTION dbs3.nap()`).simple();
    await put("pg/slow.csv", "2\n3\n4\n5\n6\n7\n");
    const started = Date.now();
    const f = await (async () => {
      try {
        await load(pgBase({ key: "data/pg/slow.csv", table: "slow", mode: "truncate" }), { PG_COPY_TIMEOUT: "1s" });
      } catch (e) {
        return e as Error;
      }
      throw new Error("the job succeeded");
    })();
    expect(f.message).toBe(`Copy failed: COPY of s3://${BUCKET}/data/pg/slow.csv timed out after 1 seconds`);
    expect(Date.now() - started).toBeLessThan(2500);
    expect(await rows("slow")).toEqual([[1]]);
    const running = await pg.unsafe("SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'COPY \"dbs3\".\"slow\"%' AND state = 'active'");
    expect(running[0]!.n).toBe(0);
  });

  test("postgres-rds on plain PostgreSQL: the aws_s3 import fails (no extension here) and the table is as it was", async () => {
    await pg.unsafe("DROP TABLE IF EXISTS dbs3.r; CREATE TABLE dbs3.r (id int); INSERT INTO dbs3.r VALUES (1)").simple();
    await put("pg/r.csv", "2\n");
    const f = await failure({ db_conn_id: "pg-rds", bucket: BUCKET, key: "data/pg/r.csv", schema: "dbs3", table: "r", mode: "delete", args: ["FORMAT csv"] });
    expect(f.message).toStartWith(`Copy failed: s3://${BUCKET}/data/pg/r.csv: `);
    expect(f.message).toContain("aws_s3");
    expect(await rows("r")).toEqual([[1]]);
  });
});

describe.if(myUp)("db_from_s3 mysql-aurora table steps on MariaDB", () => {
  test("delete mode: the DELETE is undone when LOAD DATA FROM S3 fails (MariaDB has no such statement)", async () => {
    const c = await mysql.createConnection({ host: "127.0.0.1", port: 3306, user: "root", database: "test" });
    try {
      await c.query("DROP TABLE IF EXISTS dbs3_aurora");
      await c.query("CREATE TABLE dbs3_aurora (id int, name text) ENGINE=InnoDB");
      await c.query("INSERT INTO dbs3_aurora VALUES (1, 'old')");
      await put("my/a.csv", "2,new\n");
      const f = await failure({ db_conn_id: "my-aurora", bucket: BUCKET, key: "data/my/a.csv", schema: "test", table: "dbs3_aurora", mode: "delete", args: ["DELIMITER ','", "HEADER 0"] });
      expect(f.message).toStartWith("Copy failed: ");
      expect(f.message).toContain("SQL syntax");
      const [rows] = await c.query({ sql: "SELECT * FROM dbs3_aurora", rowsAsArray: true });
      expect(rows as unknown).toEqual([[1, "old"]]);
    } finally {
      await c.end();
    }
  });
});
