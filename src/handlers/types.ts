/**
 * The contract between the worker's run loop and a job type. A job type is one file exporting one
 * `JobType`, listed once in `src/handlers/registry.ts`.
 */
import type { Ports } from "../ports/index.ts";
import type { LavaConfig } from "../core/config.ts";
import type { Logger } from "../core/log.ts";

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
  render(template: string, extra?: Record<string, unknown>): Promise<string>;
  /** Aborted when the worker hard-stops; handlers kill what they started. */
  signal: AbortSignal;
  /** Runs another job inside this run (chain, dag, foreach). Supplied by the worker. */
  runChild?(jobId: string, globals: Record<string, unknown>): Promise<JobResult>;
}

export interface RealmInfo {
  realm: string;
  s3_payloads: string;
  s3_temp: string;
  s3_key?: string;
  config?: Record<string, unknown>;
  on_success?: Record<string, unknown>[];
  on_fail?: Record<string, unknown>[];
  on_retry?: Record<string, unknown>[];
  [field: string]: unknown;
}

export interface AugmentedJob {
  job_id: string;
  type: string;
  worker: string;
  payload: unknown;
  owner: string;
  description: string;
  parameters: Record<string, unknown>;
  globals: Record<string, unknown>;
  state: Record<string, unknown>;
  realm: string;
  run_id: string;
  ts_dispatch: Date;
  ts_start: Date;
  ts_ustart: Date;
  [field: string]: unknown;
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
