/** The worker in-process on the local backend: run lifecycle, events, bad input, stops, children. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { dispatchJob } from "../../src/core/dispatch.ts";
import { JobFailure, type JobType } from "../../src/core/job-contract.ts";
import { ThrottledError, type Item, type Ports } from "../../src/ports/index.ts";
import { EventWriter } from "../../src/core/events.ts";
import { haveGolden } from "../support/shared.ts";
import { eventsOf, GOLDEN, localRealm, makeWorker, silentLogger, statuses, type LocalRealm } from "./support.ts";

type DynamoType = "S" | "N" | "NULL" | "L" | "M" | "BOOL";
interface GoldenEvents {
  items: Item[];
  items_raw: Record<string, Record<DynamoType, unknown>>[];
}

function kindOf(value: unknown): string {
  if (value === null) return "NULL";
  if (Array.isArray(value)) return "L";
  if (typeof value === "object") return "M";
  if (typeof value === "number") return "N";
  if (typeof value === "boolean") return "BOOL";
  return "S";
}

const withGolden = haveGolden();

async function golden(name: string): Promise<GoldenEvents> {
  return (await Bun.file(join(GOLDEN, "events", `${name}.json`)).json()) as GoldenEvents;
}

/** Field names, attribute types, log entry layout and status sequence of ours against the original's. */
function expectSameShape(ours: Item, theirs: GoldenEvents): void {
  const raw = theirs.items_raw[0]!;
  const item = theirs.items[0]!;
  expect(Object.keys(ours).sort()).toEqual(Object.keys(item).sort());
  for (const [k, typed] of Object.entries(raw)) expect(`${k}:${kindOf(ours[k])}`).toBe(`${k}:${Object.keys(typed)[0]}`);
  expect(statuses(ours)).toEqual(statuses(item));
  const ourLog = ours.log as Item[];
  (item.log as Item[]).forEach((entry, i) => {
    expect(Object.keys(ourLog[i]!)).toEqual(Object.keys(entry));
    expect(kindOf(ourLog[i]!.info)).toBe(kindOf(entry.info));
    if (entry.info && typeof entry.info === "object") expect(Object.keys(ourLog[i]!.info as Item)).toEqual(Object.keys(entry.info as Item));
    if (typeof entry.info === "string") expect(ourLog[i]!.info).toBe(entry.info);
  });
  expect(ours.tu_event as string).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
  expect(ours.ts_event as string).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/);
  expect(new Date(ours.ts_event as string).toISOString().slice(0, 19)).toBe(ours.tu_event as string);
  const ttl = ours.ttl as number;
  const expected = Date.parse(`${ours.tu_event as string}Z`) / 1000 + 2 * 86400;
  expect(ttl).toBe(expected);
}

let realm: LocalRealm;
beforeEach(async () => {
  realm = await localRealm();
});
afterEach(async () => {
  await realm.close();
});

const logJob = { job_id: "ref/log", type: "log", worker: "core", payload: null, enabled: true, owner: "me", description: "log" };

async function runBatch(ports: Ports = realm.ports, opts = {}, extra = {}) {
  const { worker, log } = makeWorker(ports, realm.tmp, opts, extra);
  await worker.start();
  const code = await worker.run();
  await worker.cleanup();
  return { worker, log, code };
}

describe("job runs", () => {
  test.if(withGolden)("a log job: starting, running, complete, in the original's item shape; message deleted", async () => {
    await realm.putJob(logJob);
    const runId = await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/log" });
    const { code } = await runBatch();
    expect(code).toBe(0);
    const [item] = await eventsOf(realm.ports, "ref/log");
    expect(item!.run_id).toBe(runId);
    expectSameShape(item!, await golden("log_success"));
    const attrs = await realm.ports.queues.attributes("lava-ref-core");
    expect(attrs.visible + attrs.notVisible).toBe(0);
  });

  test.if(withGolden)("a cmd job: complete with output, in the original's item shape", async () => {
    await realm.putJob({ job_id: "ref/cmd-true", type: "cmd", worker: "core", payload: "true", enabled: true, owner: "me", description: "t" });
    await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/cmd-true" });
    await runBatch();
    const [item] = await eventsOf(realm.ports, "ref/cmd-true");
    expectSameShape(item!, await golden("cmd_true_success"));
  });

  test.if(withGolden)("a failing cmd job with iterations: retrying then failed, error_data before error", async () => {
    await realm.putJob({ job_id: "ref/cmd-retry", type: "cmd", worker: "core", payload: "false", enabled: true, iteration_limit: 2, owner: "o", description: "d" });
    await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/cmd-retry" });
    await runBatch();
    const [item] = await eventsOf(realm.ports, "ref/cmd-retry");
    expectSameShape(item!, await golden("cmd_retry_iterations_fail"));
  });

  test.if(withGolden)("a statically disabled job: one skipped event, nothing else", async () => {
    await realm.putJob({ ...logJob, job_id: "ref/cmd-disabled", enabled: false });
    await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/cmd-disabled" });
    await runBatch();
    const [item] = await eventsOf(realm.ports, "ref/cmd-disabled");
    expectSameShape(item!, await golden("cmd_disabled_skipped"));
  });

  test("parameters and globals of the dispatch are merged over the job's (shallow)", async () => {
    let seen: Record<string, unknown> = {};
    const probe: JobType = {
      name: "probe",
      async run(run) {
        seen = { parameters: run.job.parameters, globals: run.job.globals, s3tmp: run.s3tmp, runDir: run.runDir };
        return { exit_status: 0 };
      },
    };
    await realm.putJob({ ...logJob, job_id: "ref/p", type: "probe", parameters: { a: 1, b: { x: 1 } }, globals: { g: "job" } });
    const runId = await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/p", parameters: { b: { y: 2 } }, globals: { g: "dispatch" } });
    await runBatch(realm.ports, {}, { jobTypes: { probe } });
    expect(seen.parameters).toEqual({ a: 1, b: { y: 2 } });
    expect((seen.globals as Record<string, unknown>).g).toBe("dispatch");
    expect((seen.globals as { lava: Record<string, unknown> }).lava.master_job_id).toBe("ref/p");
    expect(seen.s3tmp).toBe(`s3://lava-ref/tmp/ref/p/${runId}`);
    expect(seen.runDir as string).toEndWith(`/ref/core.${process.pid}/${runId}`);
    expect(existsSync(seen.runDir as string)).toBe(false);
  });

  test("a handler that throws: failed event with the message; on_fail actions run; first failing action recorded", async () => {
    const boom: JobType = {
      name: "boom",
      async run() {
        throw new JobFailure("it broke", { exit_status: 7 });
      },
    };
    await realm.putJob({ ...logJob, job_id: "ref/boom", type: "boom", on_fail: [{ action: "nosuch" }, { action: "log", message: "never" }] });
    await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/boom" });
    const { log } = await runBatch(realm.ports, {}, { jobTypes: { boom } });
    const [item] = await eventsOf(realm.ports, "ref/boom");
    expect(statuses(item!)).toEqual(["starting", "running", "failed", "action_failed"]);
    const failed = (item!.log as Item[])[2]!.info as Item;
    expect(Object.keys(failed)).toEqual(["error_data", "error"]);
    expect(failed).toEqual({ error_data: { exit_status: 7 }, error: "it broke" });
    expect((item!.log as Item[])[3]!.info).toBe("on_fail action: nosuch: unknown action");
    const line = log.records.find((r) => r.message.includes("it broke") && r.level === "ERROR");
    expect(line?.fields).toMatchObject({ job_id: "ref/boom", run_id: item!.run_id });
  });

  test("an unknown job type: failed event naming the type", async () => {
    await realm.putJob({ ...logJob, job_id: "ref/x", type: "nosuch" });
    await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/x" });
    await runBatch();
    const [item] = await eventsOf(realm.ports, "ref/x");
    expect(statuses(item!)).toEqual(["starting", "failed"]);
    expect((item!.log as Item[])[1]!.info).toBe("nosuch: Unknown job type");
  });

  test("a lava 8 job type not run here yet: the original's text plus where to run it", async () => {
    await realm.putJob({ ...logJob, job_id: "ref/smb-get", type: "smb_get" });
    await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/smb-get" });
    await runBatch();
    const [item] = await eventsOf(realm.ports, "ref/smb-get");
    expect(statuses(item!)).toEqual(["starting", "failed"]);
    expect(String((item!.log as Item[])[1]!.info)).toMatch(/^smb_get: Unknown job type \(a lava 8 job type this worker does not run yet/);
  });

  test("a bad enabled template: failed, with the bare Jinja reason as the original words it", async () => {
    await realm.putJob({ ...logJob, job_id: "ref/bad-enabled", enabled: "{{ globals.x.y.z }}" });
    await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/bad-enabled" });
    await runBatch();
    const [item] = await eventsOf(realm.ports, "ref/bad-enabled");
    expect(statuses(item!)).toEqual(["starting", "failed"]);
    expect((item!.log as Item[])[1]!.info).toBe("Bad enabled: 'dict object' has no attribute 'x'");
  });

  test("max_run_delay exceeded and iteration_limit too high are rejected", async () => {
    await realm.putJob({ ...logJob, job_id: "ref/late", max_run_delay: "1s" });
    await realm.putJob({ ...logJob, job_id: "ref/many", iteration_limit: 11 });
    await realm.ports.queues.send(
      "lava-ref-core",
      JSON.stringify({ realm: "ref", worker: "core", job_id: "ref/late", run_id: crypto.randomUUID(), ts_dispatch: "2020-01-01T00:00:00+00:00" }),
    );
    await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/many" });
    await runBatch();
    const [late] = await eventsOf(realm.ports, "ref/late");
    expect((late!.log as Item[]).map((e) => [e.status, e.info])).toEqual([
      ["starting", null],
      ["rejected", "dispatch is more than 1s old"],
    ]);
    expect(late!.ts_dispatch).toBe("2020-01-01T00:00:00+00:00");
    const [many] = await eventsOf(realm.ports, "ref/many");
    expect((many!.log as Item[])[1]).toMatchObject({ status: "rejected", info: "iteration_limit must be <= 10" });
  });

  test("children run in the parent's run: own events under the parent's run_id, parent_* globals", async () => {
    let childGlobals: Record<string, unknown> = {};
    let childDir = "";
    const probe: JobType = {
      name: "probe",
      async run(run) {
        childGlobals = run.job.globals;
        childDir = run.runDir;
        return { exit_status: 0 };
      },
    };
    let parentDir = "";
    const parent: JobType = {
      name: "parent",
      async run(run) {
        parentDir = run.runDir;
        const result = await run.runChild!("ref/child", run.job.globals);
        return { exit_status: 0, child: result };
      },
    };
    await realm.putJob({ ...logJob, job_id: "ref/parent", type: "parent", globals: { pg: "p" } });
    await realm.putJob({ ...logJob, job_id: "ref/child", type: "probe", globals: { pg: "c", cg: "c" } });
    const runId = await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/parent" });
    await runBatch(realm.ports, {}, { jobTypes: { probe, parent } });
    const [p] = await eventsOf(realm.ports, "ref/parent");
    const [c] = await eventsOf(realm.ports, "ref/child");
    expect(c!.run_id).toBe(runId);
    expect(statuses(c!)).toEqual(["starting", "running", "complete"]);
    expect(statuses(p!)).toEqual(["starting", "running", "complete"]);
    expect(childDir).toBe(parentDir);
    expect(childGlobals.pg).toBe("p");
    expect(childGlobals.cg).toBe("c");
    const lava = childGlobals.lava as Record<string, unknown>;
    expect(lava.parent_job_id).toBe("ref/parent");
    expect(lava.master_job_id).toBe("ref/parent");
    expect(lava.parent_start).toBeInstanceOf(Date);
  });
});

describe("bad input", () => {
  test("malformed, hostile and mismatched messages are logged with ids and deleted; the worker keeps serving", async () => {
    await realm.putJob(logJob);
    await realm.putJob({ ...logJob, job_id: "ref/elsewhere", worker: "other" });
    await realm.putJob({ ...logJob, job_id: "ref/lavaglobal", globals: { lavax: 1 } });
    const ts = "2026-11-27T17:42:16+00:00";
    const base = { realm: "ref", worker: "core", ts_dispatch: ts };
    const bodies = [
      "this is not json",
      "",
      "[]",
      '{"a":',
      JSON.stringify({ ...base, job_id: "ref/log" }),
      JSON.stringify({ ...base, job_id: "ref/log", run_id: "r1", extra: true }),
      JSON.stringify({ ...base, job_id: "ref/no-such-job", run_id: "r2" }),
      JSON.stringify({ ...base, worker: "other", job_id: "ref/log", run_id: "r3" }),
      JSON.stringify({ ...base, realm: "other", job_id: "ref/log", run_id: "r4" }),
      JSON.stringify({ ...base, job_id: "ref/elsewhere", run_id: "r5" }),
      JSON.stringify({ ...base, job_id: "ref/lavaglobal", run_id: "r6" }),
      JSON.stringify({ ...base, job_id: "ref/log", run_id: "r7", ts_dispatch: "not a time" }),
      JSON.stringify({ ...base, job_id: "ref/log", run_id: "r8", globals: { lava: { parent_start: "garbage" } } }),
      "x".repeat(200_000),
    ];
    for (const b of bodies) await realm.ports.queues.send("lava-ref-core", b);
    const good = await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/log" });
    const { log, worker, code } = await runBatch(realm.ports, { threads: 3 });
    expect(code).toBe(0);
    expect(worker.stats.rejected).toBe(bodies.length);
    const errors = log.records.filter((r) => r.level === "ERROR");
    expect(errors.length).toBe(bodies.length);
    for (const runId of ["r2", "r3", "r4", "r5", "r6", "r7", "r8"]) {
      expect(errors.some((e) => e.fields.run_id === runId && e.message.includes(runId))).toBe(true);
    }
    expect(errors.some((e) => e.message === "Job ref/no-such-job (r2): No such job")).toBe(true);
    expect(errors.some((e) => e.message === "Job ref/lavaglobal (r6): Reserved global: lavax")).toBe(true);
    const [item] = (await eventsOf(realm.ports, "ref/log")).filter((i) => i.run_id === good);
    expect(item!.status).toBe("complete");
    const attrs = await realm.ports.queues.attributes("lava-ref-core");
    expect(attrs.visible + attrs.notVisible).toBe(0);
  });

  test("a message received more than retries+1 times is dropped with a warning", async () => {
    await realm.putJob(logJob);
    await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/log" });
    for (let i = 0; i < 3; i++) {
      const [m] = await realm.ports.queues.receive("lava-ref-core");
      await realm.ports.queues.changeVisibility("lava-ref-core", m!.receiptHandle, 0);
    }
    const { log, worker } = await runBatch(realm.ports, { retries: 2 });
    expect(worker.stats.dropped).toBe(1);
    expect(log.records.some((r) => r.level === "WARNING" && /Retry limit exceeded - deleted on cycle 4/.test(r.message))).toBe(true);
    expect(await eventsOf(realm.ports, "ref/log")).toEqual([]);
  });

  test("max_tries below the receive count: deleted with an error, no run", async () => {
    await realm.putJob({ ...logJob, max_tries: 1 });
    await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/log" });
    const [m] = await realm.ports.queues.receive("lava-ref-core");
    await realm.ports.queues.changeVisibility("lava-ref-core", m!.receiptHandle, 0);
    const { log } = await runBatch();
    expect(log.records.some((r) => /: max_tries exceeded$/.test(r.message))).toBe(true);
    expect(await eventsOf(realm.ports, "ref/log")).toEqual([]);
  });
});

describe("stops and delivery", () => {
  test("soft stop: a received but unstarted message is back on the queue at once; running jobs finish", async () => {
    await realm.putJob(logJob);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let held = 0;
    const running: JobType = {
      name: "slow",
      async run() {
        await Bun.sleep(300);
        return { exit_status: 0 };
      },
    };
    await realm.putJob({ ...logJob, job_id: "ref/slow", type: "slow" });
    await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/slow" });
    const { worker } = makeWorker(realm.ports, realm.tmp, { threads: 2, batch: false, waitSeconds: 1 }, {
      jobTypes: { slow: running },
      deps: {
        beforeStart: async (req) => {
          if (req.job_id === "ref/log") {
            held++;
            await gate;
          }
        },
      },
    });
    await worker.start();
    const done = worker.run();
    while (worker.stats.runs < 1) await Bun.sleep(20);
    const logRun = await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/log" });
    while (held < 1) await Bun.sleep(20);
    worker.softStop();
    release();
    expect(await done).toBe(0);
    await worker.cleanup();
    const [slow] = await eventsOf(realm.ports, "ref/slow");
    expect(slow!.status).toBe("complete");
    expect(await eventsOf(realm.ports, "ref/log")).toEqual([]);
    const [back] = await realm.ports.queues.receive("lava-ref-core");
    expect(JSON.parse(back!.body).run_id).toBe(logRun);
    expect(back!.receiveCount).toBe(2);
  });

  test("hard stop: the running job is aborted and its message is visible again at once", async () => {
    let aborted = false;
    const hang: JobType = {
      name: "hang",
      run: (run) =>
        new Promise((_resolve, reject) => {
          run.signal.addEventListener("abort", () => {
            aborted = true;
            reject(new Error("killed"));
          });
        }),
    };
    await realm.putJob({ ...logJob, job_id: "ref/hang", type: "hang" });
    const runId = await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/hang" });
    const { worker } = makeWorker(realm.ports, realm.tmp, { batch: false, waitSeconds: 1 }, { jobTypes: { hang } });
    await worker.start();
    const done = worker.run();
    while (worker.stats.runs < 1) await Bun.sleep(20);
    await worker.hardStop();
    expect(await done).toBe(143);
    expect(aborted).toBe(true);
    const [back] = await realm.ports.queues.receive("lava-ref-core");
    expect(JSON.parse(back!.body).run_id).toBe(runId);
    await worker.cleanup();
  });

  test("a run that never ends keeps the worker process alive until a hard stop, which hands its message back (143)", async () => {
    await realm.putJob({ ...logJob, job_id: "ref/never", type: "never" });
    const runId = await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/never" });
    const fixture = join(import.meta.dir, "../fixtures/never-ending-worker.ts");
    const proc = Bun.spawn([process.execPath, fixture, realm.home, realm.tmp], { stdout: "pipe", stderr: "pipe" });
    const stdout = new Response(proc.stdout).text();
    const stderr = new Response(proc.stderr).text();
    const running = async () => (await eventsOf(realm.ports, "ref/never"))[0]?.status === "running";
    while (!(await running()) && proc.exitCode === null) await Bun.sleep(20);
    // The batch found no more messages long ago (--wait 0): only the pending run can be holding it now.
    await Bun.sleep(1500);
    expect([proc.exitCode, await running()]).toEqual([null, true]);
    proc.kill("SIGTERM");
    expect([await proc.exited, await stdout, await stderr]).toEqual([143, "exit 143\n", ""]);
    const [back] = await realm.ports.queues.receive("lava-ref-core");
    expect(JSON.parse(back!.body).run_id).toBe(runId);
  });

  test("never holds more messages than free slots", async () => {
    await realm.putJob(logJob);
    let concurrent = 0;
    let peakHeld = 0;
    const { worker } = makeWorker(realm.ports, realm.tmp, { threads: 3 }, {
      jobTypes: {
        log: {
          name: "log",
          async run() {
            concurrent++;
            peakHeld = Math.max(peakHeld, worker.visibility.count);
            await Bun.sleep(30);
            concurrent--;
            return { exit_status: 0 };
          },
        },
      },
    });
    for (let i = 0; i < 12; i++) await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/log", worker: "core" });
    await worker.start();
    expect(await worker.run()).toBe(0);
    await worker.cleanup();
    expect(peakHeld).toBeLessThanOrEqual(3);
    expect(peakHeld).toBeGreaterThan(1);
    expect((await eventsOf(realm.ports, "ref/log")).length).toBe(12);
  });

  test("the worker tmp dir holds no run directories after the runs", async () => {
    await realm.putJob(logJob);
    await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/log" });
    const { worker } = makeWorker(realm.ports, realm.tmp);
    await worker.start();
    await worker.run();
    expect(readdirSync(worker.workerTmp)).toEqual([]);
    await worker.cleanup();
    expect(existsSync(worker.workerTmp)).toBe(false);
  });
});

describe("event writer", () => {
  test("throttled writes are retried with back-off; a run's events stay in order", async () => {
    let throttles = 3;
    const tables = realm.ports.tables;
    const flaky: Ports = {
      ...realm.ports,
      tables: {
        ...tables,
        get: tables.get.bind(tables),
        query: tables.query.bind(tables),
        update: async (...args: Parameters<typeof tables.update>) => {
          if (throttles-- > 0) throw new ThrottledError("slow down");
          return tables.update(...args);
        },
      },
    };
    const writer = new EventWriter({ ports: flaky, realm: "ref", worker: "core", hostname: "h", log: silentLogger(), backoffMs: 5, ttlSeconds: 60 });
    const target = { job_id: "ref/j", run_id: "r", ts_dispatch: "2026-01-01T00:00:00+00:00" };
    writer.record(target, "starting");
    writer.record(target, "running", "Iteration 1");
    writer.record(target, "complete", { exit_status: 0, error: null, empty: "" });
    expect(await writer.drain(5000)).toBe(true);
    expect(writer.lost).toBe(0);
    const [item] = await eventsOf(realm.ports, "ref/j");
    expect(statuses(item!)).toEqual(["starting", "running", "complete"]);
    expect(item!.worker_id).toBeNull();
    expect(item!.instance_id).toBeUndefined();
    // Falsy values inside info are kept as they are; only top-level fields become null.
    expect((item!.log as Item[])[2]!.info).toEqual({ exit_status: 0, error: null, empty: "" });
  });
});
