/**
 * `exe`: fetches executable(s) from the payload area and runs each, in name order, with the same arguments.
 * The payload is `key-or-prefix [args…]`; the key is never rendered, the arguments (and `args`) are, one by
 * one. Output of file `<base>` goes to `<s3tmp>/<base>.stdout|.stderr`. The first failure stops the job.
 */
import { basename } from "node:path";
import {
  checkParameters,
  commandArgs,
  fetchPayload,
  fileStep,
  jobEnvironment,
  makeUserExecutable,
  runStep,
  splitCommand,
  timeoutParameter,
  type StepsResult,
} from "./common.ts";
import { JobFailure, type JobType } from "../core/job-contract.ts";

const OPTIONAL = ["args", "connections", "env", "jinja", "timeout", "vars"] as const;

export const exeJob: JobType = {
  name: "exe",
  async run(run) {
    const payload = run.job.payload;
    if (typeof payload !== "string") throw new JobFailure("Only single string payloads are supported for exe jobs");
    const parameters = checkParameters(run, [], OPTIONAL);
    const timeoutSeconds = timeoutParameter(run, parameters, "EXE_TIMEOUT");
    const tokens = splitCommand(payload);
    if (tokens.length === 0) throw new JobFailure("payload required");
    const args = await commandArgs(run, parameters, tokens, "Bad payload or args");
    const env = await jobEnvironment(run, parameters, {
      LAVA_S3_TMP: run.s3tmp,
      LAVA_S3_PAYLOAD: `${run.realm.s3_payloads}/${tokens[0]}`,
    });
    const files = await fetchPayload(run, tokens[0]!, "EXE_MAX_PAYLOAD_SIZE");
    const result: StepsResult = { exit_status: 0, output: [] };
    for (const file of files) {
      makeUserExecutable(file);
      await runStep(run, fileStep([file, ...args], run.runDir, basename(file), env, timeoutSeconds), result);
    }
    return result;
  },
};
