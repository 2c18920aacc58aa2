/**
 * The `dispatch` job type end to end on both backends: a worker runs dispatch jobs whose messages land on
 * other workers' queues, in the original's byte format; bad input fails the run with a clear event and the
 * worker goes on serving.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { GOLDEN_DIR } from "../support/shared.ts";
import { pyJsonDumps } from "../../src/core/pyformat.ts";
import { putState } from "../../src/core/state.ts";
import type { Item } from "../../src/ports/index.ts";
import type { PipelineNode } from "../../src/cli/pipeline.ts";
import { dispatch, jobs, lava, onBothBackends, REALM, startWorker, statuses, WORKER } from "./harness.ts";

const golden = JSON.parse(readFileSync(join(GOLDEN_DIR, "sqs-dispatch-messages.json"), "utf8")) as {
  messages: { scenario: string; body: string }[];
};
const goldenWithParams = golden.messages.find((m) => m.scenario === "log_with_params_globals")!;

const job = (id: string, over: Record<string, unknown>) => ({ job_id: id, worker: WORKER, enabled: true, owner: "e2e", description: id, ...over });
const lastInfo = (item: Item | undefined) => (item!.log as Item[]).at(-1)!.info as Record<string, unknown>;
const ISO_LOCAL = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/;
const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/;

onBothBackends("dispatch job type", (backend) => {
  test("targets on other workers' queues get the original's message; circular, bad payload, bad delay fail; the worker keeps serving", async () => {
    const b = backend();
    await b.ports.queues.create("lava-ref-other", { visibilityTimeoutSeconds: 30, retentionSeconds: 3600 });
    await b.ports.queues.create("lava-ref-late", { visibilityTimeoutSeconds: 30, retentionSeconds: 3600 });
    await b.putJob(jobs.log);
    await b.putJob(job("ref/target", { type: "log", worker: "other", payload: null }));
    await b.putJob(job("ref/later", { type: "log", worker: "late", payload: null }));
    await b.putJob(job("ref/disp", {
      type: "dispatch",
      payload: "target",
      globals: { g: "v" },
      state: { "e2e/s": "default", "e2e/none": "kept" },
      parameters: { job_prefix: "ref/", parameters: { who: "{{ job.job_id }}", n: 3, vars: { x: "{{ job.run_id }}" }, st: "{{ state['e2e/s'].k }}/{{ state['e2e/none'] }}" } },
    }));
    await b.putJob(job("ref/disp-late", { type: "dispatch", payload: ["ref/later"], parameters: { delay: "1m" } }));
    await b.putJob(job("ref/disp-raw", { type: "dispatch", payload: "ref/later", parameters: { jinja: false, parameters: { t: "{{ x }}" }, delay: 60 } }));
    await b.putJob(job("ref/circular", { type: "dispatch", payload: "ref/circular" }));
    await b.putJob(job("ref/first-fails", { type: "dispatch", payload: "ref/nosuch, ref/target" }));
    await b.putJob(job("ref/bad-payload", { type: "dispatch", payload: 42 }));
    await b.putJob(job("ref/bad-list", { type: "dispatch", payload: ["ref/target", 7] }));
    await b.putJob(job("ref/bad-delay", { type: "dispatch", payload: "ref/target", parameters: { delay: "16m" } }));
    await b.putJob(job("ref/bad-render", { type: "dispatch", payload: "ref/target", parameters: { parameters: { p: "{{ nope(" } } }));

    // Imported at run start (strongly consistent read) and seen by the parameter templates.
    await putState(b.ports, REALM, { state_id: "e2e/s", value: { k: "published" } });
    const ids = ["ref/disp", "ref/disp-late", "ref/disp-raw", "ref/circular", "ref/first-fails", "ref/bad-payload", "ref/bad-list", "ref/bad-delay", "ref/bad-render"];
    const runs: Record<string, string> = {};
    for (const id of ids) runs[id] = await dispatch(b, id);
    const logRun = await dispatch(b, "ref/log");
    const w = startWorker(b, ["--batch", "--wait", "1", "-t", "2"]);
    expect((await w.done).code).toBe(0);

    const item = async (id: string) => (await b.events(id)).find((i) => i.run_id === runs[id]);

    // The good one: complete with the original's result, one message on the target's own worker queue.
    const disp = await item("ref/disp");
    expect(statuses(disp)).toEqual(["starting", "running", "complete"]);
    expect(lastInfo(disp)).toEqual({ exit_status: 0, jobs: ["ref/target"], error: null });
    const got = await b.ports.queues.receive("lava-ref-other", { maxMessages: 10, waitSeconds: 1 });
    expect(got.length).toBe(1);
    const body = got[0]!.body;
    const msg = JSON.parse(body) as Record<string, unknown>;
    // Byte format: Python json.dumps separators and escapes, keys in the golden message's order.
    expect(pyJsonDumps(msg)).toBe(body);
    expect(Object.keys(msg)).toEqual(Object.keys(JSON.parse(goldenWithParams.body) as object));
    expect(msg).toMatchObject({ realm: "ref", worker: "other", job_id: "ref/target" });
    expect(msg.run_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(msg.run_id).not.toBe(runs["ref/disp"]);
    expect(msg.ts_dispatch).toMatch(ISO_LOCAL);
    expect(msg.parameters).toEqual({ who: "ref/disp", n: 3, vars: { x: runs["ref/disp"] }, st: "published/kept" });
    const globals = msg.globals as { g: string; lava: Record<string, unknown> };
    expect(globals.g).toBe("v");
    expect(Object.keys(globals.lava)).toEqual(["master_job_id", "parent_job_id", "master_start", "master_ustart", "parent_start", "parent_ustart", "iteration"]);
    expect(globals.lava).toMatchObject({ master_job_id: "ref/disp", parent_job_id: "ref/disp", iteration: 1 });
    expect(globals.lava.master_start).toMatch(ISO_LOCAL);
    expect(globals.lava.parent_start).toMatch(ISO_LOCAL);
    expect(globals.lava.master_ustart).toMatch(ISO_UTC);
    expect(globals.lava.parent_ustart).toMatch(ISO_UTC);
    expect(Date.parse(String(globals.lava.parent_ustart))).toBe(Date.parse(String(globals.lava.parent_start)));

    // Delayed (list payload, duration string; jinja off leaves parameters as written): waiting on their queue.
    expect(statuses(await item("ref/disp-late"))).toEqual(["starting", "running", "complete"]);
    expect(statuses(await item("ref/disp-raw"))).toEqual(["starting", "running", "complete"]);
    const late = await b.ports.queues.attributes("lava-ref-late");
    expect(late.delayed).toBe(2);
    expect(late.visible).toBe(0);

    // Failures: the original's error text naming the field and value, the result as error_data.
    const failed = async (id: string) => {
      const it = await item(id);
      expect(statuses(it)).toEqual(["starting", "running", "failed"]);
      return lastInfo(it);
    };
    expect(await failed("ref/circular")).toMatchObject({
      error: "ref/circular: Circular dispatch not permitted",
      error_data: { exit_status: 1, jobs: ["ref/circular"], error: "ref/circular: Circular dispatch not permitted" },
    });
    const first = await failed("ref/first-fails");
    expect(String(first.error)).toMatch(/^ref\/nosuch: .*No such job/);
    expect((first.error_data as Record<string, unknown>).jobs).toEqual(["ref/nosuch"]);
    expect(await failed("ref/bad-payload")).toMatchObject({ error: "Payload must be comma separated list or real list of job IDs: got 42", error_data: null });
    expect((await failed("ref/bad-list")).error).toBe("Payload must be comma separated list or real list of job IDs: bad job ID 7");
    expect((await failed("ref/bad-delay")).error).toBe("Bad delay: 960: must be between 0 and 15 minutes");
    expect(String((await failed("ref/bad-render")).error)).toMatch(/^Cannot render parameters - /);
    // Nothing else reached the other queue (the first failure stopped ref/first-fails before ref/target).
    const other = await b.ports.queues.attributes("lava-ref-other");
    expect(other.visible + other.delayed).toBe(0);

    // ... and the worker went on to run the job dispatched after them all.
    const [logItem] = (await b.events("ref/log")).filter((i) => i.run_id === logRun);
    expect(statuses(logItem)).toEqual(["starting", "running", "complete"]);
  }, 60_000);
});

onBothBackends("lava events --pipeline", (backend) => {
  test("a dispatch tree and a chain's same-run children, with statuses and durations", async () => {
    const b = backend();
    await b.putJob(job("ref/leaf-a", { type: "log", payload: null }));
    await b.putJob(job("ref/leaf-b", { type: "cmd", payload: "false" }));
    await b.putJob(job("ref/mid", { type: "dispatch", payload: "ref/leaf-b" }));
    await b.putJob(job("ref/top", { type: "dispatch", payload: ["ref/leaf-a", "ref/mid"] }));
    const top = await dispatch(b, "ref/top");
    const w = startWorker(b, ["--batch", "--wait", "2", "-t", "2"]);
    expect((await w.done).code).toBe(0);

    const r = await lava(b, ["events", "-r", REALM, "--pipeline", "ref/top", top]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines.length).toBe(4);
    expect(lines[0]).toMatch(new RegExp(`^ref/top  ${top}  complete  \\d+\\.\\ds  \\(dispatch\\)$`));
    expect(lines[1]).toMatch(/^├── ref\/leaf-a  [0-9a-f-]{36}  complete  \d+\.\ds  \(log, dispatched\)$/);
    expect(lines[2]).toMatch(/^└── ref\/mid  [0-9a-f-]{36}  complete  .*\(dispatch, dispatched\)$/);
    expect(lines[3]).toMatch(/^    └── ref\/leaf-b  [0-9a-f-]{36}  failed  .*\(cmd, dispatched\)$/);
    const json = JSON.parse((await lava(b, ["events", "-r", REALM, "--pipeline", "-f", "json", "ref/top", top])).stdout) as PipelineNode;
    expect(json.children.map((c) => c.job_id)).toEqual(["ref/leaf-a", "ref/mid"]);
    expect(json.children[1]!.children[0]).toMatchObject({ job_id: "ref/leaf-b", status: "failed", link: "dispatched" });
    expect(json.children[1]!.children[0]!.run_id).not.toBe(json.children[1]!.run_id);

    // Same-run children (chain/dag/foreach run them in-process): found from the payload with one lookup each.
    await b.putJob(job("ref/chain", { type: "chain", payload: "c1, c2", parameters: { job_prefix: "ref/" } }));
    const run = crypto.randomUUID();
    const ev = (jobId: string, status: string, s0: number, s1: number) => ({
      job_id: jobId, run_id: run, status, ts_dispatch: "2026-01-01T00:00:00+00:00", tu_event: `2026-01-01T00:00:0${s1}`,
      log: [
        { status: "starting", ts_event: `2026-01-01T00:00:0${s0}+00:00`, tu_event: `2026-01-01T00:00:0${s0}`, info: null },
        { status, ts_event: `2026-01-01T00:00:0${s1}+00:00`, tu_event: `2026-01-01T00:00:0${s1}`, info: { exit_status: 0 } },
      ],
    });
    for (const e of [ev("ref/chain", "failed", 0, 9), ev("ref/c1", "complete", 1, 3), ev("ref/c2", "failed", 4, 8)]) {
      await b.ports.tables.put("lava.ref.events", e);
    }
    const c = await lava(b, ["events", "-r", REALM, "--pipeline", "ref/chain", run]);
    expect(c.stdout).toBe(
      `ref/chain  ${run}  failed  9.0s  (chain)\n├── ref/c1  ${run}  complete  2.0s\n└── ref/c2  ${run}  failed  4.0s\n`,
    );
    const none = await lava(b, ["events", "-r", REALM, "--pipeline", "ref/chain", crypto.randomUUID()]);
    expect(none.code).toBe(1);
    expect((await lava(b, ["events", "-r", REALM, "--pipeline", "ref/chain"])).code).toBe(2);
  }, 60_000);
});
