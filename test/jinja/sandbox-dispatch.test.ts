/**
 * A dispatch cannot switch Jinja rendering on for a job that has it off (docs/WORKER.md): the job's own
 * `parameters.jinja` wins, a dispatch may only turn rendering off. Runs the real worker and the real `cmd`
 * job type on the local backend: the job's `env` value is a template, and what the child process sees
 * tells whether it was rendered.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { dispatchJob } from "../../src/core/dispatch.ts";
import { acceptedDispatchParameters, jinjaEnabled } from "../../src/core/jinja-flag.ts";
import { localRealm, makeWorker, type LocalRealm } from "../worker/support.ts";

let realm: LocalRealm;
beforeEach(async () => {
  realm = await localRealm();
});
afterEach(async () => {
  await realm.close();
});

const TEMPLATE = "{{ 6 * 7 }}";

/** Runs job `jobId` (cmd, env OUT = TEMPLATE) once, dispatched with `dispatched`; returns what OUT was. */
async function runWith(jobParameters: Record<string, unknown>, dispatched: Record<string, unknown>): Promise<{ out: string; warnings: string[] }> {
  const outFile = join(realm.home, "out.txt");
  await realm.putJob({
    job_id: "ref/jinja",
    worker: "core",
    type: "cmd",
    enabled: true,
    owner: "me",
    description: "jinja flag",
    payload: `sh -c 'printf %s "$OUT" > ${outFile}'`,
    parameters: { env: { OUT: TEMPLATE }, ...jobParameters },
  });
  await dispatchJob(realm.ports, { realm: "ref", jobId: "ref/jinja", parameters: dispatched });
  const { worker, log } = makeWorker(realm.ports, realm.tmp);
  await worker.start();
  await worker.run();
  await worker.cleanup();
  const warnings = log.records.filter((r) => r.level === "WARNING").map((r) => r.message);
  return { out: readFileSync(outFile, "utf8"), warnings };
}

describe("the job's jinja setting wins over a dispatch", () => {
  test("a dispatch cannot turn rendering on for a job that has it off", async () => {
    const r = await runWith({ jinja: false }, { jinja: true, env: { OUT: TEMPLATE } });
    expect(r.out).toBe(TEMPLATE);
    expect(r.warnings.some((w) => w.includes("dispatch parameter jinja ignored: the job has Jinja rendering off"))).toBe(true);
  });

  test("a dispatch may turn rendering off", async () => {
    expect((await runWith({}, { jinja: false })).out).toBe(TEMPLATE);
  });

  test("rendering stays on by default and when both say so", async () => {
    expect((await runWith({}, {})).out).toBe("42");
    expect((await runWith({ jinja: true }, { jinja: "yes" })).out).toBe("42");
  });
});

describe("acceptedDispatchParameters", () => {
  test("drops a dispatched jinja only when the job's own setting is off (Python truthiness)", () => {
    for (const off of [false, 0, "", [], {}, null]) {
      expect(acceptedDispatchParameters({ jinja: off }, { jinja: true, a: 1 })).toEqual({ a: 1 });
    }
    const dispatched = { jinja: false, a: 1 };
    expect(acceptedDispatchParameters({}, dispatched)).toBe(dispatched);
    expect(acceptedDispatchParameters({ jinja: true }, { jinja: 0 })).toEqual({ jinja: 0 });
    expect(jinjaEnabled({ ...{ jinja: false }, ...acceptedDispatchParameters({ jinja: false }, { jinja: 1 }) })).toBe(false);
  });
});
