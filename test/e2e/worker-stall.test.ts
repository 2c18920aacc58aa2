/**
 * Stalls, visibility and hostile input across real processes, on both backends (docs/WORKER.md,
 * "Stalls and visibility", "Containment", "Every run ends"), with a 2 s visibility timeout:
 * - a slot rendering a template for ~20 s does not stop the timers that keep another slot's long job
 *   invisible: a second worker polling the queue never gets that job;
 * - the queue's visibility timeout lowered on a running worker does not make its long jobs visible;
 * - hostile run ids and job ids are refused with one error record each and, where the key can be
 *   stored, a `rejected` event; nothing is made outside the worker's area; log records stay bounded.
 */
import { expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { dispatch, jobs, onBothBackends, QUEUE, records, startWorker, statuses, until, type Backend } from "./harness.ts";

const VT = 2;
const SERVE = ["--wait", "1", "-s", "0"];

/** Sets the queue's VisibilityTimeout attribute from outside, as an operator would. */
async function setVisibilityTimeout(b: Backend, seconds: number): Promise<void> {
  if (b.name === "local") {
    const db = new Database(join(b.env.LAVA_HOME!, "lava.db"));
    try {
      db.query("UPDATE local_queues SET visibility_timeout = ? WHERE name = ?").run(seconds, QUEUE);
    } finally {
      db.close();
    }
    return;
  }
  const { SQSClient, GetQueueUrlCommand, SetQueueAttributesCommand } = await import("@aws-sdk/client-sqs");
  const sqs = new SQSClient({ endpoint: b.env.AWS_ENDPOINT_URL_SQS, region: b.env.AWS_REGION, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
  try {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: QUEUE }));
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { VisibilityTimeout: String(seconds) } }));
  } finally {
    sqs.destroy();
  }
  expect((await b.ports.queues.attributes(QUEUE)).visibilityTimeoutSeconds).toBe(seconds);
}

const starts = (stderr: string[], jobId: string, runId: string) =>
  stderr.flatMap((s) => records(s)).filter((l) => l.message === `Job ${jobId} (${runId}): Starting`).length;

/** 4 x 10^8 loop steps (~20 s here): one long synchronous render. */
const SLOW_TEMPLATE = "echo '{% for i in range(20000) %}{% for j in range(20000) %}{% endfor %}{% endfor %}rendered'";

onBothBackends(
  "worker stalls and hostile input",
  (backend) => {
    test("one slot renders a template for ~20 s while another slot's long job keeps its message invisible", async () => {
      const b = backend();
      await b.putJob(jobs.sleep("ref/long-beside-render", 25));
      await b.putJob({ ...jobs.cmdTrue, job_id: "ref/slow-render", payload: SLOW_TEMPLATE });
      const longRun = await dispatch(b, "ref/long-beside-render");
      const renderRun = await dispatch(b, "ref/slow-render");
      const a = startWorker(b, ["-t", "2", ...SERVE]);
      await until("both runs to start in the first worker", async () => {
        const [l] = await b.events("ref/long-beside-render");
        const [r] = await b.events("ref/slow-render");
        return statuses(l).includes("running") && statuses(r).includes("running");
      }, 30_000);
      // A second worker polls all along: a message whose visibility lapses goes to it.
      const other = startWorker(b, SERVE);
      await until("the render to finish", async () => (await b.events("ref/slow-render"))[0]?.status === "complete", 120_000);
      await until("the long job to finish", async () => (await b.events("ref/long-beside-render"))[0]?.status === "complete", 60_000);
      a.proc.kill("SIGHUP");
      other.proc.kill("SIGHUP");
      const [ra, ro] = await Promise.all([a.done, other.done]);
      expect([ra.code, ro.code]).toEqual([0, 0]);
      expect(statuses((await b.events("ref/long-beside-render"))[0])).toEqual(["starting", "running", "complete"]);
      expect(starts([ra.stderr, ro.stderr], "ref/long-beside-render", longRun)).toBe(1);
      expect(starts([ra.stderr, ro.stderr], "ref/slow-render", renderRun)).toBe(1);
      const [rendered] = await b.events("ref/slow-render");
      expect(JSON.stringify(rendered!.log)).toContain("rendered");
    }, 240_000);

    test("the queue's visibility timeout lowered on a running worker: its long job is not delivered again", async () => {
      const b = backend();
      await setVisibilityTimeout(b, 30);
      try {
        await b.putJob(jobs.sleep("ref/long-lowered", 8));
        const a = startWorker(b, SERVE);
        await until("the worker to be ready", async () => {
          const attrs = await b.ports.queues.attributes(QUEUE);
          return attrs.visible === 0 && attrs.notVisible === 0 && attrs.delayed === 0;
        });
        await Bun.sleep(1500); // the worker has read the queue's attributes (30 s)
        await setVisibilityTimeout(b, VT);
        const runId = await dispatch(b, "ref/long-lowered");
        await until("the first start", async () => statuses((await b.events("ref/long-lowered"))[0]).includes("running"));
        const other = startWorker(b, SERVE);
        await until("the long job to complete", async () => (await b.events("ref/long-lowered"))[0]?.status === "complete", 40_000);
        a.proc.kill("SIGHUP");
        other.proc.kill("SIGHUP");
        const [ra, ro] = await Promise.all([a.done, other.done]);
        expect([ra.code, ro.code]).toEqual([0, 0]);
        expect(statuses((await b.events("ref/long-lowered"))[0])).toEqual(["starting", "running", "complete"]);
        expect(starts([ra.stderr, ro.stderr], "ref/long-lowered", runId)).toBe(1);
      } finally {
        await setVisibilityTimeout(b, VT);
      }
    }, 90_000);

    test("hostile run ids and job ids: refused, recorded where possible, nothing outside the area; log records bounded", async () => {
      const b = backend();
      await b.putJob({ ...jobs.cmdTrue, job_id: "ref/hostile-cmd", payload: "pwd" });
      await b.putJob({ ...jobs.log, job_id: "ref/nested-log" });
      const ts = "2026-11-27T17:42:16+00:00";
      const body = (jobId: string, runId: string, extra: Record<string, unknown> = {}) =>
        JSON.stringify({ realm: "ref", worker: "core", job_id: jobId, run_id: runId, ts_dispatch: ts, ...extra });
      const hostile: [string, string][] = [
        ["ref/hostile-cmd", "../escaped-e2e/x"],
        ["ref/hostile-cmd", "x\u0000"],
        ["ref/hostile-cmd", "."],
        ["ref/hostile-cmd", ".."],
        ["j".repeat(3000), "r-long-job"],
      ];
      for (const [jobId, runId] of hostile) await b.ports.queues.send(QUEUE, body(jobId, runId));
      let nested: unknown = 1;
      for (let i = 0; i < 10_000; i++) nested = [nested]; // a 20 KB message; unbounded, a ~200 MB dump
      await b.ports.queues.send(QUEUE, body("ref/nested-log", "nested-1", { parameters: { nested } }));
      const w = startWorker(b, ["--batch", "--wait", "2"]);
      const r = await w.done;
      expect(r.code).toBe(0);
      const lines = records(r.stderr);
      const refusals = lines.filter((l) => l.level === "ERROR" && /^Malformed dispatch message: (run_id|job_id) /.test(String(l.message)));
      expect(refusals.length).toBe(hostile.length);
      expect(existsSync(join(b.tmp, "ref", "escaped-e2e"))).toBe(false);
      const items = await b.events("ref/hostile-cmd");
      expect(items.map((i) => i.run_id).sort()).toEqual(["../escaped-e2e/x", "x\u0000", ".", ".."].sort());
      for (const item of items) expect(statuses(item)).toEqual(["rejected"]);
      const [nestedRun] = await b.events("ref/nested-log");
      expect(nestedRun!.status).toBe("complete");
      for (const line of r.stderr.split("\n")) expect(line.length).toBeLessThan(2 * 256 * 1024 + 1024);
      expect(lines.some((l) => /\.\.\. \[cut [\d,]+ characters\]$/.test(String(l.message)))).toBe(true);
      const attrs = await b.ports.queues.attributes(QUEUE);
      expect(attrs.visible + attrs.notVisible).toBe(0);
    }, 60_000);
  },
  { visibilityTimeoutSeconds: VT },
);
