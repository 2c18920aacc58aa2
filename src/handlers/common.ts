/**
 * What the process-running job types (cmd, exe, pkg) share: parameter checks, the job environment, fetching
 * payloads, running one step with output capture, and the result shape `{exit_status, output: [...], error?}`.
 */
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parseDuration } from "../core/config.ts";
import { downloadPayload, makeUniqueDir } from "../core/payload.ts";
import { ProcessStartError, STATUS_TIMEOUT, readHeadOrTail, runProcessGroup } from "../core/process.ts";
import { pythonFloat } from "../core/pyformat.ts";
import { parseS3Uri } from "../ports/index.ts";
import { JobFailure, type JobRun } from "../core/job-contract.ts";
import { connectionEnvironment } from "../connectors/cli.ts";
import { dictCheck } from "../core/dict-check.ts";
import { errorText } from "../core/error-text.ts";
import { shlexSplit } from "./shlex.ts";
import { jinjaEnabled } from "../core/jinja-flag.ts";

export function checkParameters(run: JobRun, required: readonly string[] | null, optional: readonly string[]): Record<string, unknown> {
  const parameters = run.job.parameters ?? {};
  try {
    dictCheck(parameters, required, optional);
  } catch (e) {
    throw new JobFailure(`Bad job parameters: ${(e as Error).message}`);
  }
  if (parameters.vars !== undefined && !isPlainObject(parameters.vars)) throw new JobFailure("vars must be a map/dict");
  return parameters;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof Date);
}

export { jinjaEnabled } from "../core/jinja-flag.ts";

/** `str()` of an `args` item, as the original appends them. */
export function argString(v: unknown): string {
  if (typeof v === "string") return v;
  if (v === true) return "True";
  if (v === false) return "False";
  if (v === null || v === undefined) return "None";
  if (typeof v === "number") return String(v);
  return JSON.stringify(v);
}

export function argsParameter(parameters: Record<string, unknown>): string[] {
  const args = parameters.args ?? [];
  if (!Array.isArray(args)) throw new JobFailure("Bad job parameters: args must be a list");
  return args.map(argString);
}

export function timeoutParameter(run: JobRun, parameters: Record<string, unknown>, configName: string): number {
  try {
    if (parameters.timeout !== undefined) return parseDuration(parameters.timeout as string | number);
  } catch (e) {
    throw new JobFailure(`Bad timeout: ${(e as Error).message}`);
  }
  return run.config.seconds(configName);
}

/**
 * The child's environment, lowest precedence first: the worker's own (or, with JOB_CLEAN_ENV, only the few
 * variables a process needs to run), the job's `env` (rendered when Jinja is on), the handler's extras, then
 * lava's identity variables. `TMPDIR` points into the run dir when JOB_LOCAL_TMPDIR is on.
 */
export async function jobEnvironment(
  run: JobRun,
  parameters: Record<string, unknown>,
  extras: Record<string, string>,
): Promise<Record<string, string>> {
  const env = inheritedEnvironment(run.config.bool("JOB_CLEAN_ENV"));
  const jobEnv = parameters.env ?? {};
  if (!isPlainObject(jobEnv)) throw new JobFailure("Bad job parameters: env must be a map");
  const render = jinjaEnabled(parameters);
  for (const [k, v] of Object.entries(jobEnv)) {
    try {
      env[k] = render ? await run.render(String(v)) : String(v);
    } catch (e) {
      throw new JobFailure(`Bad environment variable: ${k}: ${errorText(e)}`);
    }
  }
  Object.assign(env, extras);
  Object.assign(env, await connectionEnvironment(run, parameters.connections));
  const job = run.job;
  env.LAVA_REALM = job.realm;
  env.LAVA_WORKER = job.worker;
  env.LAVA_OWNER = job.owner ?? "";
  env.LAVA_JOB_ID = job.job_id;
  env.LAVA_RUN_ID = job.run_id;
  if (run.realm.s3_key) env.LAVA_S3_KEY = run.realm.s3_key;
  else delete env.LAVA_S3_KEY;
  if (run.config.bool("JOB_LOCAL_TMPDIR")) env.TMPDIR = makeUniqueDir(run.runDir, ".lava.", ".tmp");
  return env;
}

/**
 * What a job inherits from the worker. By default everything, as the original: AWS credentials in the
 * worker's environment reach every job. JOB_CLEAN_ENV keeps only what programs need to find their tools,
 * home, locale and time zone.
 */
const CLEAN_ENV_NAMES = ["PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TERM"];
export function inheritedEnvironment(clean: boolean): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    if (!clean || CLEAN_ENV_NAMES.includes(k) || k.startsWith("LC_")) env[k] = v;
  }
  return env;
}

/** Splits an exe payload or a pkg command; a quoting error fails the job. */
export function splitCommand(text: string): string[] {
  try {
    return shlexSplit(text);
  } catch (e) {
    throw new JobFailure(`Bad payload: ${(e as Error).message}`);
  }
}

/** The arguments after the entry point: the command's other tokens, then `args`, each rendered on its own. */
export function commandArgs(run: JobRun, parameters: Record<string, unknown>, tokens: string[], what: string): Promise<string[]> {
  return renderTokens(run, [...tokens.slice(1), ...argsParameter(parameters)], jinjaEnabled(parameters), what);
}

/** Renders each token on its own (the original splits first, then renders). */
export async function renderTokens(run: JobRun, tokens: string[], enabled: boolean, what: string): Promise<string[]> {
  if (!enabled) return tokens;
  try {
    const out: string[] = [];
    for (const t of tokens) out.push(await run.render(t));
    return out;
  } catch (e) {
    throw new JobFailure(`${what}: ${errorText(e)}`);
  }
}

export interface OutputEntry {
  payload?: string;
  exit_status?: number;
  stdout?: string;
  stderr?: string;
}

export interface StepsResult {
  exit_status: number;
  output: OutputEntry[];
  error?: string | null;
  [k: string]: unknown;
}

export interface Step {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  timeoutSeconds: number;
  /** Local capture files. */
  stdoutPath: string;
  stderrPath: string;
  /** Object names under `run.s3tmp` for the captured output. */
  stdoutName: string;
  stderrName: string;
  /** The `payload` value of this step's output entry; absent: the entry has none (sqlv). */
  label?: string;
  /** A file the step reads as standard input (sqlc). */
  stdin?: string;
  /** At a timeout, SIGINT first (a database client then cancels its statement on the server). */
  interruptFirst?: boolean;
  /** Upload the capture files in dev mode too (sqlv: stdout is the output file lava sql writes itself). */
  uploadInDev?: boolean;
}

/**
 * Runs one step, records it in `result`, uploads non-empty output (also on failure), and throws a
 * JobFailure carrying `result` as its data when the step failed.
 */
export async function runStep(run: JobRun, step: Step, result: StepsResult): Promise<void> {
  const entry: OutputEntry = step.label === undefined ? {} : { payload: step.label };
  let failure: string | undefined;
  let outcome;
  try {
    outcome = await runProcessGroup({
      argv: step.argv,
      cwd: step.cwd,
      env: step.env,
      stdout: run.dev ? "inherit" : step.stdoutPath,
      stderr: run.dev ? "inherit" : step.stderrPath,
      ...(step.stdin === undefined ? {} : { stdin: step.stdin }),
      ...(step.interruptFirst ? { interruptFirst: true } : {}),
      timeoutSeconds: step.timeoutSeconds,
      graceSeconds: Math.max(0, run.config.seconds("KILL_GRACE_PERIOD")),
      signal: run.signal,
      owner: { realm: run.job.realm, worker: run.job.worker },
    });
  } catch (e) {
    if (e instanceof ProcessStartError) throw new JobFailure(e.message);
    throw e;
  }
  if (outcome.kind === "aborted") throw new JobFailure("Killed: the worker is stopping");
  if (outcome.kind === "timedOut") {
    // The original's words, with the time the step was really killed (after the grace period when SIGTERM was not enough).
    failure = `Timed out after ${pythonFloat(Math.round(outcome.killedAfterSeconds * 10) / 10)} seconds`;
    result.exit_status = entry.exit_status = STATUS_TIMEOUT;
  } else {
    entry.exit_status = outcome.exitStatus;
    if (outcome.exitStatus !== 0) {
      failure = `Failed with exit status ${outcome.exitStatus}`;
      result.exit_status = outcome.exitStatus;
      result.error = run.dev ? null : readHeadOrTail(step.stderrPath, run.config.int("STDERR_SIZE")).trim() || null;
    }
  }
  if (!run.dev || step.uploadInDev) {
    await uploadIfNotEmpty(run, step.stdoutPath, step.stdoutName, entry, "stdout");
    await uploadIfNotEmpty(run, step.stderrPath, step.stderrName, entry, "stderr");
  }
  result.output.push(entry);
  if (failure) throw new JobFailure(failure, result);
}

async function uploadIfNotEmpty(
  run: JobRun,
  path: string,
  name: string,
  entry: OutputEntry,
  field: "stdout" | "stderr",
): Promise<void> {
  const file = Bun.file(path);
  if (!(await file.exists()) || file.size === 0) return;
  const uri = `${run.s3tmp.replace(/\/+$/, "")}/${name}`;
  parseS3Uri(uri); // fails early on a malformed s3tmp
  await run.ports.objects.put(uri, file, run.realm.s3_key ? { kmsKeyId: run.realm.s3_key } : {});
  entry[field] = uri;
}

/**
 * A step of exe or pkg: runs in `dir`, captures into `<dir>/<base>.stdout|.stderr` and uploads under the same
 * names, so the output of several files or packages in one job stays apart.
 */
export function fileStep(argv: string[], dir: string, base: string, env: Record<string, string>, timeoutSeconds: number): Step {
  return {
    argv,
    cwd: dir,
    env,
    timeoutSeconds,
    stdoutPath: join(dir, `${base}.stdout`),
    stderrPath: join(dir, `${base}.stderr`),
    stdoutName: `${base}.stdout`,
    stderrName: `${base}.stderr`,
    label: base,
  };
}

/** Downloads the exe/pkg payload (one key, a prefix, or a list) into the run dir; returns the local files. */
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
      downloader,
      settlingSeconds: run.config.int("PAYLOAD_SETTLING_TIME"),
    });
  } catch (e) {
    if (e instanceof JobFailure) throw e;
    throw new JobFailure((e as Error).message);
  }
}

/**
 * sqlc and sqlv: renders a payload file whole, in place, as the original's FileSystemLoader environment does
 * (`select_autoescape()`: HTML-escaped output for names ending .html, .htm, .xml). A failure fails the job
 * with exit status 1 and the original's "Jinja2 render failed on <file>" error.
 */
export async function renderPayloadFile(run: JobRun, path: string, result: StepsResult): Promise<void> {
  const base = basename(path);
  try {
    const text = readFileSync(path, "utf8");
    // Loaded here, not up front: cmd, exe and pkg share this module and never render files.
    const { autoescapeFor } = await import("../jinja/index.ts");
    writeFileSync(path, await run.render(text, undefined, { name: base, autoescape: autoescapeFor(base) }));
  } catch (e) {
    result.exit_status = 1;
    result.error = `Jinja2 render failed on ${base}: ${errorText(e)}`;
    throw new JobFailure(`Failed with exit status ${result.exit_status}`, result);
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
