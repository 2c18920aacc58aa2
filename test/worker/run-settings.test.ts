/**
 * A job's run settings (iteration_limit, iteration_delay, max_run_delay, cw_metrics) are parsed once,
 * by one parser (items.ts runSettingsOf); a value that does not convert rejects the run naming the field,
 * never a silent default. Runs the real worker on the local backend.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { dispatchJob } from "../../src/core/dispatch.ts";
import { RunSettingError, runSettingsOf } from "../../src/core/items.ts";
import type { Item } from "../../src/ports/index.ts";
import { eventsOf, localRealm, makeWorker, type LocalRealm } from "./support.ts";

let realm: LocalRealm;
beforeEach(async () => {
  realm = await localRealm();
});
afterEach(async () => {
  await realm.close();
});

const base = { worker: "core", payload: null, enabled: true, owner: "me", description: "settings", type: "log" };

async function run(jobId: string, settings: Record<string, unknown>): Promise<{ statuses: string[]; info: unknown }> {
  await realm.putJob({ ...base, job_id: jobId, ...settings });
  await dispatchJob(realm.ports, { realm: "ref", jobId });
  const { worker } = makeWorker(realm.ports, realm.tmp);
  await worker.start();
  await worker.run();
  await worker.cleanup();
  const [item] = await eventsOf(realm.ports, jobId);
  const log = item!.log as Item[];
  return { statuses: log.map((e) => String(e.status)), info: log[log.length - 1]!.info };
}

describe("run settings", () => {
  test.each([
    ["cw_metrics", "maybe", "Bad cw_metrics: maybe"],
    ["iteration_limit", "3abc", "Bad iteration_limit: 3abc"],
    ["iteration_delay", "10 parsecs", "Bad iteration_delay: 10 parsecs"],
    ["max_run_delay", "soon", "Bad max_run_delay: soon"],
  ])("a bad %s (%p) is a rejected run naming the field", async (field, value, text) => {
    const r = await run(`ref/bad-${field}`, { [field]: value });
    expect(r.statuses).toEqual(["starting", "rejected"]);
    expect(r.info).toBe(text);
  });

  test("text forms the original accepts still run", async () => {
    const r = await run("ref/text", { iteration_limit: "2", iteration_delay: "0s", max_run_delay: "1h", cw_metrics: "false" });
    expect(r.statuses).toEqual(["starting", "running", "complete"]);
  });

  test("runSettingsOf: defaults, conversions, and the first bad field in the original's order", () => {
    expect(runSettingsOf({})).toEqual({ iterationLimit: 1, iterationDelaySeconds: 0, maxRunDelaySeconds: undefined, cwMetrics: undefined });
    expect(runSettingsOf({ iteration_limit: 3, iteration_delay: "2m", max_run_delay: 90, cw_metrics: true })).toEqual({
      iterationLimit: 3,
      iterationDelaySeconds: 120,
      maxRunDelaySeconds: 90,
      cwMetrics: true,
    });
    const err = (() => {
      try {
        runSettingsOf({ iteration_limit: "x", max_run_delay: "y" });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(RunSettingError);
    expect((err as RunSettingError).field).toBe("max_run_delay");
  });
});

describe("event_log", () => {
  test("each string is rendered on its own: a dispatched value holding quotes cannot add fields", async () => {
    await realm.putJob({ ...base, job_id: "ref/evlog", event_log: { msg: "key {{ globals.k }}", n: 2 } });
    await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/evlog", globals: { k: 'x", "evil": "1' } });
    const { worker } = makeWorker(realm.ports, realm.tmp);
    await worker.start();
    await worker.run();
    await worker.cleanup();
    const [item] = await eventsOf(realm.ports, "ref/evlog");
    const logged = (item!.log as Item[]).find((e) => e.status === "logging")?.info;
    expect(logged).toEqual({ msg: 'key x", "evil": "1', n: 2 });
  });
});
