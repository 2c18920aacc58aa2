/**
 * `exe`: fetches executable(s) from the payload area and runs each, in name order, with the same arguments.
 * The payload is `key-or-prefix [args…]`; the key is never rendered, the arguments (and `args`) are, one by
 * one. Output of file `<base>` goes to `<s3tmp>/<base>.stdout|.stderr`. The first failure stops the job.
 */
import { chmodSync, statSync } from "node:fs";
import { basename } from "node:path";
import { downloadPayload, type PayloadDownloader } from "../core/payload.ts";
import {
  argsParameter,
  checkParameters,
  jinjaEnabled,
  jobEnvironment,
  outputPaths,
  renderTokens,
  runStep,
  timeoutParameter,
  type StepsResult,
} from "./common.ts";
import { shlexSplit } from "./shlex.ts";
import { JobFailure, type JobRun, type JobType } from "./types.ts";

const OPTIONAL = ["args", "connections", "env", "jinja", "timeout", "vars"] as const;

export const exeJob: JobType = {
  name: "exe",
  async run(run) {
    const payload = run.job.payload;
    if (typeof payload !== "string") throw new JobFailure("Only single string payloads are supported for exe jobs");
    const parameters = checkParameters(run, [], OPTIONAL);
    const timeoutSeconds = timeoutParameter(run, parameters, "EXE_TIMEOUT");
    let tokens: string[];
    try {
      tokens = shlexSplit(payload);
    } catch (e) {
      throw new JobFailure(`Bad payload: ${(e as Error).message}`);
    }
    if (tokens.length === 0) throw new JobFailure("payload required");
    const args = renderTokens(run, [...tokens.slice(1), ...argsParameter(parameters)], jinjaEnabled(parameters), "Bad payload or args");
    const env = await jobEnvironment(run, parameters, {
      LAVA_S3_TMP: run.s3tmp,
      LAVA_S3_PAYLOAD: `${run.realm.s3_payloads}/${tokens[0]}`,
    });
    const files = await fetchPayload(run, tokens[0]!, "EXE_MAX_PAYLOAD_SIZE");
    const result: StepsResult = { exit_status: 0, output: [] };
    for (const file of files) {
      makeUserExecutable(file);
      const base = basename(file);
      await runStep(
        run,
        {
          argv: [file, ...args],
          cwd: run.runDir,
          env,
          timeoutSeconds,
          ...outputPaths(run.runDir, base),
          stdoutName: `${base}.stdout`,
          stderrName: `${base}.stderr`,
          label: base,
        },
        result,
      );
    }
    return result;
  },
};

export async function fetchPayload(run: JobRun, payload: unknown, maxSizeVar: string): Promise<string[]> {
  const downloader = run.config.str("PAYLOAD_DOWNLOADER");
  if (downloader !== "v1" && downloader !== "v2") throw new JobFailure(`Unknown PAYLOAD_DOWNLOADER: ${downloader}`);
  try {
    return await downloadPayload(run.ports.objects, {
      payload,
      s3Payloads: run.realm.s3_payloads,
      localDir: run.runDir,
      maxSize: run.config.bytes(maxSizeVar),
      maxSizeText: run.config.raw(maxSizeVar) ?? run.config.str(maxSizeVar),
      downloader: downloader as PayloadDownloader,
      settlingSeconds: run.config.int("PAYLOAD_SETTLING_TIME"),
    });
  } catch (e) {
    if (e instanceof JobFailure) throw e;
    throw new JobFailure((e as Error).message);
  }
}

/** `chmod u+x`; a missing file fails the job as the original's does. */
export function makeUserExecutable(path: string): void {
  try {
    chmodSync(path, statSync(path).mode | 0o100);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new JobFailure(`[Errno 2] No such file or directory: '${path}'`);
    throw e;
  }
}
