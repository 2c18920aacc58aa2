/**
 * Fault injection on the aws backend: a real worker process (`bun src/main.ts worker`) talks to dynalite
 * and fauxqs through the fault proxy, which throttles, fails, delays or drops chosen requests.
 *
 * For each fault: the run's outcome is what the original gives (or a clear event where it gives none), a
 * log line names realm, job_id and run_id, the worker keeps serving (except the documented exit after 5
 * failed receives), and no message is lost: every dispatched run completes, or is still on the queue.
 * docs/WORKER.md "Delivery guarantees" is the contract checked here.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { needs } from "../support/availability.ts";
import { emulatorsPresent } from "../support/emulators.ts";
import { POLICIES } from "../../src/core/retry.ts";
import { dispatchJob } from "../../src/core/dispatch.ts";
import {
  dispatch,
  eventOf,
  namesRun,
  putJob,
  queueDepth,
  SECRET_KEY,
  spawnWorker,
  startWorld,
  statuses,
  until,
  type FaultWorld,
} from "./support.ts";

const present = needs("dynalite and fauxqs (npm devDependencies)", emulatorsPresent.dynalite() && emulatorsPresent.fauxqs());

/** Long-running mode: poll every second, no sleep after an empty poll; stopped with SIGHUP. */
const SERVE = ["--wait", "1", "-s", "0"];
const BATCH = ["--batch", "--wait", "1"];
const PARAM_SECRET = "hunter2-param-7c1e";

const JOBS = {
  log: { job_id: "ref/log", type: "log", payload: null },
  true: { job_id: "ref/true", type: "cmd", payload: "true" },
  echo: { job_id: "ref/echo", type: "cmd", payload: "echo hello" },
  sleep: { job_id: "ref/sleep", type: "cmd", payload: "sleep 5", parameters: { jinja: false } },
};

describe.if(present)("worker under AWS faults", () => {
  let world: FaultWorld;

  beforeAll(async () => {
    world = await startWorld();
    for (const job of Object.values(JOBS)) await putJob(world, job);
  }, 60_000);

  afterAll(async () => {
    await world?.close();
  });

  /** Requests the proxy failed to forward (emulator trouble, not an injected fault): must stay empty. */
  const proxyErrors: string[] = [];

  beforeEach(() => {
    proxyErrors.push(...world.proxy.requests.filter((r) => r.error).map((r) => `${r.op}: ${r.error}`));
    world.proxy.requests.length = 0;
  });

  afterEach(() => {
    world.proxy.clear();
  });

  const jobsTable = "lava.ref.jobs";

  test("GetItem of the job throttled 3 times and ReceiveMessage twice: absorbed by retries, the job runs once", async () => {
    // (Not the `log` job: printing its job spec, parameters included, is what it is for.)
    const runId = await dispatch(world, "ref/true", { env: { API_TOKEN: PARAM_SECRET } });
    const getItem = world.proxy.add({ service: "dynamodb", op: "GetItem", match: jobsTable, fault: { kind: "throttle" }, count: 3 });
    const receive = world.proxy.add({ service: "sqs", op: "ReceiveMessage", fault: { kind: "throttle" }, count: 2 });
    const w = spawnWorker(world, BATCH);
    expect(await w.done).toBe(0);
    expect(getItem.fired).toBe(3);
    expect(receive.fired).toBe(2);
    const item = await eventOf(world, "ref/true", runId);
    expect(statuses(item)).toEqual(["starting", "running", "complete"]);
    expect(await queueDepth(world)).toBe(0);
  }, 30_000);

  test("one job lookup under throttling costs at most the policy's attempts in GetItem requests, then the message is returned", async () => {
    const runId = await dispatch(world, "ref/log");
    const throttle = world.proxy.add({ service: "dynamodb", op: "GetItem", match: jobsTable, fault: { kind: "throttle" } });
    const w = spawnWorker(world, SERVE);
    const line = await w.waitFor("the prepare failure", (r) => namesRun(r, "ref/log", runId) && r.level === "ERROR");
    expect(String(line.message)).toContain("retrying in 10s");
    // No second loop beneath the policy (the lite client, the SDK) multiplies the requests.
    expect(world.proxy.count("dynamodb.GetItem", (r) => r.body.includes(jobsTable))).toBe(POLICIES.call.attempts);
    throttle.remove();
    await until("the run to complete", async () => (await eventOf(world, "ref/log", runId))?.status === "complete", 25_000);
    w.proc.kill("SIGHUP");
    expect(await w.done).toBe(0);
    expect(await queueDepth(world)).toBe(0);
  }, 40_000);

  test("a job id DynamoDB would refuse (3,000 chars): refused at the message boundary with one error record, never read, deleted at once; the other job runs", async () => {
    const longId = `ref/${"j".repeat(3000)}`;
    const badRun = await dispatchJob(world.ports, { realm: "ref", jobId: longId, worker: "core" });
    const okRun = await dispatch(world, "ref/log");
    const w = spawnWorker(world, ["-t", "5", ...BATCH]);
    expect(await w.done).toBe(0);
    const errors = w.records().filter((r) => r.level === "ERROR" && r.run_id === badRun);
    expect(errors).toHaveLength(1);
    expect(String(errors[0]!.message)).toContain("job_id");
    expect(w.records().some((r) => /retrying in/.test(String(r.message)))).toBe(false);
    // Never sent to DynamoDB: neither read on its own nor in the read-ahead.
    expect(world.proxy.count("dynamodb.GetItem", (r) => r.body.includes(longId))).toBe(0);
    expect(world.proxy.count("dynamodb.BatchGetItem", (r) => r.body.includes(longId))).toBe(0);
    expect((await eventOf(world, "ref/log", okRun))?.status).toBe("complete");
    expect(await queueDepth(world)).toBe(0);
  }, 30_000);

  test("access denied reading the job: deleted at once with one error record naming the run; never retried", async () => {
    const runId = await dispatch(world, "ref/true");
    const deny = world.proxy.add({ service: "dynamodb", op: "GetItem", match: jobsTable, fault: { kind: "deny" } });
    const w = spawnWorker(world, BATCH);
    expect(await w.done).toBe(0);
    expect(deny.fired).toBe(1);
    const errors = w.records().filter((r) => r.level === "ERROR" && namesRun(r, "ref/true", runId));
    expect(errors).toHaveLength(1);
    expect(String(errors[0]!.message)).toContain("access denied");
    expect(await eventOf(world, "ref/true", runId)).toBeUndefined();
    expect(await queueDepth(world)).toBe(0);
    world.dispatched.delete(runId); // never runs, by design
  }, 30_000);

  test("GetItem of the job unavailable for a while: message returned, not deleted; logged with ids; runs later", async () => {
    const runId = await dispatch(world, "ref/log");
    const outage = world.proxy.add({ service: "dynamodb", op: "GetItem", match: jobsTable, fault: { kind: "error", status: 503 } });
    const w = spawnWorker(world, SERVE);
    const line = await w.waitFor("the prepare failure", (r) => /cannot prepare the run/.test(String(r.message)));
    expect(namesRun(line, "ref/log", runId)).toBe(true);
    expect(line.level).toBe("ERROR");
    expect(String(line.message)).toContain(`Job ref/log (${runId})`);
    expect(world.proxy.count("sqs.DeleteMessage")).toBe(0);
    outage.remove();
    const item = await until("the run to complete", async () => {
      const i = await eventOf(world, "ref/log", runId);
      return i?.status === "complete" && i;
    }, 25_000);
    expect(statuses(item).filter((s) => s === "starting")).toHaveLength(1);
    w.proc.kill("SIGHUP");
    expect(await w.done).toBe(0);
    expect(world.proxy.count("sqs.DeleteMessage")).toBe(1);
    expect(await queueDepth(world)).toBe(0);
  }, 40_000);

  test("events UpdateItem throttled 4 times: the run's events are written in order, then the message is deleted", async () => {
    const runId = await dispatch(world, "ref/true");
    const rule = world.proxy.add({ service: "dynamodb", op: "UpdateItem", match: runId, fault: { kind: "throttle" }, count: 4 });
    const w = spawnWorker(world, BATCH);
    expect(await w.done).toBe(0);
    expect(rule.fired).toBe(4);
    const item = await eventOf(world, "ref/true", runId);
    expect(statuses(item)).toEqual(["starting", "running", "complete"]);
    expect(w.records().some((r) => r.level === "WARNING" && /Throttled or unavailable writing/.test(String(r.message)) && namesRun(r, "ref/true", runId))).toBe(true);
    // Deleted only once every event was written.
    const lastUpdate = world.proxy.requests.findLastIndex((r) => r.op === "dynamodb.UpdateItem");
    const deleted = world.proxy.requests.findIndex((r) => r.op === "sqs.DeleteMessage");
    expect(deleted).toBeGreaterThan(lastUpdate);
    expect(await queueDepth(world)).toBe(0);
  }, 30_000);

  test("events UpdateItem unavailable for a while: the message is kept until the events land, then deleted; next job served", async () => {
    const slowRun = await dispatch(world, "ref/true");
    const nextRun = await dispatch(world, "ref/log");
    // Twelve failed writes: past the logged attempts, about 25 s of back-off in all.
    const rule = world.proxy.add({ service: "dynamodb", op: "UpdateItem", match: slowRun, count: 12, fault: { kind: "error", status: 503 } });
    const w = spawnWorker(world, ["-t", "2", ...BATCH]);
    expect(await w.done).toBe(0);
    expect(rule.fired).toBe(12);
    const item = await eventOf(world, "ref/true", slowRun);
    expect(statuses(item)).toEqual(["starting", "running", "complete"]);
    expect(w.records().some((r) => /Could not log to/.test(String(r.message)))).toBe(false);
    expect((await eventOf(world, "ref/log", nextRun))?.status).toBe("complete");
    // The slow run's message was deleted only after its events were written.
    const written = world.proxy.requests.findLastIndex((r) => r.op === "dynamodb.UpdateItem" && r.status === 200 && r.body.includes(slowRun));
    expect(written).toBeGreaterThan(-1);
    const deletes = world.proxy.requests.map((r, i) => [r, i] as const).filter(([r]) => r.op === "sqs.DeleteMessage");
    expect(deletes.length).toBe(2);
    expect(deletes[deletes.length - 1]![1]).toBeGreaterThan(written);
    expect(await queueDepth(world)).toBe(0);
  }, 60_000);

  test("S3 PutObject of the output failing (SlowDown): the run fails naming the upload, the next job is served", async () => {
    const failRun = await dispatch(world, "ref/echo");
    const okRun = await dispatch(world, "ref/true");
    const rule = world.proxy.add({ service: "s3", op: "PutObject", match: failRun, fault: { kind: "throttle" } });
    const w = spawnWorker(world, BATCH);
    expect(await w.done).toBe(0);
    expect(rule.fired).toBeGreaterThan(0);
    const failed = await eventOf(world, "ref/echo", failRun);
    expect(failed?.status).toBe("failed");
    const info = (failed?.log as { status: string; info: { error?: string } }[]).find((e) => e.status === "failed")!.info;
    expect(info.error).toContain(`s3://lava-ref/`);
    expect(info.error).toContain("SlowDown");
    expect(w.records().some((r) => r.level === "ERROR" && namesRun(r, "ref/echo", failRun))).toBe(true);
    expect((await eventOf(world, "ref/true", okRun))?.status).toBe("complete");
    expect(await queueDepth(world)).toBe(0);
  }, 30_000);

  test("ReceiveMessage unavailable: 5 attempts (the receive policy), then exit 1; the waiting message stays on the queue", async () => {
    const runId = await dispatch(world, "ref/log");
    world.proxy.add({ service: "sqs", op: "ReceiveMessage", fault: { kind: "error", status: 503 } });
    const w = spawnWorker(world, SERVE);
    expect(await w.done).toBe(1);
    const times = world.proxy.requests.filter((r) => r.op === "sqs.ReceiveMessage").map((r) => r.at);
    expect(times).toHaveLength(POLICIES.receive.attempts);
    const warnings = w.records().filter((r) => r.level === "WARNING" && /^receive from lava-ref-core/.test(String(r.message)));
    expect(warnings).toHaveLength(5);
    expect(w.records().some((r) => r.level === "ERROR" && /Too many failed attempts - abort/.test(String(r.message)))).toBe(true);
    world.proxy.clear();
    expect(await queueDepth(world)).toBe(1);
    const again = spawnWorker(world, BATCH);
    expect(await again.done).toBe(0);
    expect((await eventOf(world, "ref/log", runId))?.status).toBe("complete");
  }, 40_000);

  test("DeleteMessage failing twice is retried: the run happens once and the message is gone", async () => {
    const runId = await dispatch(world, "ref/true");
    const rule = world.proxy.add({ service: "sqs", op: "DeleteMessage", fault: { kind: "error", status: 500 }, count: 2 });
    const w = spawnWorker(world, BATCH);
    expect(await w.done).toBe(0);
    expect(rule.fired).toBe(2);
    expect(world.proxy.count("sqs.DeleteMessage")).toBe(3);
    expect(statuses(await eventOf(world, "ref/true", runId))).toEqual(["starting", "running", "complete"]);
    expect(await queueDepth(world)).toBe(0);
  }, 30_000);

  test("DeleteMessage failing on every retry: logged with ids; the message comes back and the run repeats (at-least-once)", async () => {
    const runId = await dispatch(world, "ref/true");
    // The worker tries a delete 5 times; all of the first run's attempts fail.
    world.proxy.add({ service: "sqs", op: "DeleteMessage", fault: { kind: "error", status: 503 }, count: 5 });
    const w = spawnWorker(world, SERVE);
    const line = await w.waitFor("the delete failure", (r) => /Could not delete message/.test(String(r.message)));
    expect(namesRun(line, "ref/true", runId)).toBe(true);
    const item = await until("the repeated run", async () => {
      const i = await eventOf(world, "ref/true", runId);
      return statuses(i).filter((s) => s === "complete").length === 2 && i;
    }, 20_000);
    expect(statuses(item)).toEqual(["starting", "running", "complete", "starting", "running", "complete"]);
    await until("the second delete", async () => world.proxy.count("sqs.DeleteMessage", (r) => r.status === 200) === 1);
    w.proc.kill("SIGHUP");
    expect(await w.done).toBe(0);
    expect(await queueDepth(world)).toBe(0);
  }, 40_000);

  test("ChangeMessageVisibility failing: the job continues, each failure logged with ids", async () => {
    const runId = await dispatch(world, "ref/sleep");
    const rule = world.proxy.add({ service: "sqs", op: "ChangeMessageVisibility", fault: { kind: "error", status: 503 } });
    // One slot: with extensions failing the message may become visible again, and a free slot would take it.
    const w = spawnWorker(world, ["-t", "1", ...SERVE]);
    await until("the run to complete", async () => (await eventOf(world, "ref/sleep", runId))?.status === "complete", 20_000);
    w.proc.kill("SIGHUP");
    expect(await w.done).toBe(0);
    expect(rule.fired).toBeGreaterThanOrEqual(2);
    const warnings = w.records().filter((r) => /Could not extend visibility/.test(String(r.message)));
    expect(warnings.length).toBe(rule.fired);
    expect(warnings.every((r) => r.level === "WARNING" && namesRun(r, "ref/sleep", runId))).toBe(true);
    expect(statuses(await eventOf(world, "ref/sleep", runId))).toEqual(["starting", "running", "complete"]);
    expect(await queueDepth(world)).toBe(0);
  }, 30_000);

  test("ChangeMessageVisibility denied: one warning, no further extension attempts for that message; the job completes", async () => {
    const runId = await dispatch(world, "ref/sleep");
    const deny = world.proxy.add({ service: "sqs", op: "ChangeMessageVisibility", fault: { kind: "deny" } });
    const w = spawnWorker(world, ["-t", "1", ...SERVE]);
    await until("the run to complete", async () => (await eventOf(world, "ref/sleep", runId))?.status === "complete", 20_000);
    w.proc.kill("SIGHUP");
    expect(await w.done).toBe(0);
    expect(deny.fired).toBe(1);
    const warnings = w.records().filter((r) => r.level === "WARNING" && /grant sqs:ChangeMessageVisibility/.test(String(r.message)));
    expect(warnings).toHaveLength(1);
    expect(await queueDepth(world)).toBe(0);
  }, 30_000);

  test("connections dropped mid-request (before and after the backend acted): every run completes, nothing is lost", async () => {
    const first = await dispatch(world, "ref/log");
    const second = await dispatch(world, "ref/true");
    const rules = [
      // Two messages may arrive in one receive: their jobs are then read in one BatchGetItem, their deletes batched.
      world.proxy.add({ service: "dynamodb", op: "*", match: (r) => /^(Batch)?GetItem$/.test(r.op) && r.body.includes(jobsTable), fault: { kind: "drop", when: "before" }, count: 1 }),
      // The receive took the message on the queue's side; the worker never saw it: it returns after the timeout.
      world.proxy.add({ service: "sqs", op: "ReceiveMessage", fault: { kind: "drop", when: "after" }, count: 1, match: (r) => r.body.includes("MaxNumberOfMessages") }),
      world.proxy.add({ service: "dynamodb", op: "UpdateItem", match: first, fault: { kind: "drop", when: "before" }, count: 1 }),
      world.proxy.add({ service: "dynamodb", op: "UpdateItem", match: second, fault: { kind: "drop", when: "after" }, count: 1 }),
      world.proxy.add({ service: "sqs", op: "*", match: (r) => /^DeleteMessage(Batch)?$/.test(r.op), fault: { kind: "drop", when: "after" }, count: 1 }),
    ];
    const w = spawnWorker(world, SERVE);
    for (const [jobId, runId] of [["ref/log", first], ["ref/true", second]] as const) {
      await until(`${jobId} to complete`, async () => (await eventOf(world, jobId, runId))?.status === "complete", 25_000);
    }
    await until("both deletes", async () => (await queueDepth(world)) === 0, 15_000);
    w.proc.kill("SIGHUP");
    expect(await w.done).toBe(0);
    for (const rule of rules) expect(rule.fired).toBe(1);
    const expected = ["starting", "running", "complete"];
    expect(statuses(await eventOf(world, "ref/log", first))).toEqual(expected);
    // DynamoDB applied the second run's first write but the answer was lost: the SDK sent it again, so that
    // write's entries appear twice (botocore retries a reset connection the same way). Nothing is missing
    // and the order holds: the log is the first write's entries, then every entry once.
    const s = statuses(await eventOf(world, "ref/true", second));
    const duplicated = [1, 2, 3].some((k) => JSON.stringify(s) === JSON.stringify([...expected.slice(0, k), ...expected]));
    expect({ statuses: s, duplicated }).toEqual({ statuses: s, duplicated: true });
  }, 60_000);

  test("no secret in any worker output; every dispatched run completed or failed; the queue is empty", async () => {
    expect(world.outputs.length).toBeGreaterThan(0);
    for (const out of world.outputs) {
      expect(out).not.toContain(SECRET_KEY);
      expect(out).not.toContain(PARAM_SECRET);
    }
    for (const [runId, jobId] of world.dispatched) {
      expect([runId, (await eventOf(world, jobId, runId))?.status]).toEqual([runId, expect.stringMatching(/^(complete|failed)$/)]);
    }
    expect(await queueDepth(world)).toBe(0);
    expect(proxyErrors).toEqual([]);
  });
});
