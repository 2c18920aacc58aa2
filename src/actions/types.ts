/**
 * The contract for a post-run action (`on_success`, `on_fail`, `on_retry`). One file per action kind,
 * listed once in `src/actions/registry.ts`.
 */
import type { JobRun, JobResult } from "../core/job-contract.ts";

export interface ActionRun {
  /** The action item as the job (or realm) gives it; `action` names the kind. */
  spec: Record<string, unknown>;
  run: JobRun;
  /** Success: the handler's result; retry/fail: `{error, error_data, exception?}`. */
  result: JobResult;
  /** Renders in the action context: globals, job, realm, result, start, state, ustart, utils. */
  render(template: string): Promise<string>;
}

export interface ActionKind {
  readonly name: string;
  run(action: ActionRun): Promise<void>;
}
