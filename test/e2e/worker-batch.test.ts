/** dispatch → `lava worker --batch` → events, and a flood of bad messages, on both backends. */
import { expect, test } from "bun:test";
import { dispatch, jobs, lava, onBothBackends, QUEUE, REALM, records, startWorker, statuses, until, WORKER } from "./harness.ts";

onBothBackends("dispatch and batch worker", (backend) => {
  test("log and cmd jobs run to complete; dispatcher and worker exit 0", async () => {
    const b = backend();
    await b.putJob(jobs.log);
    await b.putJob(jobs.cmdTrue);
    const logRun = await dispatch(b, "ref/log", "-p", "foo=bar", "-g", "gvar=gval");
    const cmdRun = await dispatch(b, "ref/cmd-true");
    const w = startWorker(b, ["--batch", "--wait", "1", "-t", "2"]);
    const r = await w.done;
    expect(r.code).toBe(0);
    const [logItem] = (await b.events("ref/log")).filter((i) => i.run_id === logRun);
    expect(statuses(logItem)).toEqual(["starting", "running", "complete"]);
    expect(logItem!.worker).toBe("core");
    const [cmdItem] = (await b.events("ref/cmd-true")).filter((i) => i.run_id === cmdRun);
    expect(statuses(cmdItem)).toEqual(["starting", "running", "complete"]);
    const lines = records(r.stderr);
    expect(lines.some((l) => l.message === `Job ref/log (${logRun}): Complete` && l.run_id === logRun && l.realm === REALM)).toBe(true);
    const attrs = await b.ports.queues.attributes(QUEUE);
    expect(attrs.visible + attrs.notVisible).toBe(0);
  }, 30_000);

  test("dispatcher: unknown job is an error (exit 1, nothing sent); bad delay is a usage error (exit 2)", async () => {
    const b = backend();
    const r = await lava(b, ["dispatcher", "-r", REALM, "ref/no-such-job"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ref/no-such-job@ref dispatch failed - No such job");
    const d = await lava(b, ["dispatcher", "-r", REALM, "-d", "16m", "ref/log"]);
    expect(d.code).toBe(2);
    const attrs = await b.ports.queues.attributes(QUEUE);
    expect(attrs.visible + attrs.delayed).toBe(0);
  }, 20_000);

  test("dispatcher: a disabled job is sent with a warning (exit 0, as the original sends it)", async () => {
    const b = backend();
    await b.putJob(jobs.log);
    await b.putJob({ ...jobs.log, job_id: "ref/off", enabled: false });
    const { enabled: _, ...unset } = jobs.log;
    await b.putJob({ ...unset, job_id: "ref/unset" });
    await b.putJob({ ...jobs.log, job_id: "ref/later", enabled: "{{ globals.go | default(false) }}" });
    const r = await lava(b, ["dispatcher", "-r", REALM, "ref/off", "ref/log", "ref/unset", "ref/later"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("ref/off@ref is disabled: sent anyway, the worker will record it as skipped");
    expect(r.stderr).toContain("ref/unset@ref is disabled: sent anyway");
    expect(r.stderr).not.toContain("ref/log@ref is disabled");
    expect(r.stderr).not.toContain("ref/later@ref is disabled");
    for (const id of ["off", "log", "unset", "later"]) expect(r.stderr).toMatch(new RegExp(`ref/${id}@ref dispatched \\(`));
    const sent: string[] = [];
    for (let i = 0; i < 10 && sent.length < 4; i++) {
      for (const m of await b.ports.queues.receive(QUEUE, { maxMessages: 10 })) {
        sent.push((JSON.parse(m.body) as { job_id: string }).job_id);
        await b.ports.queues.delete(QUEUE, m.receiptHandle);
      }
    }
    expect(sent.sort()).toEqual(["ref/later", "ref/log", "ref/off", "ref/unset"]);
  }, 20_000);

  test("worker: a bad configuration value stops it at start, naming the variable (exit 1, nothing received)", async () => {
    const b = backend();
    await b.putJob(jobs.log);
    await dispatch(b, "ref/log");
    const r = await lava(b, ["worker", "-r", REALM, "-w", WORKER, "--root", "--batch", "--wait", "1"], { LAVA_CMD_TIMEOUT: "10 parsecs" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('CMD_TIMEOUT: "10 parsecs" from environment variable LAVA_CMD_TIMEOUT is not a duration');
    const attrs = await b.ports.queues.attributes(QUEUE);
    expect(attrs.visible).toBe(1);
    const [m] = await b.ports.queues.receive(QUEUE, { maxMessages: 1 });
    await b.ports.queues.delete(QUEUE, m!.receiptHandle);
  }, 20_000);

  test("-j: this worker's lavasched jobs with enabled true are dispatched with JUMPSTART_DELAY, no others", async () => {
    const b = backend();
    const sched = { type: "lavasched", worker: WORKER, payload: null, enabled: true, owner: "e2e", description: "sched" };
    await b.putJob({ ...sched, job_id: "ref/sched" });
    await b.putJob({ ...sched, job_id: "ref/sched-template", enabled: "{{ true }}" });
    await b.putJob({ ...sched, job_id: "ref/sched-off", enabled: false });
    await b.putJob({ ...sched, job_id: "ref/sched-other", worker: "other" });
    await b.putJob({ ...jobs.log, job_id: "ref/log-on" });
    // --wait 0: the batch worker polls once, before the delayed message is visible, and exits.
    const w = await startWorker(b, ["-j", "--batch", "--wait", "0"], { LAVA_JUMPSTART_DELAY: "1s" }).done;
    expect(w.code).toBe(0);
    const jumped = records(w.stderr).filter((l) => String(l.message).startsWith("Jumpstart:"));
    expect(jumped.map((l) => l.message)).toEqual(["Jumpstart: Dispatched ref/sched to core"]);
    const m = await until("the jump-started message", async () => (await b.ports.queues.receive(QUEUE, { maxMessages: 10 }))[0]);
    const receivedAt = Date.now();
    await b.ports.queues.delete(QUEUE, m.receiptHandle);
    expect(JSON.parse(m.body)).toMatchObject({ realm: REALM, worker: WORKER, job_id: "ref/sched" });
    expect(m.receiveCount).toBe(1);
    // Not receivable before the delay ran out (1 s, less the queue's whole-second rounding of sentAt).
    expect(receivedAt - m.sentAt.getTime()).toBeGreaterThanOrEqual(900);
    const attrs = await b.ports.queues.attributes(QUEUE);
    expect(attrs.visible + attrs.notVisible + attrs.delayed).toBe(0);
  }, 30_000);

  test("200 malformed or hostile messages in a row: each logged, all deleted, the worker goes on", async () => {
    const b = backend();
    await b.putJob(jobs.log);
    const base = { realm: REALM, worker: "core", ts_dispatch: "2026-11-27T17:42:16+00:00" };
    const bodies: string[] = [];
    for (let i = 0; i < 200; i++) {
      const runId = `bad-${i}`;
      const kind = i % 8;
      bodies.push(
        kind === 0
          ? `not json ${i}`
          : kind === 1
            ? JSON.stringify({ ...base, job_id: "ref/log", run_id: runId, evil: "x" })
            : kind === 2
              ? JSON.stringify({ ...base, job_id: `ref/none-${i}`, run_id: runId })
              : kind === 3
                ? JSON.stringify({ ...base, worker: "other", job_id: "ref/log", run_id: runId })
                : kind === 4
                  ? JSON.stringify({ ...base, job_id: "ref/log", run_id: runId, ts_dispatch: "yesterday at noon" })
                  : kind === 5
                    ? JSON.stringify({ ...base, job_id: { $ne: 1 }, run_id: runId })
                    : kind === 6
                      ? JSON.stringify([base])
                      : JSON.stringify({ ...base, job_id: "ref/log", run_id: runId, parameters: "; rm -rf /" }),
      );
    }
    for (let i = 0; i < bodies.length; i += 10) await b.ports.queues.sendBatch(QUEUE, bodies.slice(i, i + 10).map((body) => ({ body })));
    const good = await dispatch(b, "ref/log");
    const w = startWorker(b, ["--batch", "--wait", "1", "-t", "5"]);
    const r = await w.done;
    expect(r.code).toBe(0);
    const errors = records(r.stderr).filter((l) => l.level === "ERROR");
    expect(errors.length).toBe(200);
    const [item] = (await b.events("ref/log")).filter((i) => i.run_id === good);
    expect(item?.status).toBe("complete");
    const attrs = await b.ports.queues.attributes(QUEUE);
    expect(attrs.visible + attrs.notVisible).toBe(0);
  }, 60_000);
});
