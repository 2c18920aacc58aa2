/**
 * Hostile ids at the message boundary and the terminal-status guarantee (docs/WORKER.md, "Containment"
 * and "Every run ends"), in-process on the local backend. test/e2e/worker-hostile.test.ts runs the
 * hostile messages through spawned workers on both backends.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { dispatchJob } from "../../src/core/dispatch.ts";
import type { JobType } from "../../src/core/job-contract.ts";
import { runDirIn } from "../../src/core/worker/job-run.ts";
import { parseDispatchMessage, MessageRejected } from "../../src/core/worker/message.ts";
import { eventsOf, localRealm, makeWorker, statuses, type LocalRealm } from "./support.ts";

let realm: LocalRealm;
beforeEach(async () => {
  realm = await localRealm();
});
afterEach(async () => {
  await realm.close();
});

const TS = "2026-11-27T17:42:16+00:00";
const logJob = { job_id: "ref/log", type: "log", worker: "core", payload: null, enabled: true, owner: "me", description: "log" };
const cmdJob = { job_id: "ref/cmd", type: "cmd", worker: "core", payload: "pwd", enabled: true, owner: "me", description: "cmd" };
const body = (jobId: string, runId: string) => JSON.stringify({ realm: "ref", worker: "core", job_id: jobId, run_id: runId, ts_dispatch: TS });

async function runBatch(opts = {}, extra = {}) {
  const { worker, log } = makeWorker(realm.ports, realm.tmp, opts, extra);
  await worker.start();
  const code = await worker.run();
  await worker.cleanup();
  return { worker, log, code };
}

describe("run_id and job_id at the message boundary", () => {
  test("a UUID or any safe single path segment is accepted", () => {
    for (const runId of ["836862d5-2354-4748-a31b-201ce5b0d986", "r1", "run.1", "...", "a b", "x".repeat(255), "é"]) {
      expect(parseDispatchMessage(body("team/job", runId), "ref", "core").run_id).toBe(runId);
    }
  });

  test("path separators, NUL, control characters, '.', '..' and over-long ids are refused, naming the field", () => {
    const refused: [string, string, RegExp][] = [
      ["ref/log", "../escape/x", /run_id "..\/escape\/x" contains "\/"/],
      ["ref/log", "x\u0000", /run_id "x\\u0000" contains NUL/],
      ["ref/log", ".", /run_id "." is "."/],
      ["ref/log", "..", /run_id ".." is ".."/],
      ["ref/log", "a\\b", /run_id .* contains "\/" or "\\"/],
      ["ref/log", "x".repeat(256), /run_id "x{64}"\.\.\. \(256 characters\) is longer than 255 bytes/],
      ["j".repeat(3000), "r1", /job_id "j{64}"\.\.\. \(3000 characters\) is longer than 1024 bytes/],
      ["ref/\u0000log", "r1", /job_id .* contains NUL/],
      ["ref/log\n", "r1", /job_id .* control character/],
      ["ref/\ud800", "r1", /job_id .* not valid Unicode/],
    ];
    for (const [jobId, runId, reason] of refused) {
      let caught: unknown;
      try {
        parseDispatchMessage(body(jobId, runId), "ref", "core");
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(MessageRejected);
      expect((caught as MessageRejected).reason).toMatch(reason);
    }
  });

  test("the refusal carries an events key only when DynamoDB could store it and the message is ours", () => {
    const refusal = (b: string) => {
      try {
        parseDispatchMessage(b, "ref", "core");
      } catch (err) {
        return err as MessageRejected;
      }
      throw new Error("accepted");
    };
    expect(refusal(body("ref/log", "../x")).record).toEqual({ job_id: "ref/log", run_id: "../x", ts_dispatch: TS });
    expect(refusal(body("j".repeat(3000), "r1")).record).toBeUndefined();
    expect(refusal(body("ref/log", "x".repeat(1025))).record).toBeUndefined();
    expect(refusal(JSON.stringify({ realm: "other", worker: "core", job_id: "ref/log", run_id: "..", ts_dispatch: TS })).record).toBeUndefined();
  });

  test("runDirIn: only a directory directly inside the worker's area", () => {
    expect(runDirIn("/tmp/lava/ref/core.1", "abc")).toBe("/tmp/lava/ref/core.1/abc");
    for (const bad of ["../x", "..", ".", "a/b", "a/..", "/etc", "x\u0000", ""]) expect(runDirIn("/tmp/lava/ref/core.1", bad)).toBeUndefined();
  });

  test("hostile messages: one error record each, a rejected event where the key is recordable, nothing made outside the area", async () => {
    await realm.putJob(cmdJob);
    await realm.putJob(logJob);
    const outside = join(realm.tmp, "ref", "escaped");
    const hostile: [string, string][] = [
      ["ref/cmd", "../escaped/x"],
      ["ref/cmd", "x\u0000"],
      ["ref/cmd", "."],
      ["ref/cmd", ".."],
      ["ref/cmd", "a/.."],
      ["j".repeat(3000), "r-long-job"],
    ];
    for (const [jobId, runId] of hostile) await realm.ports.queues.send("lava-ref-core", body(jobId, runId));
    const good = await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/log" });
    const { log, worker, code } = await runBatch({ threads: 3 });
    expect(code).toBe(0);
    expect(worker.stats.rejected).toBe(hostile.length);
    const errors = log.records.filter((r) => r.level === "ERROR");
    expect(errors.length).toBe(hostile.length);
    for (const e of errors) expect(e.message).toMatch(/^Malformed dispatch message: (run_id|job_id) /);
    expect(existsSync(outside)).toBe(false);
    const items = await eventsOf(realm.ports, "ref/cmd");
    expect(items.map((i) => i.run_id).sort()).toEqual(["../escaped/x", "x\u0000", ".", "..", "a/.."].sort());
    for (const item of items) {
      expect(statuses(item)).toEqual(["rejected"]);
      expect(String((item.log as { info: unknown }[])[0]!.info)).toMatch(/^Malformed dispatch message: run_id /);
    }
    const [ok] = (await eventsOf(realm.ports, "ref/log")).filter((i) => i.run_id === good);
    expect(ok!.status).toBe("complete");
    const attrs = await realm.ports.queues.attributes("lava-ref-core");
    expect(attrs.visible + attrs.notVisible).toBe(0);
  });
});

describe("every run that started ends in a terminal status", () => {
  async function onlyRun(jobId: string) {
    const [item] = await eventsOf(realm.ports, jobId);
    return item!;
  }

  test("the run directory already exists (two deliveries met): failed with the reason, message deleted", async () => {
    await realm.putJob(logJob);
    const runId = await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/log" });
    const { worker } = makeWorker(realm.ports, realm.tmp);
    await worker.start();
    mkdirSync(join(worker.workerTmp, runId));
    expect(await worker.run()).toBe(0);
    await worker.cleanup();
    const item = await onlyRun("ref/log");
    expect(statuses(item)).toEqual(["starting", "failed"]);
    expect((item.log as { info: unknown }[])[1]!.info).toBe("Job temp dir already exists - possible dispatch overlap");
    const attrs = await realm.ports.queues.attributes("lava-ref-core");
    expect(attrs.visible + attrs.notVisible).toBe(0);
  });

  test("the run directory cannot be made: failed", async () => {
    await realm.putJob(logJob);
    await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/log" });
    const { worker } = makeWorker(realm.ports, realm.tmp);
    await worker.start();
    // The worker's area replaced by a file: mkdir fails with ENOTDIR.
    await Bun.write(join(worker.workerTmp, "..", "blocker"), "");
    const { rmSync, renameSync } = await import("node:fs");
    rmSync(worker.workerTmp, { recursive: true });
    renameSync(join(worker.workerTmp, "..", "blocker"), worker.workerTmp);
    expect(await worker.run()).toBe(0);
    rmSync(worker.workerTmp, { force: true });
    const item = await onlyRun("ref/log");
    expect(statuses(item)).toEqual(["starting", "failed"]);
    expect(String((item.log as { info: unknown }[])[1]!.info)).toMatch(/ENOTDIR|not a directory/i);
  });

  test("loading state fails: failed with the reason", async () => {
    await realm.putJob({ ...logJob, state: { s1: "default" } });
    await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/log" });
    await runBatch({}, { deps: { loadState: async () => Promise.reject(new Error("state table gone")) } });
    const item = await onlyRun("ref/log");
    expect(statuses(item)).toEqual(["starting", "failed"]);
    expect((item.log as { info: unknown }[])[1]!.info).toBe("state table gone");
  });

  test("the job type cannot be loaded: failed", async () => {
    await realm.putJob(logJob);
    await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/log" });
    await runBatch({}, { deps: { jobType: async () => Promise.reject(new Error("plugin broke")) } });
    const item = await onlyRun("ref/log");
    expect(statuses(item)).toEqual(["starting", "failed"]);
    expect((item.log as { info: unknown }[])[1]!.info).toBe("plugin broke");
  });

  test("a hard stop during the retry delay: failed, not left at retrying", async () => {
    const flop: JobType = {
      name: "flop",
      async run() {
        throw new Error("nope");
      },
    };
    await realm.putJob({ ...logJob, job_id: "ref/flop", type: "flop", iteration_limit: 2, iteration_delay: "1m" });
    await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/flop" });
    const { worker } = makeWorker(realm.ports, realm.tmp, { batch: false, waitSeconds: 1 }, { jobTypes: { flop } });
    await worker.start();
    const done = worker.run();
    while (!(await eventsOf(realm.ports, "ref/flop"))[0]?.status?.toString().startsWith("retrying")) await Bun.sleep(50);
    await worker.hardStop();
    expect(await done).toBe(143);
    await worker.events.drain(5000);
    await worker.cleanup();
    const item = await onlyRun("ref/flop");
    expect(statuses(item)).toEqual(["starting", "running", "retrying", "failed"]);
  });

  test("the worker's area holds nothing after refused and failed runs", async () => {
    await realm.putJob(logJob);
    await realm.ports.queues.send("lava-ref-core", body("ref/log", "../x"));
    const { worker } = makeWorker(realm.ports, realm.tmp);
    await worker.start();
    await worker.run();
    expect(readdirSync(worker.workerTmp)).toEqual([]);
    await worker.cleanup();
  });
});
