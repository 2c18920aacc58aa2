/**
 * Database connections on real servers: PostgreSQL (127.0.0.1:5432, trust auth) and MariaDB
 * (127.0.0.1:3306, root), SQLite files; passwords from the local backend's SSM and Secrets Manager.
 * SQL Server and Oracle have no server here: their settings and their unreachable-server failure are tested.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import mysql from "mysql2/promise";
import postgres from "postgres";
import { connectSql, getSqlConnection, resolveSqlConnection } from "../../src/connectors/sql.ts";
import { getConnectionSpec } from "../../src/connectors/spec.ts";
import { clearParameterCache } from "../../src/connectors/params.ts";
import { ConnectionError } from "../../src/connectors/types.ts";
import { mssqlConfig } from "../../src/connectors/mssql.ts";
import { oracleDsn } from "../../src/connectors/oracle.ts";
import { scrubSecrets } from "../../src/core/secrets.ts";
import { needs, freePort, tcpOpen } from "../support/availability.ts";
import { openConnHarness, rejection, REALM, type ConnHarness } from "./support.ts";

const PG_PASSWORD = "pg-Secret-4711:x";
const MY_PASSWORD = "my-Secret-4712";

const pgUp = needs("PostgreSQL on 127.0.0.1:5432", await tcpOpen(5432));
const myUp = needs("MariaDB on 127.0.0.1:3306", await tcpOpen(3306));

let h: ConnHarness;
beforeAll(async () => {
  h = await openConnHarness();
  h.ports.local.putParameter("/lava/test/pg", PG_PASSWORD, { secure: true });
  h.ports.local.putParameter("/lava/test/my", MY_PASSWORD, { secure: true });
  h.ports.local.putParameter("/lava/test/wrong", "not-the-password", { secure: true });
  h.ports.local.putSecret("/lava/test/pgsecret", JSON.stringify({ username: "lava_conn_pg", password: PG_PASSWORD, dbname: "lava_conn_db", host: "ignored", port: 1 }));
  if (pgUp) {
    const sql = postgres({ host: "127.0.0.1", port: 5432, username: "postgres", database: "postgres", onnotice: () => {} });
    if (!(await sql.unsafe("SELECT 1 FROM pg_database WHERE datname = 'lava_conn_db'")).length) await sql.unsafe("CREATE DATABASE lava_conn_db");
    await sql.unsafe("DROP ROLE IF EXISTS lava_conn_pg");
    await sql.unsafe(`CREATE ROLE lava_conn_pg LOGIN PASSWORD '${PG_PASSWORD}'`);
    await sql.end();
  }
  if (myUp) {
    const c = await mysql.createConnection({ host: "127.0.0.1", port: 3306, user: "root" });
    await c.query("CREATE DATABASE IF NOT EXISTS lava_conn_test");
    await c.query("DROP USER IF EXISTS 'lava_conn_my'@'%'");
    await c.query(`CREATE USER 'lava_conn_my'@'%' IDENTIFIED BY '${MY_PASSWORD}'`);
    await c.query("GRANT ALL ON lava_conn_test.* TO 'lava_conn_my'@'%'");
    await c.end();
  }
  const pg = { type: "postgres", enabled: true, host: "127.0.0.1", port: 5432, database: "postgres" };
  await h.putConnection({ conn_id: "pg", ...pg, user: "lava_conn_pg", password: "/lava/test/pg" });
  await h.putConnection({ conn_id: "pg-secret", type: "postgres", enabled: true, host: "127.0.0.1", port: "5432", secret_id: "/lava/test/pgsecret" });
  await h.putConnection({ conn_id: "pg-off", ...pg, enabled: false, user: "u", password: "/lava/test/pg" });
  await h.putConnection({ conn_id: "pg-nopass", ...pg, user: "lava_conn_pg" });
  await h.putConnection({ conn_id: "pg-rds", ...pg, type: "postgres-rds", user: "lava_conn_pg" });
  await h.putConnection({ conn_id: "pg-dead", ...pg, port: await deadPort(), user: "u", password: "/lava/test/pg" });
  const my = { type: "mariadb", enabled: true, host: "127.0.0.1", port: 3306, database: "lava_conn_test", user: "lava_conn_my" };
  await h.putConnection({ conn_id: "my", ...my, password: "/lava/test/my" });
  await h.putConnection({ conn_id: "my-wrong", ...my, password: "/lava/test/wrong" });
  await h.putConnection({ conn_id: "slack", type: "slack", enabled: true, webhook_url: "https://hooks.example/x" });
  await h.putConnection({ conn_id: "lite", type: "sqlite3", enabled: true, host: join(h.root, "lite.db"), port: 0, user: "-" });
});
afterAll(async () => {
  await h?.close();
});

async function deadPort(): Promise<number> {
  return freePort();
}

describe.if(pgUp)("postgres", () => {
  test("password from SSM; queries return columns and rows; the application name is CONN_APP_NAME's", async () => {
    const db = await getSqlConnection("pg", h.ctx());
    try {
      const r = await db.query("SELECT current_user AS u, current_setting('application_name') AS app, $1::int + 1 AS n", [41]);
      expect(r.columns).toEqual(["u", "app", "n"]);
      expect(r.rows).toEqual([["lava_conn_pg", "lv-test-test/job", 42]]);
    } finally {
      await db.close();
    }
  });

  test("a cursor yields rows in batches", async () => {
    const db = await getSqlConnection("pg", h.ctx());
    try {
      const batches = [];
      for await (const b of db.cursor("SELECT n FROM generate_series(1, 5) AS n", 2)) batches.push(b);
      expect(batches.map((b) => b.rows)).toEqual([[[1], [2]], [[3], [4]], [[5]]]);
      expect(batches[0]!.columns).toEqual(["n"]);
    } finally {
      await db.close();
    }
  });

  test("Secrets Manager fills only absent fields (user, password, database); the item's host and port win", async () => {
    const item = await getConnectionSpec(h.ports, REALM, "pg-secret");
    const conn = await resolveSqlConnection(item, h.ctx());
    expect([conn.user, conn.password, conn.database, conn.host, conn.port]).toEqual(["lava_conn_pg", PG_PASSWORD, "lava_conn_db", "127.0.0.1", 5432]);
    const db = await connectSql(item, h.ctx());
    expect((await db.query("SELECT current_user, current_database()")).rows).toEqual([["lava_conn_pg", "lava_conn_db"]]);
    await db.close();
  });

  test("the SSM password comes first: a secret does not replace it", async () => {
    h.ports.local.putSecret("/lava/test/other", JSON.stringify({ password: "from-the-secret", username: "from-secret-user" }));
    const item = { conn_id: "x", type: "postgres", enabled: true, host: "h", port: 1, user: "u", password: "/lava/test/pg", secret_id: "/lava/test/other" };
    const conn = await resolveSqlConnection(item, h.ctx());
    expect([conn.user, conn.password]).toEqual(["u", PG_PASSWORD]);
  });

  test("an unreachable server fails within the connect timeout, naming the connection and the address", async () => {
    const e = await rejection(getSqlConnection("pg-dead", h.ctx()));
    expect(e).toBeInstanceOf(ConnectionError);
    expect(e.message).toStartWith("Connection pg-dead: Cannot connect to postgres database at 127.0.0.1:");
  });
});

describe("bad connections", () => {
  test("unknown id, disabled, no password, wrong type: each names the connection", async () => {
    expect((await rejection(getSqlConnection("nope", h.ctx()))).message).toBe("nope: No such connection");
    expect((await rejection(getSqlConnection("pg-off", h.ctx()))).message).toBe("Connection pg-off: Not enabled");
    expect((await rejection(getSqlConnection("pg-nopass", h.ctx()))).message).toBe("Connection pg-nopass: Password must be specified");
    expect((await rejection(getSqlConnection("slack", h.ctx()))).message).toStartWith('Connection slack: Must be a database connection (psql, ');
  });

  test("an absent SSM parameter names the parameter", async () => {
    const item = { conn_id: "x", type: "postgres", enabled: true, host: "h", port: 1, user: "u", password: "/lava/test/absent" };
    const e = await rejection(resolveSqlConnection(item, h.ctx()));
    expect(e.message).toStartWith("Connection x: SSM /lava/test/absent: ");
  });

  test("RDS IAM auth on the local backend: a clear failure, not a made-up token", async () => {
    const e = await rejection(getSqlConnection("pg-rds", h.ctx()));
    expect(e).toBeInstanceOf(ConnectionError);
    expect(e.message).toBe(
      "Connection pg-rds: Cannot get IAM credentials: An RDS IAM auth token needs AWS IAM, which the local backend does not have; give the connection a password (SSM parameter or secret_id)",
    );
  });

  test("SSM values are cached for PARAM_CACHE_TTL", async () => {
    h.ports.local.putParameter("/lava/test/cached", "first-value", { secure: true });
    const item = { conn_id: "c", type: "postgres", enabled: true, host: "h", port: 1, user: "u", password: "/lava/test/cached" };
    const ctx = h.ctx();
    clearParameterCache(ctx);
    expect((await resolveSqlConnection(item, ctx)).password).toBe("first-value");
    h.ports.local.putParameter("/lava/test/cached", "second-value", { secure: true });
    expect((await resolveSqlConnection(item, ctx)).password).toBe("first-value");
    clearParameterCache(ctx);
    expect((await resolveSqlConnection(item, h.ctx({ PARAM_CACHE_TTL: "0s" }))).password).toBe("second-value");
  });
});

describe.if(myUp)("mariadb", () => {
  test("password from SSM; queries and a cursor", async () => {
    const db = await getSqlConnection("my", h.ctx());
    try {
      await db.query("CREATE TABLE IF NOT EXISTS t (n INT)");
      await db.query("DELETE FROM t");
      expect((await db.query("INSERT INTO t VALUES (1), (2), (3)")).rowCount).toBe(3);
      const r = await db.query("SELECT current_user() AS u, n FROM t WHERE n > ? ORDER BY n", [1]);
      expect(r.columns).toEqual(["u", "n"]);
      expect(r.rows).toEqual([["lava_conn_my@%", 2], ["lava_conn_my@%", 3]]);
      const batches = [];
      for await (const b of db.cursor("SELECT n FROM t ORDER BY n", 2)) batches.push(b.rows);
      expect(batches).toEqual([[[1], [2]], [[3]]]);
    } finally {
      await db.close();
    }
  });

  test("a wrong password fails naming the connection, without the password", async () => {
    const e = await rejection(getSqlConnection("my-wrong", h.ctx()));
    expect(e).toBeInstanceOf(ConnectionError);
    expect(e.message).toStartWith("Connection my-wrong: Cannot connect to mariadb database at 127.0.0.1:3306: Access denied for user 'lava_conn_my'");
    expect(e.message).not.toContain("not-the-password");
    expect(scrubSecrets("x not-the-password y")).toBe("x ******** y");
  });
});

describe("sqlite3", () => {
  test("a database file: statements, rows and a cursor", async () => {
    const db = await getSqlConnection("lite", h.ctx());
    try {
      await db.query("CREATE TABLE t (n INTEGER, s TEXT)");
      expect((await db.query("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')")).rowCount).toBe(3);
      expect(await db.query("SELECT n, s FROM t WHERE n >= ? ORDER BY n", [2])).toEqual({ columns: ["n", "s"], rows: [[2, "b"], [3, "c"]] });
      const batches = [];
      for await (const b of db.cursor("SELECT n FROM t ORDER BY n", 2)) batches.push(b.rows);
      expect(batches).toEqual([[[1], [2]], [[3]]]);
    } finally {
      await db.close();
    }
  });

  test("an s3:// database is staged and put back when changed", async () => {
    await h.ports.objects.createBucket("lite-bucket");
    await h.ports.objects.put("s3://lite-bucket/db/x.sqlite3", new Uint8Array());
    const item = { conn_id: "s3lite", type: "sqlite3", enabled: true, host: "s3://lite-bucket/db/x.sqlite3", port: 0, user: "-" };
    const db = await connectSql(item, h.ctx());
    await db.query("CREATE TABLE t (n INTEGER)");
    await db.query("INSERT INTO t VALUES (7)");
    await db.close();
    expect((await h.ports.objects.head("s3://lite-bucket/db/x.sqlite3"))!.size).toBeGreaterThan(0);
    const again = await connectSql(item, h.ctx());
    expect((await again.query("SELECT n FROM t")).rows).toEqual([[7]]);
    await again.close();
  });
});

describe("no server here: SQL Server and Oracle", () => {
  const base = { enabled: true, host: "127.0.0.1", user: "scott", password: "/lava/test/pg", database: "db" };

  test("SQL Server settings: login timeout, application name, no encryption", async () => {
    const conn = await resolveSqlConnection({ conn_id: "ms", type: "mssql", ...base, port: "1433", timeout: 3 }, h.ctx());
    const cfg = mssqlConfig(conn, { applicationName: "lv-test-j" });
    expect(cfg).toMatchObject({ server: "127.0.0.1", port: 1433, user: "scott", password: PG_PASSWORD, database: "db", connectionTimeout: 3000 });
    expect(cfg.options).toMatchObject({ encrypt: false, appName: "lv-test-j" });
  });

  test("Oracle DSN: service name, else SID (or the deprecated database)", () => {
    expect(oracleDsn({ host: "h", port: 1521, serviceName: "ORCL" })).toBe("(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=h)(PORT=1521))(CONNECT_DATA=(SERVICE_NAME=ORCL)))");
    expect(oracleDsn({ host: "h", port: 1521, sid: "XE" })).toBe("(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=h)(PORT=1521))(CONNECT_DATA=(SID=XE)))");
  });

  test.each(["mssql", "oracle"])("%s: an unreachable server fails naming the connection and the address", async (type) => {
    const port = freePort();
    const e = await rejection(connectSql({ conn_id: `${type}-dead`, type, ...base, port, timeout: 3 }, h.ctx()));
    expect(e).toBeInstanceOf(ConnectionError);
    expect(e.message).toStartWith(`Connection ${type}-dead: Cannot connect to ${type} database at 127.0.0.1:${port}: `);
    expect(e.message).not.toContain(PG_PASSWORD);
  });
});

describe("bounded connect timeout", () => {
  test("a server that accepts and never answers: every network driver gives up after the timeout, naming the address", async () => {
    const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const base = { enabled: true, host: "127.0.0.1", port: server.port, user: "u", password: "/lava/test/pg", database: "d", timeout: 2 };
      const errors = await Promise.all(["postgres", "mariadb", "mssql", "oracle"].map((type) => rejection(connectSql({ conn_id: `${type}-silent`, type, ...base }, h.ctx()))));
      for (const [i, type] of ["postgres", "mariadb", "mssql", "oracle"].entries()) {
        expect(errors[i]).toBeInstanceOf(ConnectionError);
        expect(errors[i]!.message).toStartWith(`Connection ${type}-silent: Cannot connect to ${type} database at 127.0.0.1:${server.port}: `);
      }
    } finally {
      server.stop(true);
    }
  });
});

describe("a cursor left early", () => {
  const queries: Record<string, [string, boolean]> = {
    pg: ["SELECT n FROM generate_series(1, 100000) AS n", pgUp],
    my: ["SELECT seq FROM seq_1_to_100000", myUp],
    lite: ["WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 100000) SELECT n FROM c", true],
  };
  test.each(Object.keys(queries))("%s: the session stays usable", async (connId) => {
    const [sql, up] = queries[connId]!;
    if (!up) return;
    const db = await getSqlConnection(connId, h.ctx());
    try {
      let seen = 0;
      for await (const batch of db.cursor(sql, 10)) {
        seen += batch.rows.length;
        if (seen >= 20) break;
      }
      expect(seen).toBe(20);
      expect((await db.query("SELECT 1 AS one")).rows).toEqual([[1]]);
    } finally {
      await db.close();
    }
  });
});
