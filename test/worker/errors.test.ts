/** The worker's error classification on the local backend: permanent errors dispose at once, retryable ones wait. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { dispatchJob } from "../../src/core/dispatch.ts";
import { POLICIES } from "../../src/core/retry.ts";
import { AccessDeniedError, UnavailableError, type Ports } from "../../src/ports/index.ts";
import { eventsOf, localRealm, makeWorker, statuses, type LocalRealm } from "./support.ts";

let realm: LocalRealm;
beforeEach(async () => {
  realm = await localRealm();
});
afterEach(async () => {
  await realm.close();
});

const logJob = (id: string) => ({ job_id: id, type: "log", worker: "core", payload: null, enabled: true, owner: "me", description: "log" });

/** `realm.ports` with the table and queue calls the test wants to watch or break. */
/** A port's member as the port itself would give it: methods bound, data (such as `batchWaitMs`) as is. */
function member(target: object, prop: string | symbol): unknown {
  const value: unknown = Reflect.get(target, prop, target);
  return typeof value === "function" ? value.bind(target) : value;
}

function instrumented(over: { batchGet?: Ports["tables"]["batchGet"]; get?: Ports["tables"]["get"]; receive?: Ports["queues"]["receive"] }): Ports {
  const { tables, queues } = realm.ports;
  return new Proxy(realm.ports, {
    get(obj, prop) {
      if (prop === "tables") {
        return new Proxy(tables, { get: (t, p) => (p === "batchGet" && over.batchGet) || (p === "get" && over.get) || member(t, p) });
      }
      if (prop === "queues") return new Proxy(queues, { get: (q, p) => (p === "receive" && over.receive) || member(q, p) });
      const value: unknown = Reflect.get(obj, prop, obj);
      return typeof value === "function" ? value.bind(obj) : value;
    },
  });
}

describe("worker error classification", () => {
  test("a job id the table would refuse (3,000 chars): refused at the message boundary with one error record, never read, deleted at once; the other job runs", async () => {
    await realm.putJob(logJob("ref/log"));
    const longId = `ref/${"j".repeat(3000)}`;
    const badRun = await dispatchJob(realm.ports, { realm: "ref", jobId: longId, worker: "core" });
    await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/log" });
    let reads = 0;
    const ports = instrumented({
      get: (table, key, opts) => {
        if (key.job_id === longId) reads++;
        return realm.ports.tables.get(table, key, opts);
      },
    });
    const { worker, log } = makeWorker(ports, realm.tmp, { threads: 5 });
    await worker.start();
    expect(await worker.run()).toBe(0);
    await worker.cleanup();
    const errors = log.records.filter((r) => r.level === "ERROR" && r.fields.run_id === badRun);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toContain("job_id");
    expect(log.records.some((r) => /retrying in/.test(r.message))).toBe(false);
    expect(reads).toBe(0);
    expect(statuses((await eventsOf(realm.ports, "ref/log"))[0]!)).toEqual(["starting", "running", "complete"]);
    const left = await realm.ports.queues.attributes("lava-ref-core");
    expect(left.visible + left.notVisible).toBe(0);
  });

  test("a failed read-ahead falls back for that batch only: the next batch is read ahead again", async () => {
    for (const id of ["ref/a", "ref/b", "ref/c", "ref/d"]) await realm.putJob(logJob(id));
    await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/a" });
    await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/b" });
    let batchGets = 0;
    let receives = 0;
    const ports = instrumented({
      batchGet: (table, keys, opts) => {
        batchGets++;
        if (batchGets === 1) return Promise.reject(new AccessDeniedError("batch get: not allowed"));
        return realm.ports.tables.batchGet(table, keys, opts);
      },
      receive: async (name, opts) => {
        // The second poll finds two new messages together, so it reads ahead again if the worker still does.
        if (++receives === 2) {
          await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/c" });
          await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/d" });
        }
        return realm.ports.queues.receive(name, opts);
      },
    });
    const { worker, log } = makeWorker(ports, realm.tmp, { threads: 5 });
    await worker.start();
    expect(await worker.run()).toBe(0);
    await worker.cleanup();
    expect(batchGets).toBe(2);
    for (const id of ["ref/a", "ref/b", "ref/c", "ref/d"]) expect((await eventsOf(realm.ports, id))[0]?.status).toBe("complete");
    expect(log.records.filter((r) => r.level === "WARNING" && /Reading jobs ahead failed/.test(r.message))).toHaveLength(1);
  });

  test("the jobs table unavailable: the message is returned for later, not deleted", async () => {
    await realm.putJob(logJob("ref/log"));
    const runId = await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/log" });
    let reads = 0;
    const ports = instrumented({
      get: async (table, key, opts) => {
        if (table !== "lava.ref.jobs") return realm.ports.tables.get(table, key, opts);
        reads++;
        throw new UnavailableError("jobs table: unavailable");
      },
    });
    const { worker, log } = makeWorker(ports, realm.tmp);
    await worker.start();
    expect(await worker.run()).toBe(0);
    await worker.cleanup();
    expect(reads).toBe(POLICIES.call.attempts);
    const line = log.records.find((r) => r.level === "ERROR" && r.fields.run_id === runId);
    expect(line?.message).toContain("retrying in 10s");
    const left = await realm.ports.queues.attributes("lava-ref-core");
    expect(left.visible + left.notVisible + left.delayed).toBe(1);
  });
});
