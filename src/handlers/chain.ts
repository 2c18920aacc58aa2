/**
 * `chain`: runs a list of jobs one after another inside this run (same run_id and run directory), each
 * through the whole run lifecycle with its own events. A child's failure ends the chain unless its id
 * matches a `can_fail` glob.
 *
 * Every child is read and checked (exists, parses, same worker, does not lead back to this job) before
 * the first one runs; the original reads each just before running it, so a bad third child fails its
 * chain after the first two ran (docs/WORKER.md, "Orchestration").
 */
import { JobFailure, type JobType } from "../core/job-contract.ts";
import { errorText } from "../core/error-text.ts";
import { checkParameters } from "./common.ts";
import {
  canFailMatcher,
  ChildError,
  childrenResult,
  failChildren,
  jobIdList,
  jobPrefix,
  loadChildren,
  nestingLoop,
  pyTruthy,
} from "./orchestration.ts";

const OPTIONAL = ["job_prefix", "start", "can_fail"] as const;

export const chainJob: JobType = {
  name: "chain",
  async run(run) {
    const parameters = checkParameters(run, [], OPTIONAL);
    let ids = jobIdList(run.job.payload);
    // The original would look up "" (a trailing comma): a job id nobody can create.
    if (ids.every((id) => id === "")) ids = [];
    else if (ids.includes("")) throw new JobFailure(`Bad payload: empty job id in ${JSON.stringify(run.job.payload)}`);
    const prefix = jobPrefix(parameters);
    if (prefix) ids = ids.map((id) => prefix + id);
    const startParam = parameters.start;
    // `if start_job := parameters.get('start')`: any falsy start (0, false, "", []) means the first job.
    if (pyTruthy(startParam)) {
      const start = prefix + String(startParam);
      const at = ids.indexOf(start);
      if (at < 0) throw new JobFailure(`Requested start job ${start} is not present in the chain`);
      ids = ids.slice(at);
    }
    if (ids.length === 0) throw new JobFailure("Job chain is empty");
    const canFail = canFailMatcher(parameters.can_fail);
    if (!run.runChild) throw new Error("chain: this runner cannot run child jobs");

    const result = childrenResult();
    let specs;
    try {
      specs = await loadChildren(run, ids);
    } catch (err) {
      if (!(err instanceof ChildError)) throw err;
      result.failed_jobs.push(err.jobId);
      if (err.kind === "worker") throw failChildren(result, `Job ${err.jobId}: ${err.reason}`);
      throw failChildren(result, `Job ${err.jobId} failed: ${err.reason}`, `${err.jobId}: ${err.reason}`);
    }
    const loop = await nestingLoop(run, specs);
    if (loop) throw new JobFailure(`Bad payload: the chain would run itself: ${loop}`);

    for (const id of ids) {
      try {
        await run.runChild(id, run.job.globals, specs.get(id));
        result.jobs.push(id);
      } catch (err) {
        result.failed_jobs.push(id);
        if (canFail(id)) continue;
        throw failChildren(result, `Job ${id}: ${errorText(err)}`);
      }
    }
    return result;
  },
};
