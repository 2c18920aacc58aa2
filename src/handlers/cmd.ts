/**
 * `cmd`: runs one command line, without a shell. The payload is split like a POSIX shell would (no expansion),
 * `args` are appended, and then each token is rendered on its own: Jinja containing spaces must sit inside one
 * quoted token. Output goes to `<s3tmp>/stdout` and `<s3tmp>/stderr` when not empty.
 */
import { join } from "node:path";
import { makeUniqueDir } from "../core/payload.ts";
import {
  argsParameter,
  checkParameters,
  jinjaEnabled,
  jobEnvironment,
  renderTokens,
  runStep,
  timeoutParameter,
  type StepsResult,
} from "./common.ts";
import { shlexSplit } from "./shlex.ts";
import { JobFailure, type JobType } from "../core/job-contract.ts";

const OPTIONAL = ["args", "env", "jinja", "timeout", "vars"] as const;

export const cmdJob: JobType = {
  name: "cmd",
  async run(run) {
    const payload = run.job.payload;
    if (!payload) throw new JobFailure("payload required");
    const parameters = checkParameters(run, [], OPTIONAL);
    const jinja = jinjaEnabled(parameters);
    let command: string[];
    try {
      command = [...shlexSplit(String(payload)), ...argsParameter(parameters)];
    } catch (e) {
      throw new JobFailure(`Bad payload: ${(e as Error).message}`);
    }
    command = await renderTokens(run, command, jinja, "Bad payload");
    const env = await jobEnvironment(run, parameters, { LAVA_S3_TMP: run.s3tmp });
    // Capture files get unique names: chain/dag children share the run dir.
    const captureDir = makeUniqueDir(run.runDir, ".cmd.", ".out");
    const result: StepsResult = { exit_status: 0, output: [] };
    await runStep(
      run,
      {
        argv: command,
        cwd: run.runDir,
        env,
        timeoutSeconds: timeoutParameter(run, parameters, "CMD_TIMEOUT"),
        stdoutPath: join(captureDir, "stdout"),
        stderrPath: join(captureDir, "stderr"),
        stdoutName: "stdout",
        stderrName: "stderr",
        label: String(payload),
      },
      result,
    );
    return result;
  },
};
