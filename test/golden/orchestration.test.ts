/**
 * Golden parity of chain and dag runs: `lava dispatcher` + one `lava worker --batch` on the golden realm,
 * every events item of the run (the parent's and each child's) compared field by field with the original's
 * captures (ids and times aside), on both backends.
 *
 * The golden dag runs `ref/sqli`, a job type this worker does not have yet: until it does, `ref/sqli` is
 * replaced by a `log` job of the same id, so the dag's own item and its other children are compared and
 * the `ref/sqli` child item is not.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { needs } from "../support/availability.ts";
import { emulatorsPresent } from "../support/emulators.ts";
import { jobTypes } from "../../src/handlers/registry.ts";
import { realmTable } from "../../src/core/names.ts";
import { eventItemFindings, golden, goldenPresent } from "./golden.ts";
import { eventItem, lava, openBackend, runBatchWorker, type BackendName, type Finished, type GoldenBackend } from "./setup.ts";

const SCENARIOS = [
  { scenario: "chain_success", job: "ref/chain" },
  { scenario: "chain_fail", job: "ref/chain-fail" },
  { scenario: "dag_success", job: "ref/dag" },
];
const haveSqli = "sqli" in jobTypes;

function describeBackend(name: BackendName): void {
  describe(`golden parity of chain and dag [${name}]`, () => {
    let b: GoldenBackend;
    let worker: Finished;
    const runIds: Record<string, string> = {};

    beforeAll(async () => {
      b = await openBackend(name);
      if (!haveSqli) {
        await b.ports.tables.put(realmTable("ref", "jobs"), { job_id: "ref/sqli", type: "log", worker: "core", payload: null, enabled: true, owner: "ref@example.com", description: "stand-in for the sqli job" });
      }
      for (const s of SCENARIOS) {
        const out = await lava(b, ["dispatcher", "-r", "ref", s.job]);
        const m = /dispatched \(([0-9a-f-]{36})\)/.exec(out.stderr + out.stdout);
        if (out.code !== 0 || !m) throw new Error(`dispatch failed (${out.code}): ${out.stderr}`);
        runIds[s.scenario] = m[1]!;
      }
      worker = await runBatchWorker(b);
    }, 90_000);

    afterAll(async () => {
      await b?.close();
    });

    test("the batch worker exits 0", () => {
      expect(worker.code).toBe(0);
    });

    for (const s of SCENARIOS) {
      test(`${s.scenario}: every events item of the run as golden (parent and children)`, async () => {
        const g = golden.events(s.scenario);
        const runId = runIds[s.scenario]!;
        for (const [i, gItem] of g.items.entries()) {
          const jobId = String(gItem.job_id);
          if (jobId === "ref/sqli" && !haveSqli) continue;
          const ours = await eventItem(b, jobId, runId);
          expect([jobId, ours === undefined]).toEqual([jobId, false]);
          expect([jobId, eventItemFindings(ours!, g.items_raw[i]!, gItem, { ours: runId, golden: g.run_id })]).toEqual([jobId, []]);
        }
      });
    }
  });
}

if (needs("golden captures of the original lava (shared/golden or LAVA_GOLDEN_DIR)", goldenPresent())) {
  describeBackend("local");
  if (needs("dynalite and fauxqs (npm devDependencies)", emulatorsPresent.dynalite() && emulatorsPresent.fauxqs())) describeBackend("aws");
}
