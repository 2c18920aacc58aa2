import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { cmdJob } from "../../src/handlers/cmd.ts";
import { renderTemplate } from "../../src/jinja/index.ts";
import { JobFailure, type JobResult } from "../../src/core/job-contract.ts";
import { eventually, fixture, isProcessAlive, openHarness, type Harness } from "./harness.ts";
import { parseProcessTag, PROCESS_TAG_VAR } from "../../src/core/process-tag.ts";

function reportedSeconds(message: string): number {
  return Number(/after (\S+) seconds/.exec(message)?.[1]);
}

let h: Harness;
beforeAll(async () => {
  h = await openHarness();
});
afterAll(async () => {
  await h.close();
});

async function failure(promise: Promise<unknown>): Promise<JobFailure> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof JobFailure) return e;
    throw e;
  }
  throw new Error("expected the job to fail");
}

describe("cmd", () => {
  test("success: result shape, stdout uploaded under s3tmp with the realm's KMS key, empty stderr not uploaded", async () => {
    const run = h.jobRun({ job_id: "ref/cmd-echo", payload: "echo hello from {{job.job_id}}" });
    const result = await cmdJob.run(run);
    const stdout = `${run.s3tmp}/stdout`;
    expect(result).toEqual({
      exit_status: 0,
      output: [{ payload: "echo hello from {{job.job_id}}", exit_status: 0, stdout }],
    });
    expect(await h.readObject(stdout)).toBe("hello from ref/cmd-echo\n");
    expect(h.objectKmsKey(stdout)).toBe("alias/lava-test-user");
    expect(await h.listObjects(`${run.s3tmp}/`)).toEqual([stdout]);
  });

  test("failure: 'Failed with exit status N', stderr head as error, both outputs uploaded (golden cmd_fail shape)", async () => {
    const payload = "sh -c 'echo some-stdout; echo some-stderr >&2; exit 3'";
    const run = h.jobRun({ job_id: "ref/cmd-fail", payload });
    const err = await failure(cmdJob.run(run));
    expect(err.message).toBe("Failed with exit status 3");
    expect(err.data).toEqual({
      exit_status: 3,
      output: [{ payload, exit_status: 3, stdout: `${run.s3tmp}/stdout`, stderr: `${run.s3tmp}/stderr` }],
      error: "some-stderr",
    });
    expect(Object.keys(err.data!)).toEqual(["exit_status", "output", "error"]);
    expect(await h.readObject(`${run.s3tmp}/stderr`)).toBe("some-stderr\n");
  });

  test("empty stderr on failure gives error null", async () => {
    const err = await failure(cmdJob.run(h.jobRun({ payload: "false" })));
    expect(err.data).toMatchObject({ exit_status: 1, error: null });
  });

  test("error is the first STDERR_SIZE bytes of stderr, or the last when negative", async () => {
    const payload = `sh ${fixture("stderr-big.sh")} 5000`;
    const head = await failure(cmdJob.run(h.jobRun({ payload })));
    expect(head.data!.error).toBe(expected(5000).slice(0, 2000));
    const small = await failure(cmdJob.run(h.jobRun({ payload }, { config: { STDERR_SIZE: 20 } })));
    expect(small.data!.error).toBe("000000|000001|000002");
    const tail = await failure(cmdJob.run(h.jobRun({ payload }, { config: { STDERR_SIZE: -14 } })));
    expect(tail.data!.error).toBe(expected(5000).slice(-14));
  });

  test("a crash reports a negative exit status", async () => {
    const err = await failure(cmdJob.run(h.jobRun({ payload: `sh ${fixture("crash.sh")}` })));
    expect(err.message).toBe("Failed with exit status -11");
    expect(err.data!.exit_status).toBe(-11);
  });

  test("missing executable fails without data, like the original's uncaught OSError", async () => {
    const err = await failure(cmdJob.run(h.jobRun({ payload: "no-such-cmd-here arg" })));
    expect(err.message).toBe("[Errno 2] No such file or directory: 'no-such-cmd-here'");
    expect(err.data).toBeNull();
  });

  test("timeout: exit status 28, 'Timed out after N seconds' with the time of the SIGKILL, KILL_GRACE_PERIOD later; nothing survives", async () => {
    const pidFile = join(h.root, "cmd-timeout.pids");
    const run = h.jobRun({ payload: `sh ${fixture("fork-ignore-term.sh")} ${pidFile}`, parameters: { timeout: "1s" } }, { config: { KILL_GRACE_PERIOD: "0.5s" } });
    const err = await failure(cmdJob.run(run));
    expect(err.message).toMatch(/^Timed out after \d+\.\d seconds$/);
    expect(reportedSeconds(err.message)).toBeGreaterThanOrEqual(1.5);
    expect(reportedSeconds(err.message)).toBeLessThan(3);
    expect(err.data).toMatchObject({ exit_status: 28, output: [{ exit_status: 28 }] });
    expect(err.data).not.toHaveProperty("error");
    const pids = readFileSync(pidFile, "utf8").trim().split(/\s+/).map(Number);
    expect(pids.length).toBe(2);
    expect(await eventually(() => pids.every((p) => !isProcessAlive(p)), 5000)).toBe(true);
  });

  test("CMD_TIMEOUT applies when the job gives no timeout; a command that obeys SIGTERM is reported at the timeout", async () => {
    const err = await failure(cmdJob.run(h.jobRun({ payload: `sh ${fixture("hang.sh")}` }, { config: { CMD_TIMEOUT: "0.5" } })));
    expect(err.message).toMatch(/^Timed out after \d+\.\d seconds$/);
    // The default 2 s grace period was not needed.
    expect(reportedSeconds(err.message)).toBeGreaterThanOrEqual(0.5);
    expect(reportedSeconds(err.message)).toBeLessThan(2);
  });

  test("processes a command leaves behind outside its group are killed when it exits, and carry realm and worker in their tag", async () => {
    const pidFile = join(h.root, "cmd-escape.pids");
    const run = h.jobRun({ payload: `sh ${fixture("setsid-escape.sh")} ${pidFile} exit` });
    expect((await cmdJob.run(run)).exit_status).toBe(0);
    const pids = readFileSync(pidFile, "utf8").trim().split(/\s+/).map(Number);
    expect(pids.length).toBe(2);
    expect(pids.filter((p) => isProcessAlive(p))).toEqual([]);
    const tagRun = h.jobRun({ payload: `sh ${fixture("env.sh")} ${PROCESS_TAG_VAR}` });
    await cmdJob.run(tagRun);
    const tag = parseProcessTag((await h.readObject(`${tagRun.s3tmp}/stdout`)).trim().slice(PROCESS_TAG_VAR.length + 1));
    expect(tag).toMatchObject({ workerPid: process.pid, realm: tagRun.job.realm, worker: tagRun.job.worker });
  });

  test("a flood of output on both streams completes and is uploaded whole", async () => {
    const run = h.jobRun({ payload: `sh ${fixture("flood.sh")} 4` });
    const result = await cmdJob.run(run);
    expect(result.exit_status).toBe(0);
    const info = await h.ports.objects.head(`${run.s3tmp}/stdout`);
    expect(info?.size).toBe(4 * 1048576);
  });

  test("split first, then each token rendered; args appended as str() and rendered too", async () => {
    const run = h.jobRun({
      job_id: "a/b",
      payload: `sh ${fixture("ok.sh")} "x {{ job.job_id }} y" '{{ vars.v }}'`,
      parameters: { vars: { v: "V" }, args: [1, true, "{{ job.worker }}"] },
    });
    await cmdJob.run(run);
    expect(await h.readObject(`${run.s3tmp}/stdout`)).toBe("ok: x a/b y V 1 True core\n");
  });

  test("jinja: false leaves tokens unrendered", async () => {
    const run = h.jobRun({ payload: `sh ${fixture("ok.sh")} {{ job.job_id }}`, parameters: { jinja: false } });
    await cmdJob.run(run);
    expect(await h.readObject(`${run.s3tmp}/stdout`)).toBe("ok: {{ job.job_id }}\n");
  });

  test("environment precedence: worker < parameters.env (rendered) < handler extras < LAVA_* system values", async () => {
    process.env.LAVA_T_WORKER_ONLY = "worker";
    process.env.LAVA_T_OVERRIDDEN = "worker";
    process.env.LAVA_JOB_ID = "from-worker-env";
    try {
      const run = h.jobRun({
        job_id: "env/job",
        payload: `sh ${fixture("env.sh")} LAVA_T_WORKER_ONLY LAVA_T_OVERRIDDEN LAVA_S3_TMP LAVA_JOB_ID LAVA_REALM LAVA_WORKER LAVA_OWNER LAVA_RUN_ID LAVA_S3_KEY`,
        parameters: {
          env: { LAVA_T_OVERRIDDEN: "job {{ job.job_id }}", LAVA_S3_TMP: "from-job", LAVA_JOB_ID: "from-job" },
        },
      });
      await cmdJob.run(run);
      expect(await h.readObject(`${run.s3tmp}/stdout`)).toBe(
        [
          "LAVA_T_WORKER_ONLY=worker",
          "LAVA_T_OVERRIDDEN=job env/job",
          `LAVA_S3_TMP=${run.s3tmp}`,
          "LAVA_JOB_ID=env/job",
          "LAVA_REALM=test",
          "LAVA_WORKER=core",
          "LAVA_OWNER=tester",
          `LAVA_RUN_ID=${run.job.run_id}`,
          "LAVA_S3_KEY=alias/lava-test-user",
          "",
        ].join("\n"),
      );
    } finally {
      delete process.env.LAVA_T_WORKER_ONLY;
      delete process.env.LAVA_T_OVERRIDDEN;
      delete process.env.LAVA_JOB_ID;
    }
  });

  test("JOB_CLEAN_ENV: the worker's other variables stay out; PATH, HOME, the job's env and LAVA_* remain", async () => {
    process.env.LAVA_T_WORKER_SECRET = "worker-only-value";
    process.env.AWS_SECRET_ACCESS_KEY_T = "worker-aws-key";
    try {
      const run = h.jobRun({
        job_id: "env/clean",
        payload: `sh ${fixture("env.sh")} LAVA_T_WORKER_SECRET AWS_SECRET_ACCESS_KEY_T PATH LAVA_T_JOB LAVA_JOB_ID`,
        parameters: { env: { LAVA_T_JOB: "job" } },
      }, { config: { JOB_CLEAN_ENV: true } });
      await cmdJob.run(run);
      const out = await h.readObject(`${run.s3tmp}/stdout`);
      expect(out).not.toContain("worker-only-value");
      expect(out).not.toContain("worker-aws-key");
      expect(out).toContain(`PATH=${process.env.PATH}\n`);
      expect(out).toContain("LAVA_T_JOB=job\n");
      expect(out).toContain("LAVA_JOB_ID=env/clean\n");
    } finally {
      delete process.env.LAVA_T_WORKER_SECRET;
      delete process.env.AWS_SECRET_ACCESS_KEY_T;
    }
  });

  test("TMPDIR is a fresh .lava.*.tmp dir in the run dir when JOB_LOCAL_TMPDIR, else the worker's", async () => {
    const run = h.jobRun({ payload: `sh ${fixture("env.sh")} TMPDIR` });
    await cmdJob.run(run);
    const line = (await h.readObject(`${run.s3tmp}/stdout`)).trim();
    expect(line).toMatch(new RegExp(`^TMPDIR=${run.runDir}/\\.lava\\.[^/]+\\.tmp$`));
    const off = h.jobRun({ payload: `sh ${fixture("env.sh")} TMPDIR` }, { config: { JOB_LOCAL_TMPDIR: "false" } });
    await cmdJob.run(off);
    expect((await h.readObject(`${off.s3tmp}/stdout`)).trim()).toBe(`TMPDIR=${process.env.TMPDIR ?? "<unset>"}`);
  });

  test("cwd is the run dir", async () => {
    const run = h.jobRun({ payload: "pwd" });
    await cmdJob.run(run);
    expect((await h.readObject(`${run.s3tmp}/stdout`)).trim()).toBe(run.runDir);
  });

  test("dev mode streams output to the console: nothing is uploaded", async () => {
    const run = h.jobRun({ payload: "sh -c 'echo dev-out; echo dev-err >&2; exit 2'" }, { dev: true });
    const err = await failure(cmdJob.run(run));
    expect(err.data).toEqual({ exit_status: 2, output: [{ payload: "sh -c 'echo dev-out; echo dev-err >&2; exit 2'", exit_status: 2 }], error: null });
    expect(await h.listObjects(`${run.s3tmp}/`)).toEqual([]);
  });

  test("bad payloads and parameters fail with the original's messages", async () => {
    expect((await failure(cmdJob.run(h.jobRun({ payload: "" })))).message).toBe("payload required");
    expect((await failure(cmdJob.run(h.jobRun({ payload: "echo 'open" })))).message).toBe("Bad payload: No closing quotation");
    expect((await failure(cmdJob.run(h.jobRun({ payload: "true", parameters: { nope: 1, also: 2 } })))).message).toBe(
      "Bad job parameters: Unexpected keys: also, nope",
    );
    expect((await failure(cmdJob.run(h.jobRun({ payload: "true", parameters: { vars: [] } })))).message).toBe("vars must be a map/dict");
  });

  test("a template error reads as the original's str() of the Jinja error: no class name, no position", async () => {
    // The harness's stand-in renderer never fails, so these runs render with the real engine.
    const withJinja = (job: Parameters<Harness["jobRun"]>[0]) => {
      const run = h.jobRun(job);
      run.render = async (template) => renderTemplate(template, { job: run.job });
      return run;
    };
    expect((await failure(cmdJob.run(withJinja({ payload: 'echo "{{ job.nosuch.deeper }}"' })))).message).toBe(
      "Bad payload: 'dict object' has no attribute 'nosuch'",
    );
    const env = { payload: "true", parameters: { env: { X: "{{ 1 / 0 }}" } } };
    expect((await failure(cmdJob.run(withJinja(env)))).message).toBe("Bad environment variable: X: division by zero");
  });

  test("a hard stop (abort) kills the command", async () => {
    const controller = new AbortController();
    const running = cmdJob.run(h.jobRun({ payload: `sh ${fixture("hang.sh")}` }, { signal: controller.signal }));
    setTimeout(() => controller.abort(), 200);
    const err = await failure(running);
    expect(err.message).toContain("Killed");
  });
});

function expected(n: number): string {
  let s = "";
  for (let i = 0; s.length < n; i++) s += `${String(i).padStart(6, "0")}|`;
  return s.slice(0, n);
}

export type { JobResult };
