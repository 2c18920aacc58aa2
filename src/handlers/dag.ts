/**
 * `dag`: runs jobs inside this run as their dependencies allow. The payload maps each job to its
 * predecessors (an id, a list, null or []); ids that only appear as predecessors run too, each job once.
 *
 * Differences from the original (docs/WORKER.md, "Orchestration"), all deliberate:
 * - a job starts as soon as its own predecessors are done, at most `workers` at a time; the original
 *   starts the ready jobs as one wave and waits for the whole wave before starting any successor;
 * - every node is read and checked (exists, same worker, no nesting loop) before the first one runs;
 * - a dag delivered again (its worker died) skips the nodes whose events item in this run already says
 *   `complete`, and carries on from there.
 */
import { JobFailure, type JobType } from "../core/job-contract.ts";
import { errorText } from "../core/error-text.ts";
import { realmTable } from "../core/names.ts";
import { checkParameters, isPlainObject } from "./common.ts";
import {
  canFailMatcher,
  ChildError,
  childrenResult,
  dagNodes,
  failChildren,
  intParameter,
  jobPrefix,
  loadChildren,
  nestingLoop,
  type DagNodes,
} from "./orchestration.ts";
import type { JobRun } from "../core/job-contract.ts";

const OPTIONAL = ["job_prefix", "workers", "can_fail"] as const;

export const dagJob: JobType = {
  name: "dag",
  async run(run) {
    if (!isPlainObject(run.job.payload)) throw new JobFailure("payload must be a map");
    const parameters = checkParameters(run, [], OPTIONAL);
    const fields = { event_type: "job", job_id: run.job.job_id, run_id: run.job.run_id };

    let workers = parameters.workers === undefined ? run.config.int("DAG_WORKERS") : intParameter("workers", parameters.workers);
    const maxWorkers = run.config.int("DAG_MAX_WORKERS");
    if (workers > maxWorkers) {
      run.log.warning(`Too many DAG workers (${workers}): limiting to ${maxWorkers}`, fields);
      workers = maxWorkers;
    }
    if (workers < 1) throw new JobFailure(`Bad workers: must be at least 1, not ${workers}`);

    const graph = dagNodes(run.job.payload, jobPrefix(parameters));
    const cycle = findCycle(graph);
    if (cycle) throw new JobFailure(`Jobs are in a cycle: ${cycle.join(", ")}`);
    const canFail = canFailMatcher(parameters.can_fail);
    if (!run.runChild) throw new Error("dag: this runner cannot run child jobs");
    const runChild = run.runChild;

    const result = childrenResult();
    let specs;
    try {
      specs = await loadChildren(run, graph.order);
    } catch (err) {
      if (!(err instanceof ChildError)) throw err;
      result.failed_jobs.push(err.jobId);
      throw failChildren(result, `Job ${err.jobId} failed: ${err.reason}`, `${err.jobId}: ${err.reason}`);
    }
    const loop = await nestingLoop(run, specs);
    if (loop) throw new JobFailure(`Bad payload: the dag would run itself: ${loop}`);
    const completed = await completedInThisRun(run, graph.order);

    // Successors and unfinished-predecessor counts: a node is ready when its count reaches 0.
    const successors = new Map<string, string[]>(graph.order.map((id) => [id, []]));
    const waiting = new Map<string, number>();
    for (const [id, preds] of graph.preds) {
      waiting.set(id, preds.length);
      for (const p of preds) successors.get(p)!.push(id);
    }
    const ready: string[] = graph.order.filter((id) => waiting.get(id) === 0);
    let next = 0;
    let announced = 0;
    const finish = (id: string) => {
      for (const s of successors.get(id)!) {
        const left = waiting.get(s)! - 1;
        waiting.set(s, left);
        if (left === 0) ready.push(s);
      }
    };

    let failure: JobFailure | undefined;
    let running = 0;
    await new Promise<void>((resolve) => {
      const pump = (): void => {
        if (announced < ready.length && !failure) {
          run.log.info(`Ready to run: ${ready.slice(announced).join(", ")}`, fields);
          announced = ready.length;
        }
        while (!failure && running < workers && next < ready.length) {
          if (run.signal.aborted) {
            failure = failChildren(result, "Stopped before every job ran (worker hard stop)");
            break;
          }
          const id = ready[next++]!;
          if (completed.has(id)) {
            run.log.info(`Job ${id} already complete in this run: not run again`, fields);
            result.jobs.push(id);
            finish(id);
            if (announced < ready.length) {
              run.log.info(`Ready to run: ${ready.slice(announced).join(", ")}`, fields);
              announced = ready.length;
            }
            continue;
          }
          running++;
          run.log.info(`Submitting child job ${id} to executor`, fields);
          runChild(id, run.job.globals, specs.get(id))
            .then(
              () => {
                run.log.info(`Job ${id} done`, fields);
                result.jobs.push(id);
                finish(id);
              },
              (err: unknown) => {
                result.failed_jobs.push(id);
                if (canFail(id)) finish(id);
                else failure ??= failChildren(result, `Job ${id}: ${errorText(err)}`);
              },
            )
            .finally(() => {
              running--;
              pump();
            });
        }
        if (running === 0) resolve();
      };
      pump();
    });
    // In-flight siblings finished before this: the failure's result lists them too.
    if (failure) throw failure;
    return result;
  },
};

/**
 * Nodes whose events item in this run (job_id = node, run_id = ours) says `complete`: this delivery of
 * the dag follows one that died part way, so they ran. One batched read for the whole graph.
 */
async function completedInThisRun(run: JobRun, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const items = await run.ports.tables.batchGet(
    realmTable(run.job.realm, "events"),
    ids.map((id) => ({ job_id: id, run_id: run.job.run_id })),
    { consistent: true },
  );
  return new Set(ids.filter((_, i) => items[i]?.status === "complete"));
}

/**
 * A cycle as Python's graphlib reports it (`TopologicalSorter.prepare`): depth-first along successors,
 * nodes in first-seen order, the first and last node of the list the same. Same walk, same cycle named.
 */
export function findCycle(graph: DagNodes): string[] | undefined {
  const successors = new Map<string, string[]>(graph.order.map((id) => [id, []]));
  for (const [id, preds] of graph.preds) for (const p of preds) successors.get(p)!.push(id);
  const seen = new Set<string>();
  const stack: string[] = [];
  const iters: Iterator<string>[] = [];
  const stackIndex = new Map<string, number>();
  for (let node of graph.order) {
    if (seen.has(node)) continue;
    for (;;) {
      if (seen.has(node)) {
        const at = stackIndex.get(node);
        if (at !== undefined) return [...stack.slice(at), node];
      } else {
        seen.add(node);
        iters.push(successors.get(node)![Symbol.iterator]());
        stackIndex.set(node, stack.length);
        stack.push(node);
      }
      let advanced = false;
      while (stack.length) {
        const step = iters[iters.length - 1]!.next();
        if (!step.done) {
          node = step.value;
          advanced = true;
          break;
        }
        stackIndex.delete(stack.pop()!);
        iters.pop();
      }
      if (!advanced) break;
    }
  }
  return undefined;
}
