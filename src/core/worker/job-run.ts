/**
 * One run of one job, in the original `run_job` order (platform.md §4.6, jobs.md §2.0): static enabled,
 * `starting`, max_run_delay, iteration limits, lava globals, state, event_log, dynamic enabled, run-delay
 * metric, handler, private run directory, iterations with events and actions, job metrics, clean-up.
 *
 * Children of chain/dag/foreach go through the same function (`JobRun.runChild`): they share the
 * parent's run_id and run directory and write their own events under their own job_id.
 */
import { lstatSync, mkdirSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { Ports } from "../../ports/index.ts";
import type { LavaConfig } from "../config.ts";
import type { Logger, LogFields } from "../log.ts";
import { TERMINAL_STATUSES, type EventWriter, type EventTarget } from "../events.ts";
import { JobFailure, type AugmentedJob, type JobResult, type JobRun, type JobType, type RealmInfo } from "../job-contract.ts";
import type { ActionKind } from "../../actions/types.ts";
import { loadJobSpec, type JobSpec } from "../job-spec.ts";
import { RunSettingError, runSettingsOf, type RunSettings } from "../items.ts";
import { renderEachString } from "../template-values.ts";
import { jsonStateIds, loadJinja, renderRequest, type ContextKind, type RenderRequest, type ValueOrigin } from "./render.ts";
import { pythonFloat } from "../pyformat.ts";
import { sleepUnlessAborted } from "../sleep.ts";
import { errorText } from "../error-text.ts";
import { fsp } from "../fs-promises.ts";

/** What every run of one worker shares. */
export interface RunServices {
  ports: Ports;
  config: LavaConfig;
  realmInfo: RealmInfo;
  worker: string;
  /** `<TMPDIR>/<realm>/<worker>.<pid>`: run directories are created inside. */
  workerTmp: string;
  dev: boolean;
  events: EventWriter;
  /** Aborted on a hard stop; handlers kill their process groups. */
  hardStop: AbortSignal;
  jobType(name: string): Promise<JobType | undefined>;
  actionKind(name: string): Promise<ActionKind | undefined>;
  loadState(ports: Ports, realm: string, defaults: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Renders a run's template; the worker's goes to a thread (render-pool.ts). Default: on the calling thread. */
  renderer?(req: RenderRequest): Promise<string>;
}

export interface RunInput {
  /** Validated job spec with the dispatch's parameters and globals already merged. */
  spec: JobSpec;
  runId: string;
  tsDispatch: Date;
  /** ts_dispatch as written into events. */
  tsDispatchIso: string;
  /** Logger of the job slot (carries `thread`). */
  log: Logger;
  /** Set for children: they run in the parent's directory and leave it in place. */
  parentRunDir?: RunDir;
  /**
   * Top-level parameters/globals keys whose values arrived as JSON (the dispatch message). Templates see
   * those as int/float and everything else of the spec as Decimal, as the original's boto3 reads give it.
   */
  jsonKeys?: { parameters?: Iterable<string>; globals?: Iterable<string> };
}

/** A run that ended in failure; `message` is the last error (what the slot logs). */
export class JobRunFailed extends Error {
  override name = "JobRunFailed";
  constructor(
    message: string,
    readonly realm: string,
    readonly jobId: string,
    readonly runId: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const ACTION_KEYS = ["on_success", "on_retry", "on_fail"] as const;
type ActionKey = (typeof ACTION_KEYS)[number];

export async function runJob(svc: RunServices, input: RunInput): Promise<JobResult> {
  return new RunLifecycle(svc, input).run();
}

class RunLifecycle {
  private readonly realm: string;
  private readonly jobId: string;
  private readonly runId: string;
  private readonly fields: LogFields;
  private readonly target: EventTarget;
  private readonly log: Logger;
  /** Where the template values of this run come from (state is added once loaded). */
  private origin: ValueOrigin;
  /** `starting` was recorded: from then on the run must end in a terminal status. */
  private started = false;
  /** A terminal status (complete, failed, rejected, skipped) was recorded. */
  private ended = false;

  constructor(
    private readonly svc: RunServices,
    private readonly input: RunInput,
  ) {
    this.realm = svc.realmInfo.realm;
    this.jobId = input.spec.job_id;
    this.runId = input.runId;
    this.fields = { event_type: "job", job_id: this.jobId, run_id: this.runId };
    this.target = { job_id: this.jobId, run_id: this.runId, ts_dispatch: input.tsDispatchIso };
    this.log = input.log;
    this.origin = {
      jsonParameters: new Set(input.jsonKeys?.parameters ?? []),
      jsonGlobals: new Set(input.jsonKeys?.globals ?? []),
      jsonState: new Set(),
      dispatchText: input.tsDispatchIso,
    };
  }

  private prefix(): string {
    return `Job ${this.jobId} (${this.runId})`;
  }

  private event(status: Parameters<EventWriter["record"]>[1], info: unknown = null): Date {
    if (status === "starting") this.started = true;
    if (TERMINAL_STATUSES.has(status)) this.ended = true;
    return this.svc.events.record(this.target, status, info);
  }

  private fail(message: string, cause?: unknown): JobRunFailed {
    return new JobRunFailed(message, this.realm, this.jobId, this.runId, { cause });
  }

  /** Records `rejected` and returns the error to throw. */
  private reject(message: string): JobRunFailed {
    this.event("rejected", message);
    return this.fail(message);
  }

  /**
   * Every run that recorded `starting` ends in a terminal status, whatever fails on the way (docs/WORKER.md,
   * "Every run ends"): a step that throws without having recorded one gets `failed` with its reason here,
   * before the error reaches the slot (which deletes the message only once the events are written).
   */
  async run(): Promise<JobResult> {
    try {
      return await this.lifecycle();
    } catch (err) {
      if (!this.started || this.ended) throw err;
      const msg = errorText(err);
      this.event("failed", msg);
      throw err instanceof JobRunFailed ? err : this.fail(msg, err);
    }
  }

  private async lifecycle(): Promise<JobResult> {
    const { spec } = this.input;

    if (spec.enabled === false) {
      this.log.warning(`${this.prefix()}: Job is not enabled (static)`, this.fields);
      this.event("skipped", "Job not enabled (static)");
      return {};
    }

    await loadJinja().catch((err: unknown) => {
      this.log.warning(`${this.prefix()}: template engine unavailable: ${(err as Error).message}`, this.fields);
    });
    this.log.info(`${this.prefix()}: Starting`, this.fields);
    const tsStart = this.event("starting");
    const job = this.augment(tsStart);

    const settings = this.runSettings();
    this.checkRunDelay(tsStart, settings);
    const { limit, delaySeconds } = this.iterationLimits(settings);
    const cwMetrics = settings.cwMetrics ?? this.svc.config.bool("CW_METRICS_JOB");
    this.fillLavaGlobals(job);
    job.state = await this.loadState(job.state);
    this.origin = { ...this.origin, jsonState: jsonStateIds(job.state) };

    if (spec.event_log !== undefined && spec.event_log !== null && spec.event_log !== "") await this.logEventLog(job);
    if (!(await this.dynamicallyEnabled(job))) return {};

    if (cwMetrics) await this.putRunDelay(tsStart);

    const handler = await this.svc.jobType(spec.type);
    if (!handler) {
      const msg = unknownTypeMessage(spec.type);
      this.event("failed", msg);
      throw this.fail(msg);
    }

    const runDir = this.claimRunDir();
    try {
      const jobRun = this.jobRun(job, runDir);
      const outcome = await this.iterate(handler, jobRun, limit, delaySeconds);
      if (cwMetrics) await this.putCompletionMetrics(tsStart, outcome.failure !== undefined);
      if (outcome.failure) throw this.fail(outcome.failure.message, outcome.failure);
      return outcome.result;
    } finally {
      if (!this.input.parentRunDir) await this.releaseRunDir(runDir);
    }
  }

  /** Renders in this run's context, in the worker's render thread when it has one. */
  private render(
    kind: ContextKind,
    template: string,
    job: AugmentedJob,
    more: { name?: string; autoescape?: boolean; extra?: Record<string, unknown>; result?: Record<string, unknown> } = {},
  ): Promise<string> {
    const req: RenderRequest = { template, kind, job, realm: this.svc.realmInfo, origin: this.origin, ...more };
    if (this.svc.renderer) return this.svc.renderer(req);
    return Promise.resolve().then(() => renderRequest(req));
  }

  /** The job's run settings, parsed once (items.ts); a bad one rejects the run naming the field. */
  private runSettings(): RunSettings {
    try {
      return runSettingsOf(this.input.spec);
    } catch (err) {
      if (err instanceof RunSettingError) throw this.reject(err.message);
      throw err;
    }
  }

  /** The spec a handler sees: the item plus realm, run_id, state and the run's times. */
  private augment(tsStart: Date): AugmentedJob {
    const { spec } = this.input;
    return {
      ...spec,
      parameters: spec.parameters,
      globals: spec.globals,
      state: { ...spec.state },
      realm: this.realm,
      run_id: this.runId,
      ts_dispatch: this.input.tsDispatch,
      ts_start: tsStart,
      ts_ustart: tsStart,
    } as AugmentedJob;
  }

  private checkRunDelay(tsStart: Date, settings: RunSettings): void {
    const limit = settings.maxRunDelaySeconds;
    if (limit === undefined) return;
    if ((tsStart.getTime() - this.input.tsDispatch.getTime()) / 1000 > limit) {
      throw this.reject(`dispatch is more than ${String(this.input.spec.max_run_delay)} old`);
    }
  }

  /** The iteration settings checked against this worker's limits (ITERATION_MAX_LIMIT, ITERATION_MAX_DELAY). */
  private iterationLimits(settings: RunSettings): { limit: number; delaySeconds: number } {
    const limit = settings.iterationLimit;
    const maxLimit = this.svc.config.int("ITERATION_MAX_LIMIT");
    if (limit > maxLimit) throw this.reject(`iteration_limit must be <= ${maxLimit}`);
    // The original silently runs nothing for a limit below 1; a run with no outcome helps nobody.
    if (limit < 1) throw this.reject("iteration_limit must be >= 1");
    const delaySeconds = settings.iterationDelaySeconds;
    if (delaySeconds > this.svc.config.seconds("ITERATION_MAX_DELAY")) {
      throw this.reject(`iteration_delay must be <= ${this.svc.config.str("ITERATION_MAX_DELAY")}`);
    }
    return { limit, delaySeconds };
  }

  /** `globals.lava` defaults; values set upstream (chain, dispatch) win. */
  private fillLavaGlobals(job: AugmentedJob): void {
    const existing = job.globals.lava;
    const lava: Record<string, unknown> = existing && typeof existing === "object" && !Array.isArray(existing) ? { ...existing } : {};
    lava.master_job_id ??= job.job_id;
    lava.parent_job_id ??= job.job_id;
    lava.master_start ??= job.ts_start;
    lava.master_ustart ??= job.ts_ustart;
    lava.parent_start ??= job.ts_start;
    lava.parent_ustart ??= job.ts_ustart;
    job.globals = { ...job.globals, lava };
  }

  private async loadState(defaults: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (Object.keys(defaults).length === 0) return defaults;
    return this.svc.loadState(this.svc.ports, this.realm, defaults);
  }

  /** `event_log`: each string rendered; a failure is recorded, not fatal. */
  private async logEventLog(job: AugmentedJob): Promise<void> {
    let info: unknown;
    try {
      // Each string on its own (template-values.ts): a global from an S3 key holding `"` must not add
      // fields to the event, as the original's dump-render-parse of the whole value lets it.
      info = await renderEachString(this.input.spec.event_log, (t) => this.render("enabled", t, job, { name: "event_log" }));
    } catch (err) {
      const msg = errorText(err);
      this.log.error(`${this.prefix()}: Bad event_log: ${msg}`, this.fields);
      info = `Error: Bad event_log: ${msg}`;
    }
    this.event("logging", info);
  }

  /** A string `enabled` is rendered; only "true" (any case, trimmed) runs. */
  private async dynamicallyEnabled(job: AugmentedJob): Promise<boolean> {
    const enabled = this.input.spec.enabled;
    if (typeof enabled !== "string") return true;
    let value: string;
    try {
      value = (await this.render("enabled", enabled, job, { name: "enabled" })).trim().toLowerCase();
    } catch (err) {
      // The original dies here without a terminal event; we record why the run did not happen.
      const msg = `Bad enabled: ${errorText(err)}`;
      this.event("failed", msg);
      throw this.fail(msg, err);
    }
    if (value === "true") return true;
    this.log.warning(`${this.prefix()}: Job is not enabled (dynamic)`, { ...this.fields, enabled: value });
    this.event("skipped", `Job not enabled (enabled="${value}")`);
    return false;
  }

  private async putRunDelay(tsStart: Date): Promise<void> {
    try {
      await this.svc.ports.metrics.put(this.svc.config.str("CW_NAMESPACE"), [
        {
          name: "RunDelay",
          value: (tsStart.getTime() - this.input.tsDispatch.getTime()) / 1000,
          unit: "Seconds",
          dimensions: { Realm: this.realm, Worker: this.input.spec.worker },
          timestamp: this.input.tsDispatch,
        },
      ]);
    } catch (err) {
      const msg = `Can't put metric data: ${(err as Error).message}`;
      this.event("failed", msg);
      throw this.fail(msg, err);
    }
  }

  private async putCompletionMetrics(tsStart: Date, failed: boolean): Promise<void> {
    const dimensions = { Realm: this.realm, Job: this.jobId };
    try {
      await this.svc.ports.metrics.put(this.svc.config.str("CW_NAMESPACE"), [
        { name: "RunTime", value: (Date.now() - tsStart.getTime()) / 1000, unit: "Seconds", dimensions, timestamp: this.input.tsDispatch },
        { name: "JobFailed", value: failed ? 1 : 0, dimensions, timestamp: this.input.tsDispatch },
      ]);
    } catch (err) {
      this.log.warning(`${this.prefix()}: Can't put metric data: ${(err as Error).message}`, this.fields);
    }
  }

  /**
   * Claims the run's directory; it is made on first use (RunDir). Whether it may be claimed is decided
   * now, before the handler runs, as when it was made up front: a directory already there (two deliveries
   * of the same run met in this worker, whose area carries its pid) or one that cannot be there (the area
   * is not a directory) fails the run.
   */
  private claimRunDir(): RunDir {
    if (this.input.parentRunDir) return this.input.parentRunDir;
    const dir = runDirIn(this.svc.workerTmp, this.runId);
    if (!dir) throw this.fail(`Bad run_id for a temp dir: ${JSON.stringify(this.runId.slice(0, 64))}`);
    // A run of this worker holds the directory and has not made it yet: the claim, not the disk, says so.
    if (claimedRunDirs.has(dir)) throw this.fail(RUN_DIR_OVERLAP);
    // No exception for the usual answer (absent): building one costs more than the lstat itself.
    // Anything else that keeps the path from being made (the area is a file: ENOTDIR) still throws.
    if (lstatSync(dir, { throwIfNoEntry: false })) throw this.fail(RUN_DIR_OVERLAP);
    claimedRunDirs.add(dir);
    return new RunDir(dir);
  }

  private async releaseRunDir(runDir: RunDir): Promise<void> {
    claimedRunDirs.delete(runDir.path);
    if (!runDir.made) return;
    const dir = runDir.path;
    try {
      // Most runs leave their directory empty: one rmdir then, the recursive walk only when it is not.
      await fsp().rmdir(dir).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== "ENOENT") return fsp().rm(dir, { recursive: true, force: true });
      });
    } catch (err) {
      this.log.warning(`${this.prefix()}: While cleaning temp dir: ${(err as Error).message}`, this.fields);
    }
  }

  private jobRun(job: AugmentedJob, runDir: RunDir): JobRun {
    const svc = this.svc;
    const realmInfo = svc.realmInfo;
    const run: JobRun = {
      job,
      realm: realmInfo,
      get runDir() {
        return runDir.use();
      },
      s3tmp: `${realmInfo.s3_temp}/${job.job_id}/${job.run_id}`,
      dev: svc.dev,
      ports: svc.ports,
      config: svc.config,
      log: this.log,
      signal: svc.hardStop,
      render: (template, extra, opts) => this.render("job", template, job, { extra, ...opts }),
      runChild: (childId, globals, spec) => this.runChild(job, runDir, childId, globals, spec),
    };
    return run;
  }

  private async iterate(
    handler: JobType,
    jobRun: JobRun,
    limit: number,
    delaySeconds: number,
  ): Promise<{ result: JobResult; failure?: Error }> {
    const job = jobRun.job;
    let failure: Error | undefined;
    for (let iteration = 1; iteration <= limit; iteration++) {
      (job.globals.lava as Record<string, unknown>).iteration = iteration;
      this.log.info(`${this.prefix()}: Running iteration ${iteration}`, this.fields);
      this.event("running", `Iteration ${iteration}`);
      const canRetry = iteration < limit;
      try {
        const result = await this.runOnce(handler, jobRun, canRetry);
        return { result };
      } catch (err) {
        failure = err as Error;
        this.log.error(`${this.prefix()}: Iteration ${iteration} failed: ${failure.message}`, this.fields);
        if (canRetry) {
          this.log.info(`${this.prefix()}: Will retry in ${pythonFloat(delaySeconds)} seconds`, this.fields);
          if (!(await sleepUnlessAborted(delaySeconds * 1000, this.svc.hardStop))) break;
        }
      }
    }
    if (limit > 1) this.log.error(`${this.prefix()}: Failed ${limit} times - abort`, this.fields);
    return { result: {}, failure };
  }

  private async runOnce(handler: JobType, jobRun: JobRun, canRetry: boolean): Promise<JobResult> {
    let result: JobResult;
    try {
      result = await handler.run(jobRun);
      if (result === null || typeof result !== "object") result = {};
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      // Key order as the original: error_data, error, exception.
      const failed: JobResult = { error_data: error instanceof JobFailure ? error.data : null, error: error.message };
      if (this.svc.config.bool("DEBUG") && error.stack) failed.exception = error.stack.split("\n").map((l) => `${l}\n`);
      this.event(canRetry ? "retrying" : "failed", failed);
      await this.runActions(canRetry ? "on_retry" : "on_fail", jobRun, failed);
      throw error;
    }
    this.log.info(`${this.prefix()}: Complete`, this.fields);
    // The original's event carries `error: null` when the handler gave none (it is added before the write).
    this.event("complete", "error" in result ? result : { ...result, error: null });
    await this.runActions("on_success", jobRun, result);
    return result;
  }

  /** Job key else realm key; in order; the first failure is recorded and ends the list. */
  private async runActions(key: ActionKey, jobRun: JobRun, result: JobResult): Promise<void> {
    try {
      const list = key in this.input.spec ? this.input.spec[key] : (this.svc.realmInfo[key] ?? []);
      if (!Array.isArray(list)) throw new Error(`${key}: action must be a list`);
      for (const spec of list as unknown[]) await this.runAction(key, spec, jobRun, result);
    } catch (err) {
      const msg = (err as Error).message;
      this.log.error(`${this.prefix()}: Action failed: ${msg}`, this.fields);
      this.event("action_failed", msg);
    }
  }

  private async runAction(key: ActionKey, spec: unknown, jobRun: JobRun, result: JobResult): Promise<void> {
    if (!spec || typeof spec !== "object" || Array.isArray(spec) || !("action" in spec)) {
      throw new Error(`${key} action: Missing keys: action`);
    }
    const actionSpec = spec as Record<string, unknown>;
    const kindName = String(actionSpec.action);
    const kind = await this.svc.actionKind(kindName);
    if (!kind) throw new Error(`${key} action: ${kindName}: unknown action`);
    try {
      await kind.run({
        spec: actionSpec,
        run: jobRun,
        result,
        render: (template) => this.render("action", template, jobRun.job, { result }),
      });
    } catch (err) {
      throw new Error(`${key} action: ${kindName}: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * A child of chain/dag/foreach: its own spec, this worker only, the parent's globals over its own with
   * `lava.parent_*` naming the parent, then the full lifecycle under the parent's run_id and directory.
   */
  /**
   * The child gets the parent's values themselves: a global keeps the parent's origin; one the handler
   * added (not among the parent's globals) was made at run time, so it is not a table value.
   */
  private childJsonGlobals(parent: AugmentedJob, passed: Record<string, unknown>): string[] {
    return Object.keys(passed).filter((k) => this.origin.jsonGlobals.has(k) || !(k in parent.globals));
  }

  private async runChild(
    parent: AugmentedJob,
    runDir: RunDir,
    childId: string,
    globals: Record<string, unknown>,
    loaded?: JobSpec,
  ): Promise<JobResult> {
    const spec = loaded ?? (await loadJobSpec(this.svc.ports, this.realm, childId, this.log));
    if (spec.worker !== this.svc.worker) {
      throw new JobFailure(`Worker mismatch: Expected ${this.svc.worker} but got ${spec.worker}`);
    }
    const passedLava = globals.lava;
    const lava: Record<string, unknown> = {
      ...(passedLava && typeof passedLava === "object" && !Array.isArray(passedLava) ? (passedLava as Record<string, unknown>) : {}),
      parent_job_id: parent.job_id,
      parent_start: parent.ts_start,
      parent_ustart: parent.ts_ustart,
    };
    delete lava.iteration;
    const childSpec: JobSpec = { ...spec, globals: { ...spec.globals, ...globals, lava } };
    try {
      return await runJob(this.svc, {
        spec: childSpec,
        runId: this.runId,
        tsDispatch: this.input.tsDispatch,
        tsDispatchIso: this.input.tsDispatchIso,
        log: this.log,
        parentRunDir: runDir,
        jsonKeys: { globals: this.childJsonGlobals(parent, globals) },
      });
    } catch (err) {
      if (err instanceof JobRunFailed) {
        const cause = err.cause;
        throw new JobFailure(err.message, cause instanceof JobFailure ? cause.data : null);
      }
      throw err;
    }
  }
}



const RUN_DIR_OVERLAP = "Job temp dir already exists - possible dispatch overlap";

/** Run directories claimed by runs in progress in this process. */
const claimedRunDirs = new Set<string>();

/**
 * A run's private directory (`<workerTmp>/<runId>`, 0700), made the first time a handler asks for its path.
 * Handlers that never use it (log) then cost no mkdir and rmdir: measured on this machine's ext4, the pair
 * took 130–230 µs per run, a fifth of a `log` job's whole cost in the worker (bench/local.ts).
 */
export class RunDir {
  made = false;

  constructor(readonly path: string) {}

  /** The path, the directory made first when it is not yet. */
  use(): string {
    if (this.made) return this.path;
    try {
      mkdirSync(this.path, { mode: 0o700 });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EEXIST") throw new Error(RUN_DIR_OVERLAP);
      if (code !== "ENOENT") throw err;
      // The worker's own directory has gone (cleaned from outside): make the whole path again.
      mkdirSync(this.path, { recursive: true, mode: 0o700 });
    }
    this.made = true;
    return this.path;
  }
}

/**
 * `<workerTmp>/<runId>` when that is a directory directly inside the worker's area, else undefined. The
 * message boundary already refuses such run ids (message.ts); this is checked again where the directory
 * is made, before anything is created, so no caller can make a run work outside the area.
 */
export function runDirIn(workerTmp: string, runId: string): string | undefined {
  const area = resolve(workerTmp);
  const dir = resolve(area, runId);
  if (runId.includes("\0") || dirname(dir) !== area || basename(dir) !== runId) return undefined;
  return join(workerTmp, runId);
}

/**
 * Job types of the original lava 8 that this worker does not run yet. In a mixed fleet such jobs belong
 * on a queue served by Python workers; the failure says so instead of calling the type unknown.
 */
const ORIGINAL_TYPES_NOT_YET_HERE = new Set([
  "docker", "lavasched",
  "sharepoint_get_doc", "sharepoint_get_list", "sharepoint_get_multi_doc", "sharepoint_put_doc",
  "sharepoint_put_list", "smb_get", "smb_put",
]);

/** The original's "<type>: Unknown job type", with a hint for types only the Python worker runs yet. */
export function unknownTypeMessage(type: string): string {
  const text = `${type}: Unknown job type`;
  if (!ORIGINAL_TYPES_NOT_YET_HERE.has(type)) return text;
  return `${text} (a lava 8 job type this worker does not run yet: dispatch it to a queue that Python workers serve)`;
}
