/**
 * Delivery guarantees across real processes, on both backends, with a 2 s visibility timeout:
 * a killed worker's job runs again from the same message; a long job is delivered once; SIGHUP finishes
 * running jobs and leaves waiting messages on the queue.
 */
import { expect, test } from "bun:test";
import type { Item } from "../../src/ports/index.ts";
import { dispatch, jobs, onBothBackends, QUEUE, records, startWorker, statuses, until } from "./harness.ts";

const VT = 2;

onBothBackends(
  "worker delivery",
  (backend) => {
    test("a worker SIGKILLed mid-job: the job runs again from the same message after the visibility timeout", async () => {
      const b = backend();
      await b.putJob(jobs.sleep("ref/killed", 2));
      const runId = await dispatch(b, "ref/killed");
      const first = startWorker(b, ["--wait", "1", "-s", "0"]);
      await until("the first start", async () => statuses((await b.events("ref/killed"))[0]).includes("running"));
      first.proc.kill("SIGKILL");
      await first.done;
      const second = startWorker(b, ["--batch", "--wait", "5"]);
      const r = await second.done;
      expect(r.code).toBe(0);
      const [item] = await b.events("ref/killed");
      expect(item!.run_id).toBe(runId);
      expect(statuses(item)).toEqual(["starting", "running", "starting", "running", "complete"]);
      expect(records(r.stderr).some((l) => l.message === `Job ref/killed (${runId}): Complete`)).toBe(true);
    }, 40_000);

    test("a job running 3x the visibility timeout is delivered exactly once, with another worker polling", async () => {
      const b = backend();
      await b.putJob(jobs.sleep("ref/long", 3 * VT));
      const runId = await dispatch(b, "ref/long");
      const a = startWorker(b, ["--wait", "1", "-s", "0"]);
      const c = startWorker(b, ["--wait", "1", "-s", "0"]);
      await until("the long job to complete", async () => (await b.events("ref/long"))[0]?.status === "complete", 30_000);
      a.proc.kill("SIGHUP");
      c.proc.kill("SIGHUP");
      const [ra, rc] = await Promise.all([a.done, c.done]);
      expect([ra.code, rc.code]).toEqual([0, 0]);
      const [item] = await b.events("ref/long");
      expect(item!.run_id).toBe(runId);
      expect(statuses(item)).toEqual(["starting", "running", "complete"]);
      const starts = [...records(ra.stderr), ...records(rc.stderr)].filter((l) => l.message === `Job ref/long (${runId}): Starting`);
      expect(starts.length).toBe(1);
    }, 45_000);

    test("SIGHUP with a job running and one waiting: the running job finishes, the waiting message stays on the queue, exit 0", async () => {
      const b = backend();
      await b.putJob(jobs.sleep("ref/running", 2));
      await b.putJob(jobs.log);
      const running = await dispatch(b, "ref/running");
      const w = startWorker(b, ["-t", "1", "--wait", "1", "-s", "0"]);
      await until("the running job", async () => statuses((await b.events("ref/running")).find((i) => i.run_id === running)).includes("running"));
      const waiting = await dispatch(b, "ref/log");
      w.proc.kill("SIGHUP");
      const r = await w.done;
      expect(r.code).toBe(0);
      const item = (await b.events("ref/running")).find((i) => i.run_id === running) as Item;
      expect(item.status).toBe("complete");
      expect((await b.events("ref/log")).some((i) => i.run_id === waiting)).toBe(false);
      // Visible at once: well inside any visibility timeout, another worker can take it.
      const [m] = await b.ports.queues.receive(QUEUE, { waitSeconds: 1 });
      expect(JSON.parse(m!.body).run_id).toBe(waiting);
      await b.ports.queues.delete(QUEUE, m!.receiptHandle);
      expect(records(r.stderr).some((l) => /Signal 1 -- preparing for shutdown/.test(String(l.message)))).toBe(true);
    }, 30_000);

    test("SIGTERM: hard stop, exit 143, the running job's message is back on the queue at once", async () => {
      const b = backend();
      await b.putJob(jobs.sleep("ref/term", 30));
      const runId = await dispatch(b, "ref/term");
      const w = startWorker(b, ["--wait", "1", "-s", "0"]);
      await until("the job to run", async () => statuses((await b.events("ref/term"))[0]).includes("running"));
      w.proc.kill("SIGTERM");
      const r = await w.done;
      expect(r.code).toBe(143);
      if (process.env.DEBUG_E2E) console.log(r.stderr);
      const [m] = await b.ports.queues.receive(QUEUE, { waitSeconds: 1 });
      expect(JSON.parse(m!.body).run_id).toBe(runId);
      await b.ports.queues.delete(QUEUE, m!.receiptHandle);
    }, 30_000);
  },
  { visibilityTimeoutSeconds: VT },
);
