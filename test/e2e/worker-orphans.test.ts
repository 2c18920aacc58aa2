/**
 * No job process outlives its run, across real processes on both backends: a worker SIGKILLed mid-run
 * leaves its job running (including a child that left the job's process group with setsid); the next
 * worker of the realm kills those orphans before it takes any message, so the redelivered run never runs
 * beside the first, and removes the dead worker's tmp directory.
 */
import { expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isProcessAlive } from "../../src/core/process.ts";
import { fixture } from "../handlers/harness.ts";
import { dispatch, onBothBackends, REALM, records, startWorker, statuses, until, WORKER } from "./harness.ts";

onBothBackends(
  "orphans of a dead worker",
  (backend) => {
    test("a worker SIGKILLed mid-run: the next worker kills the run's processes before the redelivered run starts, and removes the dead worker's tmp dir", async () => {
      const b = backend();
      const state = mkdtempSync(join(tmpdir(), "lava-orphans-"));
      const jobId = `ref/orphan-${b.name}`;
      let firstPids: number[] = [];
      try {
        await b.putJob({
          job_id: jobId,
          type: "cmd",
          worker: WORKER,
          payload: `sh ${fixture("redelivered.sh")} ${state}`,
          parameters: { jinja: false },
          enabled: true,
          owner: "e2e",
          description: "left running by a killed worker",
        });
        const runId = await dispatch(b, jobId);
        const first = startWorker(b, ["--wait", "1", "-s", "0"]);
        await until("the first run to start its processes", async () => existsSync(join(state, "first")));
        await until("the first run's events", async () => statuses((await b.events(jobId))[0]).includes("running"));
        firstPids = readFileSync(join(state, "first"), "utf8").trim().split(/\s+/).map(Number);
        const deadTmp = join(b.tmp, REALM, `${WORKER}.${first.proc.pid}`);
        expect(existsSync(join(deadTmp, runId))).toBe(true);
        first.proc.kill("SIGKILL");
        await first.done;
        // Nothing killed them: the job's leader and the child that left its group run on.
        expect(firstPids.length).toBe(2);
        expect(firstPids.filter((p) => isProcessAlive(p))).toEqual(firstPids);

        const second = startWorker(b, ["--batch", "--wait", "5"]);
        const r = await second.done;
        expect(r.code).toBe(0);
        // The redelivered run found none of the first run's processes alive.
        expect(readFileSync(join(state, "second"), "utf8").trim()).toBe("alive:");
        expect(firstPids.filter((p) => isProcessAlive(p))).toEqual([]);
        expect(existsSync(deadTmp)).toBe(false);
        const [item] = await b.events(jobId);
        expect(item!.run_id).toBe(runId);
        expect(statuses(item)).toEqual(["starting", "running", "starting", "running", "complete"]);
        const lines = records(r.stderr);
        const warning = lines.find((l) => String(l.message).startsWith("Killing ") && String(l.message).includes(` process(es) of job ${jobId} (${runId})`));
        expect(warning).toMatchObject({ level: "WARNING", run_id: runId, job_id: jobId });
        expect(String(warning!.message)).toContain(`left running by dead worker ${WORKER} (pid ${first.proc.pid})`);
        // The leader, the child that left its group, and whatever the leader was running at the time.
        for (const pid of firstPids) expect(String(warning!.message)).toMatch(new RegExp(`: (\\d+ )*${pid}( |$)`));
        // Killed before the redelivered run started.
        const killedAt = lines.indexOf(warning!);
        const startedAt = lines.findIndex((l) => l.message === `Job ${jobId} (${runId}): Starting`);
        expect(startedAt).toBeGreaterThan(killedAt);
      } finally {
        for (const pid of firstPids) if (isProcessAlive(pid)) process.kill(pid, "SIGKILL");
        rmSync(state, { recursive: true, force: true });
      }
    }, 40_000);
  },
  { visibilityTimeoutSeconds: 2 },
);
