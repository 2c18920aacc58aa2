/** `lava realm create`, `put`, `get`, `delete` against the local backend in a temporary LAVA_HOME. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { openPorts } from "../../src/adapters/index.ts";
import type { Ports } from "../../src/ports/index.ts";
import { lava } from "./run-lava.ts";

let home: string;
let env: Record<string, string | undefined>;

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), "lava-realm-"));
  env = { LAVA_BACKEND: "local", LAVA_HOME: home, LAVA_ARGV0: undefined, LAVA_REALM: undefined, LAVA_LOGLEVEL: undefined };
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(home, name);
  writeFileSync(p, text);
  return p;
}

async function withLocal<T>(fn: (ports: Ports) => Promise<T>): Promise<T> {
  const ports = await openPorts({ backend: "local", home });
  try {
    return await fn(ports);
  } finally {
    await ports.close();
  }
}

describe("lava realm create", () => {
  test("creates tables, queues, bucket and realm entry", async () => {
    const r = await lava(["realm", "create", "-r", "ref", "-w", "core", "--worker", "batch,other"], env);
    expect(r.stderr).toContain("created table lava.realms");
    expect(r.code).toBe(0);
    await withLocal(async (ports) => {
      for (const t of ["lava.realms", "lava.ref.jobs", "lava.ref.connections", "lava.ref.s3triggers", "lava.ref.events", "lava.ref.state"]) {
        expect(await ports.tables.tableExists(t)).toBe(true);
      }
      for (const w of ["core", "batch", "other"]) expect(await ports.queues.exists(`lava-ref-${w}`)).toBe(true);
      const attrs = await ports.queues.attributes("lava-ref-core");
      expect(attrs.visibilityTimeoutSeconds).toBe(3600);
      expect(attrs.retentionSeconds).toBe(86400);
      expect(await ports.tables.get("lava.realms", { realm: "ref" })).toEqual({
        realm: "ref",
        s3_payloads: "s3://lava-ref/payloads",
        s3_temp: "s3://lava-ref/tmp",
        // Python workers sharing the realm need an s3_key; the AWS-managed S3 key exists in every account.
        s3_key: "alias/aws/s3",
      });
      await ports.objects.put("s3://lava-ref/payloads/x", "hello");
      expect((await ports.objects.head("s3://lava-ref/payloads/x"))?.size).toBe(5);
    });
  });

  test("the realm tables have their indexes and keys", async () => {
    await withLocal(async (ports) => {
      await ports.tables.put("lava.ref.jobs", { job_id: "a", dispatcher: "main", worker: "core", schedule: "* * * * *" });
      const byDispatcher = await ports.tables.query("lava.ref.jobs", { index: "dispatcher-index", hash: { name: "dispatcher", value: "main" } });
      expect(byDispatcher.items.map((i) => i.job_id)).toEqual(["a"]);
      await ports.tables.put("lava.ref.s3triggers", { trigger_id: "t", bucket: "b", prefix: "in" });
      const byBucket = await ports.tables.query("lava.ref.s3triggers", { index: "s3trigger-index", hash: { name: "bucket", value: "b" }, range: { name: "prefix", op: "eq", value: "in" } });
      expect(byBucket.items).toHaveLength(1);
      await ports.tables.put("lava.ref.events", { job_id: "a", run_id: "r2", tu_event: "2026-01-02T00:00:00" });
      await ports.tables.put("lava.ref.events", { job_id: "a", run_id: "r1", tu_event: "2026-01-03T00:00:00" });
      const byTime = await ports.tables.query("lava.ref.events", { index: "job_id-tu_event-index", hash: { name: "job_id", value: "a" } });
      expect(byTime.items.map((i) => i.run_id)).toEqual(["r2", "r1"]);
      await ports.tables.delete("lava.ref.jobs", { job_id: "a" });
      await ports.tables.delete("lava.ref.s3triggers", { trigger_id: "t" });
    });
  });

  test("re-running keeps what exists and adds a new worker's queue", async () => {
    const r = await lava(["realm", "create", "-r", "ref", "-w", "core", "-w", "late"], env);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("realm entry ref exists; left as it is");
    expect(r.stderr).toContain("created queue lava-ref-late");
  });

  test("realm names with - are refused", async () => {
    const r = await lava(["realm", "create", "-r", "bad-name"], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("no -");
  });
});

const JOBS = `
- job_id: ref/log
  type: log
  worker: core
  payload: null
  enabled: true
  owner: ops@example.com
  description: a log job
  schedule: "0 * * * *"
  dispatcher: main
- job_id: ref/cmd
  type: cmd
  worker: core
  payload: echo hi
  parameters: { args: [a, b] }
  iteration_limit: 2
  iteration_delay: 5s
`;

describe("put / get / delete", () => {
  test("put stores every item of a YAML list, get prints them back", async () => {
    const put = await lava(["put", "job", "-r", "ref", file("jobs.yaml", JOBS)], env);
    expect(put.code).toBe(0);
    expect(put.stderr).toContain("stored job ref/log");
    expect(put.stderr).toContain("stored job ref/cmd");
    // ref/cmd has no owner/description: a warning, as the original gives, not an error
    expect(put.stderr).toMatch(/ref\/cmd: owner field will be mandatory/);

    const list = await lava(["get", "jobs", "-r", "ref"], env);
    expect(list.stdout).toBe("ref/cmd\nref/log\n");

    const one = await lava(["get", "job", "-r", "ref", "ref/cmd"], env);
    expect(one.code).toBe(0);
    expect(parse(one.stdout)).toEqual({ job_id: "ref/cmd", type: "cmd", worker: "core", payload: "echo hi", parameters: { args: ["a", "b"] }, iteration_limit: 2, iteration_delay: "5s" });

    const json = await lava(["get", "job", "--json", "-r", "ref", "ref/log", "ref/cmd"], env);
    expect((JSON.parse(json.stdout) as { job_id: string }[]).map((j) => j.job_id)).toEqual(["ref/log", "ref/cmd"]);
  });

  test("put reads JSON, and stdin with -", async () => {
    const conn = JSON.stringify({ conn_id: "db", type: "postgres", enabled: true, host: "localhost" });
    const r = await lava(["put", "connection", "-r", "ref", "-"], env, conn);
    expect(r.code).toBe(0);
    const got = await lava(["get", "connection", "-r", "ref", "db", "--json"], env);
    expect(JSON.parse(got.stdout)).toEqual({ conn_id: "db", type: "postgres", enabled: true, host: "localhost" });
  });

  test("put uses LAVA_REALM when -r is absent", async () => {
    const trig = file("trig.yaml", "trigger_id: t1\nbucket: in\nprefix: data\njob_id: ref/log\nenabled: true\ndelay: 1m\n");
    const r = await lava(["put", "s3trigger", trig], { ...env, LAVA_REALM: "ref" });
    expect(r.code).toBe(0);
    expect((await lava(["get", "s3trigger", "-r", "ref"], env)).stdout).toBe("t1\n");
  });

  test("a bad item: each error on its own line naming item and field, nothing stored", async () => {
    const bad = file("bad.yaml", `
- job_id: ref/ok2
  type: log
  worker: core
  payload: null
- job_id: ref/noworker
  type: cmd
  payload: x
- job_id: ref/badlimit
  type: cmd
  worker: core
  payload: x
  iteration_limit: "lots"
- job_id: ref/badglobal
  type: cmd
  worker: core
  payload: x
  globals: { lava_x: 1 }
`);
    const r = await lava(["put", "job", "-r", "ref", bad], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("bad.yaml[1]: job ref/noworker: field worker: missing (required)");
    expect(r.stderr).toContain("bad.yaml[2]: job ref/badlimit: field iteration_limit: must be an integer");
    expect(r.stderr).toContain("bad.yaml[3]: job ref/badglobal: field globals.lava_x: names starting with lava are reserved");
    expect(r.stderr).toContain("nothing stored: 3 of 4");
    expect((await lava(["get", "job", "-r", "ref", "ref/ok2"], env)).code).toBe(1);
  });

  test("bad s3trigger and realm items are refused", async () => {
    const trig = file("t2.yaml", "trigger_id: t2\nbucket: in\nprefix: data/\njob_id: j\nenabled: true\n");
    const r = await lava(["put", "s3trigger", "-r", "ref", trig], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("field prefix: must not end with /");
    const realm = file("realm.yaml", "realm: other\ns3_payloads: s3://b/p\ns3_temp: tmp\nconfig: { cmd_timeout: forever }\n");
    const r2 = await lava(["put", "realm", realm], env);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain("field s3_temp: must be an s3://bucket/prefix URI");
  });

  test("put realm needs no -r", async () => {
    const realm = file("realm2.yaml", "realm: other\ns3_payloads: s3://b/p\ns3_temp: s3://b/tmp\nconfig: { cmd_timeout: 5m }\n");
    const r = await lava(["put", "realm", realm], env);
    expect(r.code).toBe(0);
    expect((await lava(["get", "realm"], env)).stdout).toBe("other\nref\n");
  });

  test("unreadable or invalid files fail with one line", async () => {
    const r = await lava(["put", "job", "-r", "ref", join(home, "missing.yaml")], env);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("ENOENT");
    const r2 = await lava(["put", "job", "-r", "ref", file("broken.yaml", "a: [1,\n")], env);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain("not valid YAML or JSON");
    expect(r2.stderr.trim()).not.toMatch(/:$/);
  });

  test("delete removes items; a missing id makes the status 1", async () => {
    const r = await lava(["delete", "job", "-r", "ref", "ref/cmd", "ref/ghost"], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("deleted job ref/cmd");
    expect(r.stderr).toContain("no job ref/ghost");
    expect((await lava(["get", "job", "-r", "ref"], env)).stdout).toBe("ref/log\n");
    const g = await lava(["get", "job", "-r", "ref", "ref/cmd"], env);
    expect(g.code).toBe(1);
    expect(g.stderr).toContain("no job ref/cmd in realm ref");
  });

  test("lava config applies the realm's config map", async () => {
    const r = await lava(["config", "-r", "other"], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("CMD_TIMEOUT=5m (realm)\n");
    expect(r.stdout).toContain("PKG_TIMEOUT=10m (default)\n");
    const e = await lava(["config", "-r", "other"], { ...env, LAVA_CMD_TIMEOUT: "1h" });
    expect(e.stdout).toContain("CMD_TIMEOUT=1h (env)\n");
  });
});
