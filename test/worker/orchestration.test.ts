/**
 * chain, dag and foreach in the real worker on the local backend (in-process): children through the
 * whole lifecycle, scheduling, resume, generators, and every bad input ending in a clear event before
 * any child runs while the worker keeps serving. A `probe` job type records what ran, when, with which globals.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { dispatchJob } from "../../src/core/dispatch.ts";
import { JobFailure, type JobType } from "../../src/core/job-contract.ts";
import { LavaConfig } from "../../src/core/config.ts";
import { realmTable } from "../../src/core/names.ts";
import type { Item } from "../../src/ports/index.ts";
import { findCycle } from "../../src/handlers/dag.ts";
import { dagNodes } from "../../src/handlers/orchestration.ts";
import { csvRecords } from "../../src/handlers/foreach-generators.ts";
import { eventsOf, localRealm, makeWorker, statuses, type LocalRealm } from "./support.ts";

interface Probe {
  id: string;
  start: number;
  end: number;
  globals: Record<string, unknown>;
}

let realm: LocalRealm;
let probes: Probe[];
let running = 0;
let maxRunning = 0;

/** Sleeps `parameters.ms`, fails when `parameters.fail`; records start, end and globals. */
const probe: JobType = {
  name: "probe",
  async run(run) {
    const p: Probe = { id: run.job.job_id, start: performance.now(), end: 0, globals: run.job.globals };
    probes.push(p);
    running++;
    maxRunning = Math.max(maxRunning, running);
    try {
      await Bun.sleep(Number(run.job.parameters.ms ?? 0));
      if (run.job.parameters.fail) throw new JobFailure("probe failed as asked");
      return { exit_status: 0 };
    } finally {
      running--;
      p.end = performance.now();
    }
  },
};

const job = (id: string, over: Record<string, unknown> = {}): Item => ({
  job_id: id,
  type: "probe",
  worker: "core",
  payload: null,
  enabled: true,
  owner: "t",
  description: "t",
  ...over,
});

beforeEach(async () => {
  realm = await localRealm();
  probes = [];
  running = 0;
  maxRunning = 0;
});
afterEach(async () => {
  await realm.close();
});

async function runBatch(env: Record<string, string> = {}) {
  const { worker, log } = makeWorker(realm.ports, realm.tmp, { threads: 4 }, {
    jobTypes: { probe },
    deps: { makeConfig: (rc) => new LavaConfig(rc, { LAVA_TMPDIR: realm.tmp, ...env }) },
  });
  await worker.start();
  const code = await worker.run();
  await worker.cleanup();
  return { code, log };
}

async function item(jobId: string, runId: string): Promise<Item | undefined> {
  return (await eventsOf(realm.ports, jobId)).find((i) => i.run_id === runId);
}

/** The last log entry's info of a run. */
async function lastInfo(jobId: string, runId: string): Promise<Record<string, unknown>> {
  const it = await item(jobId, runId);
  const log = it!.log as Item[];
  return log[log.length - 1]!.info as Record<string, unknown>;
}

const dispatch = (jobId: string, extra: { parameters?: Record<string, unknown> } = {}) =>
  dispatchJob(realm.ports, { realm: "ref", jobId, ...extra });

describe("chain", () => {
  test("runs its children in order in its run; result as the original's; children's events under the shared run id", async () => {
    await realm.putJob(job("ref/a"));
    await realm.putJob(job("ref/b", { globals: { g: "child", own: 1 } }));
    await realm.putJob(job("ref/chain", { type: "chain", payload: ["ref/a", "ref/b"], globals: { g: "parent" } }));
    const runId = await dispatch("ref/chain");
    expect((await runBatch()).code).toBe(0);
    expect(probes.map((p) => p.id)).toEqual(["ref/a", "ref/b"]);
    expect(probes[0]!.end).toBeLessThanOrEqual(probes[1]!.start);
    const info = await lastInfo("ref/chain", runId);
    expect(info).toEqual({ exit_status: 0, jobs: ["ref/a", "ref/b"], failed_jobs: [], error: null });
    expect(Object.keys(info)).toEqual(["exit_status", "jobs", "failed_jobs", "error"]);
    for (const id of ["ref/a", "ref/b"]) expect(statuses((await item(id, runId))!)).toEqual(["starting", "running", "complete"]);
    const g = probes[1]!.globals;
    expect(g.g).toBe("parent");
    expect(g.own).toBe(1);
    expect((g.lava as Record<string, unknown>).parent_job_id).toBe("ref/chain");
    expect((g.lava as Record<string, unknown>).master_job_id).toBe("ref/chain");
  });

  test("comma string, job_prefix and start; a statically disabled child is skipped and the chain goes on", async () => {
    for (const id of ["p/a", "p/b", "p/d"]) await realm.putJob(job(id));
    await realm.putJob(job("p/c", { enabled: false }));
    await realm.putJob(job("ref/chain", { type: "chain", payload: " a, b ,c,d", parameters: { job_prefix: "p/", start: "b" } }));
    const runId = await dispatch("ref/chain");
    await runBatch();
    expect(probes.map((p) => p.id)).toEqual(["p/b", "p/d"]);
    expect(statuses((await item("p/c", runId))!)).toEqual(["skipped"]);
    expect((await lastInfo("ref/chain", runId)).jobs).toEqual(["p/b", "p/c", "p/d"]);
  });

  test("start as the original tests it (`if start := ...`): 0, false and \"\" run the chain from its first job", async () => {
    for (const id of ["ref/a", "ref/b"]) await realm.putJob(job(id));
    const runIds: string[] = [];
    for (const [i, start] of [0, false, ""].entries()) {
      await realm.putJob(job(`ref/chain-${i}`, { type: "chain", payload: ["ref/a", "ref/b"], parameters: { start } }));
      runIds.push(await dispatch(`ref/chain-${i}`));
    }
    await runBatch();
    for (const [i, runId] of runIds.entries()) expect([i, (await lastInfo(`ref/chain-${i}`, runId)).jobs]).toEqual([i, ["ref/a", "ref/b"]]);
  });

  test("a failing child ends the chain unless can_fail matches it (case-sensitive glob)", async () => {
    await realm.putJob(job("ref/ok"));
    await realm.putJob(job("ref/bad-1", { parameters: { fail: true } }));
    await realm.putJob(job("ref/tolerant", { type: "chain", payload: ["ref/ok", "ref/bad-1", "ref/ok"], parameters: { can_fail: ["ref/bad-*"] } }));
    await realm.putJob(job("ref/strict", { type: "chain", payload: ["ref/ok", "ref/bad-1", "ref/ok"], parameters: { can_fail: "ref/BAD-*" } }));
    const tolerant = await dispatch("ref/tolerant");
    const strict = await dispatch("ref/strict");
    await runBatch();
    expect(await lastInfo("ref/tolerant", tolerant)).toEqual({ exit_status: 0, jobs: ["ref/ok", "ref/ok"], failed_jobs: ["ref/bad-1"], error: null });
    const s = await item("ref/strict", strict);
    expect(s!.status).toBe("failed");
    const error = "Job ref/bad-1: probe failed as asked";
    expect((s!.log as Item[]).at(-1)!.info).toEqual({ error_data: { exit_status: 1, jobs: ["ref/ok"], failed_jobs: ["ref/bad-1"], error }, error });
  });
});

describe("dag", () => {
  test("predecessor-only ids run too; each node after its own predecessors; result lists completion order", async () => {
    for (const id of ["d/a", "d/b", "d/c", "d/d"]) await realm.putJob(job(id, { parameters: { ms: 20 } }));
    await realm.putJob(job("ref/dag", { type: "dag", payload: { "d/b": "d/a", "d/c": ["d/a", "d/b"], "d/d": null } }));
    const runId = await dispatch("ref/dag");
    await runBatch();
    const at = (id: string) => probes.find((p) => p.id === id)!;
    expect(probes.length).toBe(4);
    expect(at("d/b").start).toBeGreaterThanOrEqual(at("d/a").end);
    expect(at("d/c").start).toBeGreaterThanOrEqual(at("d/b").end);
    const info = await lastInfo("ref/dag", runId);
    expect(info.exit_status).toBe(0);
    expect([...(info.jobs as string[])].sort()).toEqual(["d/a", "d/b", "d/c", "d/d"]);
    expect((info.jobs as string[]).indexOf("d/c")).toBe(3);
  });

  test("predecessors as the original reads them: 0, false and {} are none, a map's keys are the predecessors", async () => {
    for (const id of ["d/a", "d/b", "d/c", "d/d"]) await realm.putJob(job(id, { parameters: { ms: 10 } }));
    await realm.putJob(job("ref/dag", { type: "dag", payload: { "d/a": 0, "d/b": false, "d/c": {}, "d/d": { "d/a": 1, "d/b": null } } }));
    const runId = await dispatch("ref/dag");
    await runBatch();
    const at = (id: string) => probes.find((p) => p.id === id)!;
    expect(probes.map((p) => p.id).sort()).toEqual(["d/a", "d/b", "d/c", "d/d"]);
    expect(at("d/d").start).toBeGreaterThanOrEqual(Math.max(at("d/a").end, at("d/b").end));
    expect((await lastInfo("ref/dag", runId)).exit_status).toBe(0);
  });

  test("a node starts when its own predecessors are done, not when the whole wave is (one slow branch)", async () => {
    await realm.putJob(job("d/slow", { parameters: { ms: 400 } }));
    await realm.putJob(job("d/fast", { parameters: { ms: 10 } }));
    await realm.putJob(job("d/after-fast", { parameters: { ms: 10 } }));
    await realm.putJob(job("ref/dag", { type: "dag", payload: { "d/slow": null, "d/fast": null, "d/after-fast": "d/fast" } }));
    await dispatch("ref/dag");
    await runBatch();
    const at = (id: string) => probes.find((p) => p.id === id)!;
    expect(at("d/after-fast").end).toBeLessThan(at("d/slow").end);
  });

  test("at most `workers` children at once; a `workers` above DAG_MAX_WORKERS is clamped with a warning", async () => {
    const payload: Record<string, null> = {};
    for (let i = 0; i < 6; i++) {
      await realm.putJob(job(`w/${i}`, { parameters: { ms: 30 } }));
      payload[`w/${i}`] = null;
    }
    await realm.putJob(job("ref/dag2", { type: "dag", payload, parameters: { workers: 2 } }));
    await realm.putJob(job("ref/dag9", { type: "dag", payload, parameters: { workers: 9 } }));
    const two = await dispatch("ref/dag2");
    const { log } = await runBatch({ LAVA_DAG_MAX_WORKERS: "3" });
    expect(maxRunning).toBe(2);
    expect((await item("ref/dag2", two))!.status).toBe("complete");
    maxRunning = 0;
    const nine = await dispatch("ref/dag9");
    const second = await runBatch({ LAVA_DAG_MAX_WORKERS: "3" });
    expect(maxRunning).toBe(3);
    expect((await item("ref/dag9", nine))!.status).toBe("complete");
    expect(second.log.records.some((r) => r.message === "Too many DAG workers (9): limiting to 3" && r.level === "WARNING")).toBe(true);
    expect(log.records.some((r) => String(r.message).startsWith("Too many DAG workers"))).toBe(false);
  });

  test("can_fail lets successors run; a failure not allowed stops new starts and fails the dag", async () => {
    await realm.putJob(job("d/bad", { parameters: { fail: true } }));
    await realm.putJob(job("d/next"));
    await realm.putJob(job("ref/tolerant", { type: "dag", payload: { "d/next": "d/bad" }, parameters: { can_fail: "d/*" } }));
    await realm.putJob(job("ref/strict", { type: "dag", payload: { "d/next": "d/bad" } }));
    const tolerant = await dispatch("ref/tolerant");
    const strict = await dispatch("ref/strict");
    await runBatch();
    expect(await lastInfo("ref/tolerant", tolerant)).toEqual({ exit_status: 0, jobs: ["d/next"], failed_jobs: ["d/bad"], error: null });
    expect((await item("d/next", strict))).toBeUndefined();
    const error = "Job d/bad: probe failed as asked";
    expect(await lastInfo("ref/strict", strict)).toEqual({ error_data: { exit_status: 1, jobs: [], failed_jobs: ["d/bad"], error }, error });
  });

  test("delivered again in the same run: nodes already complete are not run again", async () => {
    for (const id of ["r/a", "r/b", "r/c"]) await realm.putJob(job(id));
    await realm.putJob(job("ref/dag", { type: "dag", payload: { "r/b": "r/a", "r/c": "r/b" } }));
    const runId = await dispatch("ref/dag");
    // What a worker that died after r/a left behind.
    await realm.ports.tables.put(realmTable("ref", "events"), { job_id: "r/a", run_id: runId, status: "complete", log: [] });
    await realm.ports.tables.put(realmTable("ref", "events"), { job_id: "r/b", run_id: runId, status: "running", log: [] });
    const { log } = await runBatch();
    expect(probes.map((p) => p.id)).toEqual(["r/b", "r/c"]);
    expect((await lastInfo("ref/dag", runId)).jobs).toEqual(["r/a", "r/b", "r/c"]);
    expect(log.records.some((r) => r.message === "Job r/a already complete in this run: not run again")).toBe(true);
  });

  test("the cycle named as Python's graphlib names it", () => {
    const cycle = (p: Record<string, unknown>) => findCycle(dagNodes(p, ""));
    expect(cycle({ a: ["b"], b: ["a"] })).toEqual(["a", "b", "a"]);
    expect(cycle({ x: [], a: ["c"], b: ["a"], c: ["b"] })).toEqual(["a", "b", "c", "a"]);
    expect(cycle({ a: ["a"] })).toEqual(["a", "a"]);
    expect(cycle({ a: ["b", "c"], c: ["d"], d: ["a"], b: [] })).toEqual(["a", "d", "c", "a"]);
    expect(cycle({ a: ["b"], c: "b" })).toBeUndefined();
  });
});

describe("foreach", () => {
  test("range: one child run per value, globals merged (values over parent over child), lava.foreach_index; result as the original's", async () => {
    await realm.putJob(job("f/child", { globals: { n: "child", c: 1, p: "child" } }));
    await realm.putJob(job("ref/fe", { type: "foreach", payload: "f/child", globals: { p: "parent" }, parameters: { foreach: { type: "range", name: "n", start: 10, stop: 4, step: -3 } } }));
    const runId = await dispatch("ref/fe");
    await runBatch();
    expect(probes.map((p) => p.globals.n)).toEqual([10, 7]);
    expect(probes.map((p) => (p.globals.lava as Record<string, unknown>).foreach_index)).toEqual([0, 1]);
    expect(probes[0]!.globals.p).toBe("parent");
    expect(probes[0]!.globals.c).toBe(1);
    expect((probes[0]!.globals.lava as Record<string, unknown>).parent_job_id).toBe("ref/fe");
    const info = await lastInfo("ref/fe", runId);
    expect(info).toEqual({ exit_status: 0, limit: 10, foreach_len: 2, jobs_completed: 2, failed_indexes: [], error: null });
    const child = await item("f/child", runId);
    expect(statuses(child!)).toEqual(["starting", "running", "complete", "starting", "running", "complete"]);
  });

  test("inline, jsonl and csv (s3:// and a file a chain sibling wrote in the run directory), query (sqlite3), s3list with globs", async () => {
    await realm.putJob(job("f/child"));
    const put = (key: string, text: string) => realm.ports.objects.put(`s3://lava-ref/${key}`, text);
    await put("in/x.jsonl", '{"a": 1, "b": "x"}\n{"a": 2}\n');
    await put("in/x.csv", 'a,b\r\n1,"q,""x"""\r\n\r\n2\r\n');
    await put("list/one.csv", "1");
    await put("list/deep/two.csv", "22");
    await put("list/three.txt", "333");
    const db = join(realm.home, "q.db");
    const sq = new Database(db);
    sq.run("CREATE TABLE t (k TEXT, v INTEGER)");
    sq.run("INSERT INTO t VALUES ('a', 1), ('b', 2)");
    sq.close();
    await realm.ports.tables.put(realmTable("ref", "connections"), { conn_id: "q", type: "sqlite3", enabled: true, host: db, port: 0, user: "-" });
    const fe = (id: string, foreach: Record<string, unknown>) =>
      realm.putJob(job(id, { type: "foreach", payload: "f/child", parameters: { foreach } }));
    await fe("fe/inline", { type: "inline", values: [{ a: "a0" }, { a: "a1", b: [1] }] });
    await fe("fe/jsonl", { type: "jsonl", filename: "s3://lava-ref/in/x.jsonl" });
    await fe("fe/csv", { type: "csv", filename: "s3://{{ realm.s3_payloads.split('/')[2] }}/in/x.csv" });
    await fe("fe/query", { type: "query", conn_id: "q", query: "SELECT k, v FROM t ORDER BY k" });
    await fe("fe/s3list", { type: "s3list", bucket: "lava-ref", prefix: "list/", glob: ["*.csv"] });
    await fe("fe/local", { type: "jsonl", filename: "made.jsonl" });
    await realm.putJob(job("f/make", { type: "cmd", payload: "sh -c 'echo \"{\\\"m\\\":1}\" > made.jsonl'", parameters: { jinja: false } }));
    await realm.putJob(job("ref/chain", { type: "chain", payload: ["f/make", "fe/local"] }));
    const ids: Record<string, string> = {};
    for (const id of ["fe/inline", "fe/jsonl", "fe/query", "fe/s3list", "ref/chain"]) ids[id] = await dispatch(id);
    await runBatch();
    const seen = (runId: string, keys: string[]) =>
      probes.filter((p) => (p.globals.lava as Record<string, unknown>).master_job_id === runId).map((p) => Object.fromEntries(keys.map((k) => [k, p.globals[k]])));
    expect(seen("fe/inline", ["a", "b"])).toEqual([{ a: "a0", b: undefined }, { a: "a1", b: [1] }]);
    expect(seen("fe/jsonl", ["a", "b"])).toEqual([{ a: 1, b: "x" }, { a: 2, b: undefined }]);
    expect(seen("fe/query", ["k", "v"])).toEqual([{ k: "a", v: 1 }, { k: "b", v: 2 }]);
    const objs = seen("fe/s3list", ["s3obj"]).map((v) => v.s3obj as Record<string, unknown>);
    expect(objs.map((o) => o.Key)).toEqual(["list/deep/two.csv", "list/one.csv"]);
    expect(Object.keys(objs[0]!)).toEqual(["Key", "LastModified", "ETag", "Size", "StorageClass", "Bucket"]);
    expect(objs[0]!.Size).toBe(2);
    expect(objs[0]!.LastModified).toBeInstanceOf(Date);
    expect(seen("ref/chain", ["m"])).toEqual([{ m: 1 }]);
    for (const id of Object.keys(ids)) expect([id, (await item(id, ids[id]!))!.status]).toEqual([id, "complete"]);
  });

  test("csv rows as Python's DictReader gives them: quotes, doubled quotes, blank lines skipped, missing fields None, extra fields out of reach", async () => {
    await realm.putJob(job("f/child"));
    await realm.ports.objects.put("s3://lava-ref/in/x.csv", 'a,b\r\n1,"q,""x"""\r\n\r\n2\n"multi\nline",z\n3,4,\n5,6,7,8\n');
    await realm.putJob(job("fe/csv", { type: "foreach", payload: "f/child", parameters: { foreach: { type: "csv", filename: "s3://lava-ref/in/x.csv" } } }));
    await dispatch("fe/csv");
    await runBatch();
    expect(probes.map((p) => [p.globals.a, p.globals.b])).toEqual([["1", 'q,"x"'], ["2", null], ["multi\nline", "z"], ["3", "4"], ["5", "6"]]);
    // DictReader keeps extra fields under the key None, a name nothing can use: here they are not globals at all.
    expect(probes.slice(3).map((p) => Object.keys(p.globals).filter((k) => !["a", "b", "lava"].includes(k)))).toEqual([[], []]);
  });

  test("can_fail keeps going; without it the first failure ends the loop naming the index", async () => {
    await realm.putJob(job("f/bad", { parameters: { fail: true } }));
    const values = [{ x: 1 }, { x: 2 }];
    await realm.putJob(job("fe/tolerant", { type: "foreach", payload: "f/bad", parameters: { can_fail: true, foreach: { type: "inline", values } } }));
    await realm.putJob(job("fe/strict", { type: "foreach", payload: "f/bad", parameters: { foreach: { type: "inline", values } } }));
    const t = await dispatch("fe/tolerant");
    const s = await dispatch("fe/strict");
    await runBatch();
    expect(await lastInfo("fe/tolerant", t)).toEqual({ exit_status: 0, limit: 10, foreach_len: 2, jobs_completed: 0, failed_indexes: [0, 1], error: null });
    const error = "Job f/bad: Index 0: probe failed as asked";
    expect(await lastInfo("fe/strict", s)).toEqual({ error_data: { exit_status: 1, limit: 10, foreach_len: 2, jobs_completed: 0, failed_indexes: [0], error }, error });
  });

  test("csvRecords: \\r line ends and a field after a closing quote", async () => {
    const recs: string[][] = [];
    for await (const r of csvRecords(new Response('a,"b"c\rd,\r\n').body!)) recs.push(r);
    expect(recs).toEqual([["a", "bc"], ["d", ""]]);
  });
});

describe("foreach local sources stay inside the run directory (docs/SECURITY.md, foreach sources)", () => {
  test("a symlink or ../ out of the run directory is refused before anything is read, even when the target is valid jsonl", async () => {
    const outside = join(realm.home, "outside.jsonl");
    await Bun.write(outside, '{"stolen": 1}\n');
    await realm.putJob(job("f/child"));
    await realm.putJob(job("f/link", { type: "cmd", payload: `ln -s ${outside} link.jsonl`, parameters: { jinja: false } }));
    await realm.putJob(job("fe/via-link", { type: "foreach", payload: "f/child", parameters: { foreach: { type: "jsonl", filename: "link.jsonl" } } }));
    await realm.putJob(job("ref/chain-link", { type: "chain", payload: ["f/link", "fe/via-link"] }));
    // The run directory's parent is the worker's area: a valid file there is still outside the run.
    await realm.putJob(job("f/up", { type: "cmd", payload: `cp ${outside} ../up.jsonl`, parameters: { jinja: false } }));
    await realm.putJob(job("fe/via-dotdot", { type: "foreach", payload: "f/child", parameters: { foreach: { type: "jsonl", filename: "../up.jsonl" } } }));
    await realm.putJob(job("ref/chain-up", { type: "chain", payload: ["f/up", "fe/via-dotdot"] }));
    const link = await dispatch("ref/chain-link");
    const up = await dispatch("ref/chain-up");
    await runBatch();
    expect(probes).toEqual([]);
    for (const [id, runId, name] of [["fe/via-link", link, "link.jsonl"], ["fe/via-dotdot", up, "../up.jsonl"]] as const) {
      const it = await item(id, runId);
      const info = (it!.log as Item[]).at(-1)!.info as Record<string, unknown>;
      expect([id, it!.status, info.error]).toEqual([id, "failed", `${name}: local files must be inside the run directory`]);
    }
  });
});

describe("bad input: a clear failed event before any child runs, and the worker keeps serving", () => {
  test("every case in one batch", async () => {
    await realm.putJob(job("ok/a"));
    await realm.putJob(job("ok/other", { worker: "elsewhere" }));
    await realm.putJob(job("ok/log", { type: "log" }));
    await realm.ports.objects.put("s3://lava-ref/bad.jsonl", '{"a": 1}\n{"a": 2\n');
    await realm.ports.objects.put("s3://lava-ref/empty.csv", "");
    await realm.ports.objects.put("s3://lava-ref/lava.csv", "x,LavaX\n1,2\n");
    const fe = (foreach: unknown, more: Record<string, unknown> = {}) => ({ type: "foreach", payload: "ok/a", parameters: { foreach, ...more } });
    const cases: [string, Record<string, unknown>, string][] = [
      ["chain/number", { type: "chain", payload: 7 }, "Bad payload: must be string or list"],
      ["chain/empty", { type: "chain", payload: [] }, "Job chain is empty"],
      ["chain/blank", { type: "chain", payload: "" }, "Job chain is empty"],
      ["chain/missing", { type: "chain", payload: ["ok/a", "ok/nope"] }, "ok/nope: No such job"],
      ["chain/worker", { type: "chain", payload: ["ok/a", "ok/other"] }, "Job ok/other: Worker mismatch: Expected core but got elsewhere"],
      ["chain/self", { type: "chain", payload: ["ok/a", "chain/self"] }, "Bad payload: the chain would run itself: chain/self -> chain/self"],
      ["chain/via-dag", { type: "chain", payload: ["ok/a", "dag/back"] }, "Bad payload: the chain would run itself: chain/via-dag -> dag/back -> chain/via-dag"],
      ["chain/start", { type: "chain", payload: ["ok/a"], parameters: { start: "zz" } }, "Requested start job zz is not present in the chain"],
      ["chain/can-fail", { type: "chain", payload: ["ok/a"], parameters: { can_fail: 3 } }, "Bad can_fail: must be a glob or a list of globs, not 3"],
      ["dag/list", { type: "dag", payload: ["ok/a"] }, "payload must be a map"],
      ["dag/cycle", { type: "dag", payload: { "ok/a": "x/b", "x/b": "ok/a" } }, "Jobs are in a cycle: ok/a, x/b, ok/a"],
      ["dag/missing-pred", { type: "dag", payload: { "ok/a": "ok/ghost" } }, "ok/ghost: No such job"],
      ["dag/worker", { type: "dag", payload: { "ok/a": null, "ok/other": "ok/a" } }, "ok/other: Worker mismatch: Expected core but got elsewhere"],
      ["dag/pred-type", { type: "dag", payload: { "ok/a": 5 } }, "Bad payload: predecessors of ok/a must be a job id, a list of job ids or null, not 5"],
      ["dag/workers", { type: "dag", payload: { "ok/a": null }, parameters: { workers: "many" } }, 'Bad workers: must be an integer, not "many"'],
      ["fe/payload", { type: "foreach", payload: ["ok/a"], parameters: { foreach: { type: "range", stop: 1 } } }, "Bad payload: must be string"],
      ["fe/limit", fe({ type: "range", stop: 11 }), "foreach value list exceeds limit of 10"],
      ["fe/max", fe({ type: "range", stop: 1 }, { limit: 26 }), "foreach limit of 26 exceeds realm limit of 25"],
      ["fe/jsonl", fe({ type: "jsonl", filename: "s3://lava-ref/bad.jsonl" }), "s3://lava-ref/bad.jsonl: line 2: "],
      ["fe/csv", fe({ type: "csv", filename: "s3://lava-ref/empty.csv" }), "s3://lava-ref/empty.csv: csv file has no header"],
      ["fe/lava", fe({ type: "csv", filename: "s3://lava-ref/lava.csv" }), 'foreach field names may not start with "lava": LavaX'],
      ["fe/bucket", fe({ type: "s3list", bucket: "no-such-bucket" }), "Bad foreach (s3list): bucket no-such-bucket: "],
      ["fe/outside", fe({ type: "jsonl", filename: "/etc/passwd" }), "/etc/passwd: local files must be inside the run directory"],
      ["fe/dotdot", fe({ type: "csv", filename: "../x.csv" }), "../x.csv: "],
      ["fe/scheme", fe({ type: "csv", filename: "https://example.com/x.csv" }), "https://example.com/x.csv: only s3:// objects and local files in the run directory can be read"],
      ["fe/type", fe({ type: "nope" }), "No foreach handler for type nope"],
      ["fe/fields", fe({ type: "range" }), "Bad foreach (range): Missing keys: stop"],
      ["fe/step", fe({ type: "range", stop: 3, step: 0 }), "Bad foreach (range): step must not be zero"],
      ["fe/worker", { type: "foreach", payload: "ok/other", parameters: { foreach: { type: "range", stop: 1 } } }, "Job ok/other: Worker mismatch: Expected core but got elsewhere"],
      ["fe/missing", { type: "foreach", payload: "ok/ghost", parameters: { foreach: { type: "range", stop: 1 } } }, "Job ok/ghost: No such job"],
    ];
    await realm.putJob(job("dag/back", { type: "dag", payload: { "chain/via-dag": null } }));
    const runs: [string, string, string][] = [];
    for (const [id, spec, error] of cases) {
      await realm.putJob(job(id, spec));
      runs.push([id, await dispatch(id), error]);
    }
    const last = await dispatch("ok/log");
    expect((await runBatch()).code).toBe(0);
    expect(probes).toEqual([]);
    for (const [id, runId, error] of runs) {
      const it = await item(id, runId);
      const info = (it!.log as Item[]).at(-1)!.info as Record<string, unknown>;
      expect([id, it!.status, String(info.error).startsWith(error) ? error : info.error]).toEqual([id, "failed", error]);
    }
    expect((await item("ok/log", last))!.status).toBe("complete");
  });
});
