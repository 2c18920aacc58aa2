/**
 * `dispatch`: sends a dispatch message for each job id of the payload (a comma-separated string or a list),
 * in order, each to its own worker's queue, with this run's globals (`lava.parent_*` naming this job) and the
 * rendered `parameters.parameters`. It does not wait for the runs. The first failure stops it; the result
 * `{exit_status, jobs, error?}` lists the ids attempted, as the original's does.
 *
 * Parameters are rendered one string at a time (core/template-values.ts) rather than by the original's JSON
 * dump-render-parse, so a rendered value can never add fields or break the structure; for values without
 * quotes or template syntax in their rendered text the messages are the same.
 */
import { parseDuration } from "../core/config.ts";
import { childDispatchGlobals, dispatchJob } from "../core/dispatch.ts";
import { errorText } from "../core/error-text.ts";
import { JobFailure, type JobResult, type JobType } from "../core/job-contract.ts";
import { renderDispatchParameters } from "../core/template-values.ts";
import { checkParameters, isPlainObject, jinjaEnabled } from "./common.ts";

const OPTIONAL = ["parameters", "delay", "jinja", "job_prefix"] as const;

/** Python truthiness of a parsed JSON value: the original sends `parameters` only when truthy. */
function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (isPlainObject(v)) return Object.keys(v).length > 0;
  return Boolean(v);
}

/** `str()` of a value, for error messages that quote it as the original would. */
function shown(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

export const dispatchJobType: JobType = {
  name: "dispatch",
  async run(run) {
    const parameters = checkParameters(run, [], OPTIONAL);

    let params = parameters.parameters;
    if (truthy(params) && jinjaEnabled(parameters)) {
      try {
        params = await renderDispatchParameters(params, (t) => run.render(t));
      } catch (e) {
        throw new JobFailure(`Cannot render parameters - ${errorText(e)}`);
      }
    }

    const maxMinutes = run.config.int("SQS_MAX_DELAY_MINS");
    const rawDelay = parameters.delay ?? 0;
    let delay: number;
    try {
      delay = Math.trunc(parseDuration(rawDelay as string | number));
    } catch (e) {
      throw new JobFailure(`Bad delay: ${shown(rawDelay)}: ${errorText(e)}`);
    }
    // Worded as the original: the value shown is the delay in seconds once it parsed.
    if (!(delay >= 0 && delay <= maxMinutes * 60)) throw new JobFailure(`Bad delay: ${delay}: must be between 0 and ${maxMinutes} minutes`);

    const payload = run.job.payload;
    let targets: string[];
    if (typeof payload === "string") targets = payload.split(",").map((j) => j.trim());
    else if (Array.isArray(payload)) {
      const bad = payload.find((j) => typeof j !== "string");
      // The original would pass a non-string id on to a table lookup that fails obscurely; name it instead.
      if (bad !== undefined) throw new JobFailure(`Payload must be comma separated list or real list of job IDs: bad job ID ${shown(bad)}`);
      targets = payload as string[];
    } else {
      throw new JobFailure(`Payload must be comma separated list or real list of job IDs: got ${shown(payload)}`);
    }
    const prefix = parameters.job_prefix;
    if (prefix) targets = targets.map((j) => `${String(prefix)}${j}`);

    const globals = childDispatchGlobals(run.job);
    const result: JobResult & { exit_status: number; jobs: string[] } = { exit_status: 0, jobs: [] };
    const fail = (error: string): never => {
      result.exit_status = 1;
      result.error = error;
      throw new JobFailure(error, result);
    };
    for (const target of targets) {
      result.jobs.push(target);
      if (target === run.job.job_id) fail(`${target}: Circular dispatch not permitted`);
      if (truthy(params) && !isPlainObject(params)) fail(`${target}: parameters must be a dict`);
      try {
        const runId = await dispatchJob(run.ports, {
          realm: run.job.realm,
          jobId: target,
          parameters: truthy(params) ? (params as Record<string, unknown>) : undefined,
          globals,
          delaySeconds: delay,
        });
        run.log.debug(`Dispatched ${target} (${runId})`, { event_type: "job", job_id: run.job.job_id, run_id: run.job.run_id });
      } catch (e) {
        fail(`${target}: ${errorText(e)}`);
      }
    }
    return result;
  },
};
