/**
 * `foreach`: runs one job (the payload) once per value map of a generator (foreach-generators.ts), inside
 * this run. Each iteration's globals: the child's own, this job's over them, the generated values over
 * those, and `lava.foreach_index` counting from 0. The whole source (up to `limit` + 1 maps) is read
 * before the first iteration, so one that is too long fails with nothing run.
 */
import { JobFailure, type JobType } from "../core/job-contract.ts";
import { errorText } from "../core/error-text.ts";
import { checkParameters, isPlainObject, jinjaEnabled } from "./common.ts";
import { ChildError, intParameter, loadChildren, nestingLoop, pyTruthy } from "./orchestration.ts";
import { readForeachValues } from "./foreach-generators.ts";

const REQUIRED = ["foreach"] as const;
const OPTIONAL = ["can_fail", "limit", "jinja"] as const;

interface ForeachResult {
  exit_status: number;
  limit: number;
  foreach_len: number;
  jobs_completed: number;
  failed_indexes: number[];
  error?: string;
  [k: string]: unknown;
}

export const foreachJob: JobType = {
  name: "foreach",
  async run(run) {
    const parameters = checkParameters(run, REQUIRED, OPTIONAL);
    const childId = run.job.payload;
    if (typeof childId !== "string") throw new JobFailure("Bad payload: must be string");
    const limit = parameters.limit === undefined ? run.config.int("FOREACH_LIMIT") : intParameter("limit", parameters.limit);
    const maxLimit = run.config.int("FOREACH_MAX_LIMIT");
    if (limit > maxLimit) throw new JobFailure(`foreach limit of ${limit} exceeds realm limit of ${maxLimit}`);
    if (limit < 0) throw new JobFailure(`Bad limit: must not be negative, not ${limit}`);
    if (!run.runChild) throw new Error("foreach: this runner cannot run child jobs");

    let specs;
    try {
      specs = await loadChildren(run, [childId]);
    } catch (err) {
      if (!(err instanceof ChildError)) throw err;
      const error = `Job ${err.jobId}: ${err.reason}`;
      throw new JobFailure(error, err.kind === "spec" ? { exit_status: 1, error } : null);
    }
    const loop = await nestingLoop(run, specs);
    if (loop) throw new JobFailure(`Bad payload: the foreach would run itself: ${loop}`);

    const values = await readForeachValues(run, parameters.foreach, jinjaEnabled(parameters), limit + 1);
    if (values.length > limit) {
      const error = `foreach value list exceeds limit of ${limit}`;
      throw new JobFailure(error, { exit_status: 1, error });
    }

    const canFail = pyTruthy(parameters.can_fail);
    const result: ForeachResult = { exit_status: 0, limit, foreach_len: values.length, jobs_completed: 0, failed_indexes: [] };
    const spec = specs.get(childId)!;
    const parentLava = isPlainObject(run.job.globals.lava) ? run.job.globals.lava : {};
    for (const [index, v] of values.entries()) {
      // The generator's names never start with "lava" (checked as read), so `lava` is always ours.
      const globals = { ...run.job.globals, ...v, lava: { ...parentLava, foreach_index: index } };
      try {
        await run.runChild(childId, globals, spec);
        result.jobs_completed++;
      } catch (err) {
        result.failed_indexes.push(index);
        if (canFail) continue;
        result.exit_status = 1;
        result.error = `Job ${childId}: Index ${index}: ${errorText(err)}`;
        throw new JobFailure(result.error, result);
      }
    }
    return result;
  },
};
