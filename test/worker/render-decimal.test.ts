/**
 * Template numbers by origin, as the original's boto3 reads give them: jobs-table values (and `raw` state,
 * and state defaults) are Decimals, dispatch-message JSON and `json` state are int/float. Handlers still
 * see plain JS numbers. Runs the real worker on the local backend (which stores items as JSON).
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { dispatchJob } from "../../src/core/dispatch.ts";
import { putState } from "../../src/core/state.ts";
import type { JobType } from "../../src/core/job-contract.ts";
import type { Item } from "../../src/ports/index.ts";
import { eventsOf, localRealm, makeWorker, type LocalRealm } from "./support.ts";

let realm: LocalRealm;
beforeEach(async () => {
  realm = await localRealm();
});
afterEach(async () => {
  await realm.close();
});

const base = { worker: "core", payload: null, enabled: true, owner: "me", description: "decimal" };

async function runAll(jobTypes: Record<string, JobType> = {}): Promise<void> {
  const { worker } = makeWorker(realm.ports, realm.tmp, {}, { jobTypes });
  await worker.start();
  await worker.run();
  await worker.cleanup();
}

/** The rendered event_log of the job's single run. */
async function loggedInfo(jobId: string): Promise<unknown> {
  const [item] = await eventsOf(realm.ports, jobId);
  const entry = (item!.log as Item[]).find((e) => e.status === "logging");
  return entry?.info;
}

describe("template numbers by origin", () => {
  test("job.parameters: table numbers print as Decimal, a dispatched JSON number stays int", async () => {
    let seen: Record<string, unknown> = {};
    const probe: JobType = {
      name: "probe",
      async run(run) {
        seen = { ...run.job.parameters, rendered: await run.render("{{ job.parameters.n * 2 }} {{ vars.k / 3 }} {{ vars.k / 4 }}") };
        return {};
      },
    };
    await realm.putJob({
      ...base,
      job_id: "ref/dec",
      type: "probe",
      parameters: { n: 5, r: 1.5, nested: { xs: [1, 2] }, vars: { k: 1 } },
      globals: { g: 3 },
      event_log: "{{ job.parameters }} | {{ [globals.g, globals.h] }} | {{ job.parameters.n }} | {{ job.parameters.r + 1 }}",
    });
    await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/dec", parameters: { m: 7 }, globals: { h: 2 } });
    await runAll({ probe });
    expect(await loggedInfo("ref/dec")).toBe(
      "{'n': Decimal('5'), 'r': Decimal('1.5'), 'nested': {'xs': [Decimal('1'), Decimal('2')]}, 'vars': {'k': Decimal('1')}, 'm': 7}" +
        " | [Decimal('3'), 2] | 5 | 2.5",
    );
    // Handlers get plain JS numbers; only the template view changes.
    expect(seen.n).toBe(5);
    expect(seen.m).toBe(7);
    expect(seen.rendered).toBe("10 0.3333333333333333333333333333 0.25");
  });

  test("a dispatched value overriding a table key is JSON (int); Decimal + float fails as in Python", async () => {
    await realm.putJob({ ...base, job_id: "ref/over", type: "log", parameters: { n: 5 }, event_log: "{{ job.parameters }}" });
    await realm.putJob({ ...base, job_id: "ref/mix", type: "log", parameters: { n: 5 }, event_log: "{{ job.parameters.n + 0.5 }}" });
    await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/over", parameters: { n: 6 } });
    await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/mix" });
    await runAll();
    expect(await loggedInfo("ref/over")).toBe("{'n': 6}");
    expect(String(await loggedInfo("ref/mix"))).toContain("unsupported operand type(s) for +: 'decimal.Decimal' and 'float'");
  });

  test("state: defaults and raw items are Decimals, json items are int", async () => {
    await putState(realm.ports, "ref", { state_id: "s_raw", value: { k: 4 }, type: "raw" });
    await putState(realm.ports, "ref", { state_id: "s_json", value: { k: 4 }, type: "json" });
    await realm.putJob({
      ...base,
      job_id: "ref/state",
      type: "log",
      state: { s_raw: 0, s_json: 0, s_default: 9 },
      event_log: "{{ state }} {{ job.state.s_json.k + 1 }}",
    });
    await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/state" });
    await runAll();
    expect(await loggedInfo("ref/state")).toBe("{'s_raw': {'k': Decimal('4')}, 's_json': {'k': 4}, 's_default': Decimal('9')} 5");
  });

  test("children keep the parent's origins; their own table values are Decimals", async () => {
    const parent: JobType = {
      name: "parent",
      async run(run) {
        await run.runChild!("ref/kid", { ...run.job.globals, added: 1 });
        return {};
      },
    };
    await realm.putJob({ ...base, job_id: "ref/parent", type: "parent", globals: { pt: 1 } });
    await realm.putJob({ ...base, job_id: "ref/kid", type: "log", globals: { own: 2 }, event_log: "{{ [globals.own, globals.pt, globals.pj, globals.added] }}" });
    await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/parent", globals: { pj: 3 } });
    await runAll({ parent });
    expect(await loggedInfo("ref/kid")).toBe("[Decimal('2'), Decimal('1'), 3, 1]");
  });
});
