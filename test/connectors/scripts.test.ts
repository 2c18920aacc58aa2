/**
 * LAVA_CONN_* scripts handed to executable jobs: each runs the real client (psql, mysql, sqlite3) against
 * the servers on this machine; credential files are 0600 and scripts 0700 inside the run directory; no
 * password appears in a script, on a command line or in the job's environment.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import mysql from "mysql2/promise";
import postgres from "postgres";
import { exeJob } from "../../src/handlers/exe.ts";
import { connectionEnvironment } from "../../src/connectors/cli.ts";
import { JobFailure } from "../../src/core/job-contract.ts";
import { realmTable } from "../../src/core/names.ts";
import { commandWorks, needs } from "../support/availability.ts";
import { BUCKET, openHarness, type Harness } from "../handlers/harness.ts";
import { rejection, run } from "./support.ts";

const PG_PASSWORD = "pgScript-Pw-8812";
const MY_PASSWORD = "myScript-Pw-8813";
const LONG_PASSWORD = `L${"x".repeat(120)}`;
const SSH_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----,bGF2YS10ZXN0LWtleQ==,-----END OPENSSH PRIVATE KEY-----";

const psql = needs("psql client", commandWorks(["psql", "--version"]));
const mysqlCli = needs("mysql client", commandWorks(["mysql", "--version"]));
const sqliteCli = needs("sqlite3 client", commandWorks(["sqlite3", "--version"]));

let h: Harness;
const conns = realmTable("test", "connections");

beforeAll(async () => {
  h = await openHarness();
  h.ports.local.putParameter("/lava/test/pg", PG_PASSWORD, { secure: true });
  h.ports.local.putParameter("/lava/test/long", LONG_PASSWORD, { secure: true });
  h.ports.local.putParameter("/lava/test/my", MY_PASSWORD, { secure: true });
  h.ports.local.putParameter("/lava/test/key", SSH_KEY, { secure: true });
  h.ports.local.putParameter("/lava/test/attr", "attr-secret-value", { secure: true });
  h.ports.local.putParameter("/lava/test/keys", "AKIDEXAMPLE,wJalrXUtnFEMI/K7MDENG", { secure: true });
  const sql = postgres({ host: "127.0.0.1", port: 5432, username: "postgres", database: "postgres", onnotice: () => {} });
  await sql.unsafe("DROP ROLE IF EXISTS lava_script_pg");
  await sql.unsafe(`CREATE ROLE lava_script_pg LOGIN PASSWORD '${PG_PASSWORD}'`);
  await sql.end();
  const my = await mysql.createConnection({ host: "127.0.0.1", port: 3306, user: "root" });
  await my.query("CREATE DATABASE IF NOT EXISTS lava_conn_test");
  await my.query("DROP USER IF EXISTS 'lava_script_my'@'%'");
  await my.query(`CREATE USER 'lava_script_my'@'%' IDENTIFIED BY '${MY_PASSWORD}'`);
  await my.query("GRANT ALL ON lava_conn_test.* TO 'lava_script_my'@'%'");
  await my.end();
  const put = (item: Record<string, unknown>) => h.ports.tables.put(conns, { enabled: true, ...item });
  const pg = { type: "postgres", host: "127.0.0.1", port: 5432, database: "postgres", user: "lava_script_pg" };
  await put({ conn_id: "pg", ...pg, password: "/lava/test/pg" });
  await put({ conn_id: "pg-long", ...pg, password: "/lava/test/long" });
  await put({ conn_id: "my", type: "mysql", host: "127.0.0.1", port: 3306, database: "lava_conn_test", user: "lava_script_my", password: "/lava/test/my" });
  await put({ conn_id: "lite", type: "sqlite3", host: join(h.root, "script.db"), port: 0, user: "-" });
  await put({ conn_id: "attrs", type: "generic", attributes: { plain: "hello", flag: true, n: 3, secret: { type: "ssm", parameter: "/lava/test/attr" } } });
  await put({ conn_id: "box", type: "ssh", ssh_key: "/lava/test/key", ssh_options: ["StrictHostKeyChecking=no", "ConnectTimeout=5"] });
  await put({ conn_id: "repo", type: "git", ssh_key: "/lava/test/key" });
  await put({ conn_id: "acct", type: "aws", access_keys: "/lava/test/keys", region: "ap-southeast-2" });
  await put({ conn_id: "off", type: "postgres", enabled: false, host: "h", port: 1 });
  await put({ conn_id: "share", type: "smb", host: "h", remote_name: "r", user: "u", password: "/lava/test/pg" });
});
afterAll(async () => {
  await h?.close();
});

async function scripts(connections: Record<string, string>) {
  const r = h.jobRun({ type: "exe" });
  return { env: await connectionEnvironment(r, connections), runDir: r.runDir };
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

/** Every file under the connection's directory, with its mode. */
function files(script: string): Record<string, number> {
  const dir = dirname(script);
  const out: Record<string, number> = {};
  for (const name of readdirSync(dir, { recursive: true }) as string[]) out[name] = mode(join(dir, name));
  return out;
}

describe("database scripts run the real clients", () => {
  test.if(psql)("psql: password in a 0600 pgpass file; PGAPPNAME from the job's environment", async () => {
    const { env, runDir } = await scripts({ db: "pg" });
    const script = env.LAVA_CONN_DB!;
    expect(env.LAVA_CONNID_DB).toBe("pg");
    expect(script.startsWith(`${runDir}/conn.`)).toBe(true);
    expect(files(script)).toEqual({ ".pgpass": 0o600, psql: 0o700 });
    expect(mode(dirname(script))).toBe(0o700);
    expect(readFileSync(script, "utf8")).not.toContain(PG_PASSWORD);
    expect(readFileSync(join(dirname(script), ".pgpass"), "utf8")).toBe(`127.0.0.1:5432:postgres:lava_script_pg:${PG_PASSWORD}\n`);
    const out = run([script, "-Atc", "SELECT current_user, current_setting('application_name')"], { env: { LAVA_REALM: "test", LAVA_JOB_ID: "j1" } });
    expect(out).toEqual({ code: 0, out: "lava_script_pg|lv-test-j1\n", err: "" });
  });

  test.if(psql)("psql with a password too long for pgpass: PGPASSWORD read from a 0600 file at run time", async () => {
    const { env } = await scripts({ db: "pg-long" });
    const script = env.LAVA_CONN_DB!;
    expect(files(script)).toEqual({ ".pgpassword": 0o600, psql: 0o700 });
    expect(readFileSync(script, "utf8")).not.toContain(LONG_PASSWORD);
    expect(run([script, "-Atc", "SELECT 1"]).out).toBe("1\n");
  });

  test.if(mysqlCli)("mysql: user and password in a 0600 --defaults-file", async () => {
    const { env } = await scripts({ db: "my" });
    const script = env.LAVA_CONN_DB!;
    expect(files(script)).toEqual({ ".mysql.conf": 0o600, mysql: 0o700 });
    const text = readFileSync(script, "utf8");
    expect(text).not.toContain(MY_PASSWORD);
    expect(text).toContain("--batch --host=127.0.0.1 --port=3306 --connect-timeout=10 --database=lava_conn_test");
    expect(run([script, "-N", "-e", "SELECT current_user()"])).toEqual({ code: 0, out: "lava_script_my@%\n", err: "" });
  });

  test.if(sqliteCli)("sqlite3: -bail -batch on the file", async () => {
    const { env } = await scripts({ db: "lite" });
    expect(run([env.LAVA_CONN_DB!], { stdin: "CREATE TABLE t(n); INSERT INTO t VALUES (5); SELECT n FROM t;" }).out).toBe("5\n");
  });
});

describe("other scripts", () => {
  test("generic: get-attr-value prints each attribute as Python's str() does", async () => {
    const { env } = await scripts({ cfg: "attrs" });
    const script = env.LAVA_CONN_CFG!;
    expect(files(script)).toEqual({ "get-attr-value": 0o700, values: 0o700, "values/plain": 0o600, "values/flag": 0o600, "values/n": 0o600, "values/secret": 0o600 });
    expect(run([script, "plain"]).out).toBe("hello");
    expect(run([script, "flag"]).out).toBe("True");
    expect(run([script, "secret"]).out).toBe("attr-secret-value");
    expect(run([script, "nope"])).toMatchObject({ code: 1, err: "nope: No such parameter\n" });
    expect(run([script, "../values/plain"]).code).toBe(1);
  });

  test("ssh: the key from SSM (commas are line breaks) in a 0600 file, options quoted", async () => {
    const { env } = await scripts({ box: "box" });
    const script = env.LAVA_CONN_BOX!;
    const key = join(dirname(script), "ssh.pem");
    expect(files(script)).toEqual({ "ssh.pem": 0o600, ssh: 0o700 });
    expect(readFileSync(key, "utf8")).toBe(`${SSH_KEY.replace(/,/g, "\n")}\n`);
    expect(readFileSync(script, "utf8")).toBe(`#!/bin/bash\nssh -o StrictHostKeyChecking=no -o ConnectTimeout=5 -i ${key} "$@"\n`);
  });

  test("git: GIT_SSH_COMMAND with the key, no system config, no prompts", async () => {
    const { env } = await scripts({ repo: "repo" });
    const script = env.LAVA_CONN_REPO!;
    const key = join(dirname(script), "ssh.pem");
    expect(readFileSync(script, "utf8")).toBe(
      `#!/bin/bash\nexport GIT_CONFIG_NOSYSTEM=1\nexport GIT_SSH_COMMAND='ssh -i ${key}'\nexport GIT_TERMINAL_PROMPT=0\ngit "$@"\n`,
    );
    expect(run([script, "--version"]).out).toStartWith("git version");
  });

  test("aws: keys from SSM in a private 0600 config file used through profile lava", async () => {
    const { env } = await scripts({ acct: "acct" });
    const script = env.LAVA_CONN_ACCT!;
    const conf = join(dirname(script), ".aws_config");
    expect(files(script)).toEqual({ ".aws_config": 0o600, aws: 0o700 });
    expect(readFileSync(conf, "utf8")).toBe(
      "\n[profile lava]\ns3 =\n    signature_version = s3v4\n\nregion=ap-southeast-2\naws_access_key_id=AKIDEXAMPLE\naws_secret_access_key=wJalrXUtnFEMI/K7MDENG\n",
    );
    expect(readFileSync(script, "utf8")).toBe(`#!/bin/bash\n\nAWS_CONFIG_FILE=${conf} aws --profile lava "$@"\n`);
  });
});

describe("in an exe job", () => {
  test.if(psql)("the job gets LAVA_CONN_<LABEL> and LAVA_CONNID_<LABEL>; no password in its environment", async () => {
    await h.ports.objects.put(
      `s3://${BUCKET}/payloads/conn/q.sh`,
      '#!/bin/sh\necho "id=$LAVA_CONNID_DB"\n"$LAVA_CONN_DB" -Atc "SELECT 40 + 2"\nenv | grep -c pgScript-Pw || true\n',
    );
    const r = h.jobRun({ type: "exe", payload: "conn/q.sh", parameters: { connections: { db: "pg" } } });
    const result = await exeJob.run(r);
    expect(result.exit_status).toBe(0);
    expect(await h.readObject(`${r.s3tmp}/q.sh.stdout`)).toBe("id=pg\n42\n0\n");
  });

  test("bad connections fail the job naming the connection", async () => {
    const fail = (connections: Record<string, string>) => rejection(scripts(connections));
    const unknown = await fail({ db: "nope" });
    expect(unknown).toBeInstanceOf(JobFailure);
    expect(unknown.message).toBe("nope: No such connection");
    expect((await fail({ db: "off" })).message).toBe("Connection off: Not enabled");
    expect((await fail({ db: "share" })).message).toBe('Connection share: connector scripts (LAVA_CONN_*) for type "smb" are not yet supported');
    h.ports.local.putParameter("/lava/test/bad-keys", "no-comma-here", { secure: true });
    await h.ports.tables.put(conns, { conn_id: "badkeys", type: "aws", enabled: true, access_keys: "/lava/test/bad-keys" });
    // access_keys names a parameter (a reference), so it stays readable; the keys themselves never appear.
    expect((await fail({ a: "badkeys" })).message).toBe('Connection badkeys: SSM /lava/test/bad-keys: Must be in format "access_key_id,access_secret_key"');
  });
});
