/**
 * sqlc on real servers with their own clients: psql on PostgreSQL (127.0.0.1:5432, trust) and mariadb on
 * MariaDB (127.0.0.1:3306). Output uploaded as `<base>.stdout|.stderr`; the client's failure, a wrong
 * password (never in any output), an unknown connection and a timeout that kills the client.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import mysql from "mysql2/promise";
import { sqlcJob } from "../../src/handlers/sqlc.ts";
import { applicationName } from "../../src/connectors/appname.ts";
import { JobFailure, type AugmentedJob } from "../../src/core/job-contract.ts";
import { realmTable } from "../../src/core/names.ts";
import { trackSecrets } from "../../src/core/secrets.ts";
import { needs, tcpOpen } from "../support/availability.ts";
import { BUCKET, REALM, eventually, openHarness, type Harness } from "./harness.ts";

const MY_PASSWORD = "Sqlc-My-S3cret-4242";

const pgUp = needs("PostgreSQL on 127.0.0.1:5432 and psql", (await tcpOpen(5432)) && Bun.which("psql") !== null);
const myUp = needs("MariaDB on 127.0.0.1:3306 and its client", (await tcpOpen(3306)) && Bun.which("mysql") !== null);

let h: Harness;
const payloads = `s3://${BUCKET}/payloads`;
const put = (key: string, body: string) => h.ports.objects.put(`${payloads}/${key}`, body);

beforeAll(async () => {
  h = await openHarness();
  trackSecrets(h.ports);
  const conn = (item: Record<string, unknown>) => h.ports.tables.put(realmTable(REALM, "connections"), { enabled: true, ...item });
  await conn({ conn_id: "pg", type: "postgres", host: "127.0.0.1", port: 5432, database: "test", user: "postgres", password: "/sqlc/pg" });
  await conn({ conn_id: "my", type: "mariadb", host: "127.0.0.1", port: 3306, database: "test", user: "lava_sqlc", password: "/sqlc/my" });
  await conn({ conn_id: "my-wrong", type: "mariadb", host: "127.0.0.1", port: 3306, database: "test", user: "lava_sqlc", password: "/sqlc/wrong" });
  h.ports.local.putParameter("/sqlc/pg", "unused-by-trust", { secure: true });
  h.ports.local.putParameter("/sqlc/my", "the-right-one-5", { secure: true });
  h.ports.local.putParameter("/sqlc/wrong", MY_PASSWORD, { secure: true });
  if (myUp) {
    const c = await mysql.createConnection({ host: "127.0.0.1", port: 3306, user: "root" });
    await c.query("DROP USER IF EXISTS 'lava_sqlc'@'%'");
    await c.query("CREATE USER 'lava_sqlc'@'%' IDENTIFIED BY 'the-right-one-5'");
    await c.query("GRANT ALL ON test.* TO 'lava_sqlc'@'%'");
    await c.end();
  }
});

afterAll(async () => {
  await h?.close();
});

async function runJob(payload: unknown, parameters: Record<string, unknown>) {
  const run = h.jobRun({ type: "sqlc", payload, parameters, job_id: "test/sqlc" } as Partial<AugmentedJob>);
  return { run, result: (await sqlcJob.run(run)) as Record<string, unknown> };
}

async function failure(payload: unknown, parameters: Record<string, unknown>): Promise<{ message: string; data: Record<string, unknown> | undefined }> {
  try {
    await runJob(payload, parameters);
  } catch (e) {
    expect(e).toBeInstanceOf(JobFailure);
    return { message: (e as Error).message, data: (e as JobFailure).data as Record<string, unknown> | undefined };
  }
  throw new Error("the job succeeded");
}

describe("sqlc with psql", () => {
  test.if(pgUp)("files in order, args to the client, meta-commands, stdout uploaded; PGAPPNAME from CONN_APP_NAME", async () => {
    await put("pg/1.sql", "\\pset format unaligned\nselect 1 as a, 'x|y' as b;\nselect current_setting('application_name') as app;\n");
    await put("pg/2.sql", "create temp table t (a int);\n");
    const { run, result } = await runJob("pg/", { conn_id: "pg", args: ["--tuples-only"] });
    expect(result).toEqual({
      exit_status: 0,
      output: [
        { payload: "1.sql", exit_status: 0, stdout: `${run.s3tmp}/1.sql.stdout` },
        { payload: "2.sql", exit_status: 0 },
      ],
    });
    expect(await h.readObject(`${run.s3tmp}/1.sql.stdout`)).toBe(`1|x|y\n${applicationName(run.config, "pg", REALM, "test/sqlc")}\n`);
  });

  test.if(pgUp)("bad SQL: psql's status, its stderr as the error, the output so far kept", async () => {
    await put("pgbad/bad.sql", "select 1 as one;\nselec 2;\nselect 3;\n");
    const { message, data } = await failure("pgbad/bad.sql", { conn_id: "pg", args: ["-A"] });
    expect(message).toBe("Failed with exit status 3");
    expect(data!.exit_status).toBe(3);
    expect(data!.error).toContain('ERROR:  syntax error at or near "selec"');
    const out = (data!.output as Record<string, string>[])[0]!;
    expect(await h.readObject(out.stdout!)).toBe("one\n1\n");
    expect(await h.readObject(out.stderr!)).toContain("selec");
  });

  test.if(pgUp)("timeout: the statement is cancelled on the server, the client is killed, status 28", async () => {
    const marker = `sqlc-timeout-${process.pid}-${Date.now()}`;
    await put("pgslow/slow.sql", `select pg_sleep(30) as "${marker}";\n`);
    const started = performance.now();
    const { message, data } = await failure("pgslow/slow.sql", { conn_id: "pg", timeout: "1s" });
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(message).toMatch(/^Timed out after \d+(\.\d)? seconds$/);
    expect(data!.exit_status).toBe(28);
    // The client got SIGINT first and sent a cancel request: the server is no longer sleeping for it.
    const activeSleeps = () => {
      const q = `select count(*) from pg_stat_activity where state = 'active' and query like '%${marker}%' and pid <> pg_backend_pid()`;
      const r = Bun.spawnSync(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-At", "-c", q]);
      return Number(r.stdout.toString().trim());
    };
    await eventually(() => activeSleeps() === 0, 3000);
    expect(activeSleeps()).toBe(0);
  });
});

describe("sqlc with the MariaDB client", () => {
  test.if(myUp)("a file through mariadb --batch", async () => {
    await put("my/q.sql", "select 1 as a, 'x\\ty' as b;\n");
    const { run, result } = await runJob("my/q.sql", { conn_id: "my" });
    expect(result.exit_status).toBe(0);
    expect(await h.readObject(`${run.s3tmp}/q.sql.stdout`)).toBe("a\tb\n1\tx\\ty\n");
  });

  test.if(myUp)("wrong password: the client's refusal, no password anywhere", async () => {
    await put("my/q.sql", "select 1;\n");
    const { message, data } = await failure("my/q.sql", { conn_id: "my-wrong" });
    expect(message).toBe("Failed with exit status 1");
    expect(String(data!.error)).toContain("Access denied for user 'lava_sqlc'");
    expect(JSON.stringify(data)).not.toContain(MY_PASSWORD);
    const out = (data!.output as Record<string, string>[])[0]!;
    expect(await h.readObject(out.stderr!)).not.toContain(MY_PASSWORD);
  });
});

describe("sqlc bad input", () => {
  test("unknown connection, unknown parameter, a connection type without a client", async () => {
    expect((await failure("x.sql", { conn_id: "nosuch" })).message).toBe("nosuch: No such connection");
    expect((await failure("x.sql", { conn_id: "pg", env: {} })).message).toStartWith("Bad job parameters: ");
    await h.ports.tables.put(realmTable(REALM, "connections"), { conn_id: "hook", type: "slack", enabled: true, webhook_url: "http://127.0.0.1:1/x" });
    expect((await failure("x.sql", { conn_id: "hook" })).message).toStartWith("Connection hook: ");
  });
});
