/** The event writer: a run's waiting events share one UpdateItem and the item ends as if written one by one. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { EventWriter } from "../../src/core/events.ts";
import { realmTable } from "../../src/core/names.ts";
import { silentLogger } from "../../src/core/log.ts";
import type { Item } from "../../src/ports/index.ts";
import { localRealm, type LocalRealm } from "./support.ts";

let realm: LocalRealm;
beforeAll(async () => {
  realm = await localRealm();
});
afterAll(() => realm.close());

function writer(lingerMs: number): EventWriter {
  return new EventWriter({ ports: realm.ports, realm: "ref", worker: "core", hostname: "vm", ttlSeconds: 172800, log: silentLogger(), lingerMs });
}

async function item(jobId: string, runId: string): Promise<Item> {
  const found = await realm.ports.tables.get(realmTable("ref", "events"), { job_id: jobId, run_id: runId });
  expect(found).toBeDefined();
  return found!;
}

const statuses = (it: Item) => (it.log as Item[]).map((e) => e.status);

describe("EventWriter", () => {
  test("a short run's starting, running and complete events cost one write, in order", async () => {
    const w = writer(1000);
    const target = { job_id: "j/short", run_id: "r-1", ts_dispatch: "2026-11-27T17:42:06+00:00" };
    w.record(target, "starting");
    w.record(target, "running", "Iteration 1");
    w.record(target, "complete", { exit_status: 0, error: null });
    await w.settled("r-1");
    expect(w.writes).toBe(1);
    const it = await item("j/short", "r-1");
    expect(it.status).toBe("complete");
    expect(statuses(it)).toEqual(["starting", "running", "complete"]);
    expect((it.log as Item[])[1]!.info).toBe("Iteration 1");
  });

  test("a final event does not wait for the linger time", async () => {
    const w = writer(60_000);
    const target = { job_id: "j/final", run_id: "r-2", ts_dispatch: "2026-11-27T17:42:06+00:00" };
    w.record(target, "starting");
    w.record(target, "skipped", "not enabled");
    const started = performance.now();
    await w.settled("r-2");
    expect(performance.now() - started).toBeLessThan(30_000);
    expect(statuses(await item("j/final", "r-2"))).toEqual(["starting", "skipped"]);
  });

  test("a long run's first events are written after the linger time, before it ends", async () => {
    const w = writer(20);
    const target = { job_id: "j/long", run_id: "r-3", ts_dispatch: "2026-11-27T17:42:06+00:00" };
    w.record(target, "starting");
    w.record(target, "running", "Iteration 1");
    expect(await w.drain(10_000)).toBe(true);
    expect((await item("j/long", "r-3")).status).toBe("running");
    w.record(target, "complete", { exit_status: 0, error: null });
    await w.settled("r-3");
    expect(w.writes).toBe(2);
    expect(statuses(await item("j/long", "r-3"))).toEqual(["starting", "running", "complete"]);
  });

  test("with no linger every event is its own write", async () => {
    const w = writer(0);
    const target = { job_id: "j/eager", run_id: "r-4", ts_dispatch: "2026-11-27T17:42:06+00:00" };
    w.record(target, "starting");
    await w.settled("r-4");
    w.record(target, "running", "Iteration 1");
    await w.settled("r-4");
    expect(w.writes).toBe(2);
    expect(statuses(await item("j/eager", "r-4"))).toEqual(["starting", "running"]);
  });
});
