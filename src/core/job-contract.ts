/**
 * The contract between the worker's run loop and what runs inside a run: job types (one file each, listed
 * once in `src/handlers/registry.ts`), and the actions and connectors they use. It lives in the core
 * because all of them, and the worker, share it.
 */
import type { Ports } from "../ports/index.ts";
import type { LavaConfig } from "./config.ts";
import type { Logger } from "./log.ts";
import type { JobSpec, RealmInfo } from "./items.ts";

export type { RealmInfo } from "./items.ts";

/** What a handler returns on success and what its failure carries as `error_data`. */
export type JobResult = Record<string, unknown>;

export interface JobRun {
  /** The augmented job spec: the jobs-table item plus realm, run_id, state, ts_dispatch, ts_start, ts_ustart, merged parameters/globals. */
  job: AugmentedJob;
  realm: RealmInfo;
  /** Private run directory `<TMPDIR>/<realm>/<worker>.<pid>/<run_id>`; children of chain/dag share the parent's. */
  runDir: string;
  /** `<s3_temp>/<job_id>/<run_id>` */
  s3tmp: string;
  dev: boolean;
  ports: Ports;
  config: LavaConfig;
  log: Logger;
  /**
   * Renders a template in the job-parameters context (globals, job, realm, start, state, ustart, utils, vars).
   * Asynchronous: the worker renders in a thread, off the event loop its timers share (render-pool.ts).
   */
  render(template: string, extra?: Record<string, unknown>, opts?: RenderFileOptions): Promise<string>;
  /** Aborted when the worker hard-stops; handlers kill what they started. */
  signal: AbortSignal;
  /**
   * Runs another job inside this run (chain, dag, foreach). Supplied by the worker. `spec`: the child's
   * spec already read (orchestrators read and check every child before the first runs); without it the
   * child is read here. Resolves with the child's result; a failed child rejects with a JobFailure.
   */
  runChild?(jobId: string, globals: Record<string, unknown>, spec?: JobSpec): Promise<JobResult>;
}

/** How a whole payload file is rendered (sqlc, sqlv): its name in error messages, HTML autoescape. */
export interface RenderFileOptions {
  name?: string;
  autoescape?: boolean;
}

/** The job spec a run sees: the checked item with the dispatch merged in, plus the run's own fields. */
export interface AugmentedJob extends JobSpec {
  realm: string;
  run_id: string;
  ts_dispatch: Date;
  ts_start: Date;
  ts_ustart: Date;
}

/** A handler failure: `message` becomes the result's `error`, `data` its `error_data`. */
export class JobFailure extends Error {
  override name = "JobFailure";
  constructor(
    message: string,
    readonly data: JobResult | null = null,
  ) {
    super(message);
  }
}

export interface JobType {
  readonly name: string;
  run(run: JobRun): Promise<JobResult>;
}
