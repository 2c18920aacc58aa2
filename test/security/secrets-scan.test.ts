/**
 * Known secret values go through a suite of jobs, actions and failures on a real worker process, then every
 * log line, event item, object and error text the run left is searched for them. Each secret enters by a
 * different door: an SSM SecureString, a Secrets Manager secret, a connection field, job parameters,
 * dispatch parameters, a job's env.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLocalPorts, type LocalPorts } from "../../src/adapters/local/index.ts";
import { createRealm } from "../../src/core/realm-setup.ts";
import { realmTable } from "../../src/core/names.ts";
import { silentLogger } from "../../src/core/log.ts";
import { freePort } from "../support/availability.ts";
import { MAIN, ROOT } from "../support/lava-process.ts";

const REALM = "scan";
const WORKER = "core";

const SECRETS = {
  ssm: "Smtp-S3cret-1111",
  manager: "Db-S3cret-2222",
  webhook: "Hook-S3cret-3333",
  jobParam: "Param-S3cret-4444",
  nested: "Key-S3cret-5555",
  env: "Env-S3cret-6666",
  dispatch: "Dispatch-S3cret-7777",
  sql: "Sql-S3cret-8888",
};
/** Not secrets: they must show up, proving the scan looks where the run wrote. */
const CONTROL = "Control-Visible-9999";

let home: string;
let ports: LocalPorts;
let logs = "";
const closedPort = freePort();

async function lava(args: string[], env: Record<string, string>): Promise<{ code: number; stderr: string; stdout: string }> {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], { cwd: ROOT, env, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

const job = (id: string, extra: Record<string, unknown>) => ({ job_id: id, worker: WORKER, enabled: true, owner: "scan", description: id, ...extra });

describe("secrets never leave the worker [local]", () => {
  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), "lava-scan-"));
    ports = await openLocalPorts({ home });
    await createRealm(ports, { realm: REALM, workers: [WORKER], bucket: "lava-scan" }, silentLogger());
    ports.local.putParameter("/lava/scan/smtp", SECRETS.ssm, { secure: true });
    ports.local.putParameter("/lava/scan/sql", SECRETS.sql, { secure: true });
    ports.local.putSecret("scan/db", JSON.stringify({ user: "u", password: SECRETS.manager }));
    const conns = realmTable(REALM, "connections");
    await ports.tables.put(conns, { conn_id: "mail", type: "email", subtype: "smtp", enabled: true, host: "127.0.0.1", port: closedPort, tls: true, user: "lava", password: "/lava/scan/smtp", from: "a@x.org" });
    await ports.tables.put(conns, { conn_id: "mailplain", type: "email", subtype: "smtp", enabled: true, host: "127.0.0.1", port: closedPort, user: "lava", password: "/lava/scan/smtp", from: "a@x.org" });
    await ports.tables.put(conns, { conn_id: "hook", type: "slack", enabled: true, webhook_url: `http://127.0.0.1:${closedPort}/services/${SECRETS.webhook}` });
    // A database that refuses the password (MariaDB on 3306 when it runs; a refused connection otherwise).
    await ports.tables.put(conns, { conn_id: "db", type: "mariadb", enabled: true, host: "127.0.0.1", port: 3306, database: "test", user: "lava_scan_nobody", password: "/lava/scan/sql" });
    const jobs = realmTable(REALM, "jobs");
    // A failing action ends its list, so each job carries one.
    const mail = [{ action: "email", email_conn: "mail", to: "r@x.org", subject: "failed", message: "{{ result.error }}" }];
    const mailPlain = [{ action: "email", email_conn: "mailplain", to: "r@x.org", subject: "failed", message: "m" }];
    const hook = [{ action: "slack", slack_conn: "hook", message: "failed {{ job.job_id }}" }];
    await ports.tables.put(jobs, job("scan/fails", { type: "cmd", payload: "sh -c 'echo failing >&2; exit 3'", on_fail: mail }));
    await ports.tables.put(jobs, job("scan/dump", { type: "log", payload: null, parameters: { password: SECRETS.jobParam, conf: { api_key: SECRETS.nested }, note: CONTROL } }));
    await ports.tables.put(jobs, job("scan/env", { type: "cmd", payload: `sh -c 'echo ${CONTROL}; exit 1'`, parameters: { env: { DB_PASSWORD: SECRETS.env } }, on_fail: mailPlain }));
    await ports.tables.put(jobs, job("scan/badtemplate", { type: "cmd", payload: "echo {{ job.nothing.here }}", on_fail: hook }));
    await ports.tables.put(jobs, job("scan/sql", { type: "sqli", payload: ["select 1"], parameters: { conn_id: "db" }, on_fail: mailPlain }));
    await ports.tables.put(jobs, job("scan/secretmgr", { type: "log", payload: null, parameters: { secret_id: "scan/db", token: SECRETS.manager } }));

    const env: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: home, LAVA_BACKEND: "local", LAVA_HOME: home, LAVA_TMPDIR: join(home, "tmp"), NO_COLOR: "1" };
    const ids = ["scan/fails", "scan/dump", "scan/env", "scan/badtemplate", "scan/secretmgr", "scan/sql"];
    const plain = await lava(["dispatcher", "-r", REALM, "-l", "debug", ...ids.filter((id) => id !== "scan/dump")], env);
    expect(plain.code).toBe(0);
    const d = await lava(["dispatcher", "-r", REALM, "-l", "debug", "-p", `password=${SECRETS.dispatch}`, "-p", `note=${CONTROL}`, "scan/dump"], env);
    expect(d.code).toBe(0);
    const logFile = join(home, "worker.log");
    const w = await lava(["worker", "-r", REALM, "-w", WORKER, "--root", "--batch", "--wait", "1", "-l", "debug", "--log", logFile], env);
    const wJson = await lava(["worker", "-r", REALM, "-w", WORKER, "--root", "--batch", "--wait", "1", "-l", "debug", "--log-json"], env);
    if (process.env.SCAN_DEBUG) await Bun.write("/tmp/scan-logs.txt", [plain.stderr, d.stderr, d.stdout, w.stderr, w.stdout, wJson.stderr, readFileSync(logFile, "utf8")].join("\n=====\n"));
    logs = [plain.stderr, d.stderr, d.stdout, w.stderr, w.stdout, wJson.stderr, readFileSync(logFile, "utf8")].join("\n");
  }, 120_000);

  afterAll(async () => {
    await ports?.close();
    rmSync(home, { recursive: true, force: true });
  });

  async function allEvents(): Promise<string> {
    const items = await ports.tables.scan(realmTable(REALM, "events"), {});
    return JSON.stringify(items.items);
  }

  test("the suite ran: every job has a terminal event, and the control value is where the run wrote it", async () => {
    const events = await allEvents();
    for (const id of ["scan/fails", "scan/dump", "scan/env", "scan/badtemplate", "scan/secretmgr", "scan/sql"]) expect(events).toContain(id);
    expect(events).toContain("Connection db: Cannot connect to mariadb database at 127.0.0.1:3306");
    expect(events).toContain('"failed"');
    expect(logs).toContain(CONTROL);
    const objects = filesUnder(join(home, "objects")).map((f) => readFileSync(f, "utf8")).join("\n");
    expect(objects).toContain(CONTROL);
    // The actions did fail, so their error paths (which quote connection details) were exercised.
    expect(logs).toContain("refusing to send SMTP credentials without TLS");
    expect(logs).toContain("mail: connect ECONNREFUSED");
    expect(logs).toContain("slack: Connection hook: Slack request failed");
  });

  for (const [door, secret] of Object.entries(SECRETS)) {
    test(`${door}: not in any log line`, () => {
      expect(logs.includes(secret)).toBe(false);
    });
    test(`${door}: not in any event item`, async () => {
      expect((await allEvents()).includes(secret)).toBe(false);
    });
    test(`${door}: not in any object the run wrote (outputs, results)`, () => {
      for (const f of filesUnder(join(home, "objects"))) expect(`${f}: ${readFileSync(f, "utf8").includes(secret)}`).toBe(`${f}: false`);
    });
  }
});
