/**
 * `pkg`: fetches package(s) (`*.zip`, `*.tar`, `*.tar.*`) from the payload area, unpacks each into its own
 * directory and runs the entry point `command` (deprecated alias `main`) there. Token 0 of `command` is a path
 * inside the package and is never rendered; the other tokens and `args` are. Output of package `<base>` goes
 * to `<s3tmp>/<base>.stdout|.stderr`; each package's directory is removed after its run; the first failure
 * stops the job.
 *
 * Divergences from the original, all for safety (docs/SECURITY.md "Archive limits"): archives whose members
 * or links could land outside their directory, or that expand past PKG_MAX_UNPACKED_SIZE / PKG_MAX_ENTRIES,
 * are refused (see unpack.ts); the entry point must lie inside the package, on paper and after resolving
 * links (the original joins paths blindly, so an absolute or `..` command escapes it).
 */
import { realpath, rm } from "node:fs/promises";
import { basename, join, relative, resolve } from "node:path";
import { makeUniqueDir } from "../core/payload.ts";
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
import { JobFailure, type JobRun, type JobType } from "../core/job-contract.ts";
import { isInside, unpackPackage } from "./unpack.ts";

const OPTIONAL = ["args", "command", "connections", "env", "jinja", "timeout", "vars", "main"] as const;

export const pkgJob: JobType = {
  name: "pkg",
  async run(run) {
    const parameters = checkParameters(run, null, OPTIONAL);
    const command = entryCommand(run, parameters);
    const timeoutSeconds = timeoutParameter(run, parameters, "PKG_TIMEOUT");
    const tokens = splitCommand(command);
    if (tokens.length === 0) throw new JobFailure("Bad job parameters: No command");
    const args = await commandArgs(run, parameters, tokens, "Bad command or args");
    const env = await jobEnvironment(run, parameters, {
      LAVA_S3_TMP: run.s3tmp,
      LAVA_S3_PAYLOAD: payloadUris(run),
    });
    const packages = await fetchPayload(run, run.job.payload, "PKG_MAX_PAYLOAD_SIZE");
    const result: StepsResult = { exit_status: 0, output: [] };
    for (const [i, pkg] of packages.entries()) {
      const dir = makeUniqueDir(run.runDir, `${i + 1}.`, ".pkg");
      try {
        await unpack(run, pkg, dir, result);
        const entry = await entryPoint(dir, tokens[0]!);
        makeUserExecutable(entry);
        await runStep(run, fileStep([entry, ...args], dir, basename(pkg), env, timeoutSeconds), result);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    return result;
  },
};

function entryCommand(run: JobRun, parameters: Record<string, unknown>): string {
  if ("main" in parameters) {
    run.log.warning(`${run.job.job_id}: Deprecation warning: main parameter should be replaced by command`, {
      event_type: "job",
      job_id: run.job.job_id,
      run_id: run.job.run_id,
    });
    if ("command" in parameters) {
      throw new JobFailure('Bad job parameters: Only one of "command" or "main" (deprecated) allowed');
    }
  }
  const command = parameters.command ?? parameters.main;
  if (!command) throw new JobFailure("Bad job parameters: No command");
  return String(command);
}

/** `LAVA_S3_PAYLOAD`: the payload's URI; for a list payload, the URIs separated by spaces (the original crashes). */
function payloadUris(run: JobRun): string {
  const payload = run.job.payload;
  const items = Array.isArray(payload) ? payload.map(String) : [String(payload)];
  return items.map((p) => `${run.realm.s3_payloads}/${p}`).join(" ");
}

async function unpack(run: JobRun, pkg: string, dir: string, result: StepsResult): Promise<void> {
  try {
    await unpackPackage(pkg, dir, {
      timeoutSeconds: run.config.seconds("PKG_UNPACK_TIMEOUT"),
      limits: {
        maxBytes: run.config.bytes("PKG_MAX_UNPACKED_SIZE"),
        maxBytesText: run.config.raw("PKG_MAX_UNPACKED_SIZE") ?? run.config.str("PKG_MAX_UNPACKED_SIZE"),
        maxEntries: run.config.int("PKG_MAX_ENTRIES"),
      },
      signal: run.signal,
    });
  } catch (e) {
    const message = (e as Error).message;
    result.exit_status = 1;
    result.error = message;
    throw new JobFailure(`Cannot unpack ${pkg} into ${dir}: ${message}`, result);
  }
}

/**
 * The entry point's path inside the package. Checked twice: on the text (no `..` or absolute path) and on the
 * real file system, so a path through links that leave the package is refused too.
 */
async function entryPoint(dir: string, path: string): Promise<string> {
  const full = resolve(dir, path);
  const rel = relative(dir, full);
  const outside = () => new JobFailure(`Bad command: ${path}: the entry point must be inside the package`);
  if (rel === "" || rel.startsWith("..") || resolve(dir, rel) !== full) throw outside();
  const entry = join(dir, rel);
  let real: string;
  try {
    real = await realpath(entry);
  } catch (e) {
    // A missing entry point fails in makeUserExecutable with the original's message.
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return entry;
    throw e;
  }
  const root = await realpath(dir);
  if (real === root || !isInside(root, real)) throw outside();
  return entry;
}
