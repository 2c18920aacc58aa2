/**
 * What the job types that run other jobs inside their own run (chain, dag, foreach) share: reading every
 * child before the first one runs, the worker check, refusing a job that would run itself through nested
 * orchestrators, `can_fail` globs and the parts of their payloads that name children.
 */
import { fnmatchRegExp } from "../core/fnmatch.ts";
import { parseInteger } from "../core/config.ts";
import { JobSpecError, jobSpecFromItem, readJobItems, type JobSpec } from "../core/job-spec.ts";
import { JobFailure, type JobRun } from "../core/job-contract.ts";
import { isPlainObject } from "./common.ts";

/** `{exit_status, jobs, failed_jobs, error?}`: the result of chain and dag, in the original's key order. */
export interface ChildrenResult {
  exit_status: number;
  jobs: string[];
  failed_jobs: string[];
  error?: string;
  [k: string]: unknown;
}

export function childrenResult(): ChildrenResult {
  return { exit_status: 0, jobs: [], failed_jobs: [] };
}

/** A chain/dag failure: the result so far becomes `error_data`, its `error` the failure's text. */
export function failChildren(result: ChildrenResult, error: string, message = error): JobFailure {
  result.exit_status = 1;
  result.error = error;
  return new JobFailure(message, result);
}

/** `can_fail`: one glob or a list of globs, matched case-sensitively against child ids. */
export function canFailMatcher(value: unknown): (jobId: string) => boolean {
  if (value === undefined || value === null) return () => false;
  const globs = typeof value === "string" ? [value] : value;
  if (!Array.isArray(globs) || globs.some((g) => typeof g !== "string")) {
    throw new JobFailure(`Bad can_fail: must be a glob or a list of globs, not ${JSON.stringify(value)}`);
  }
  const res = (globs as string[]).map(fnmatchRegExp);
  return (jobId) => res.some((re) => re.test(jobId));
}

/** An integer parameter as Python's int() takes it: a number (truncated) or integer text. */
export function intParameter(name: string, value: unknown): number {
  if (typeof value === "number" && Number.isFinite(value)) return Math.trunc(value);
  if (typeof value === "string") {
    try {
      return parseInteger(value);
    } catch {
      // worded below
    }
  }
  throw new JobFailure(`Bad ${name}: must be an integer, not ${JSON.stringify(value)}`);
}

/** `job_prefix`: a string (absent = none). */
export function jobPrefix(parameters: Record<string, unknown>): string {
  const prefix = parameters.job_prefix ?? "";
  if (typeof prefix !== "string") throw new JobFailure(`Bad job_prefix: must be a string, not ${JSON.stringify(prefix)}`);
  return prefix;
}

/** A chain or dispatch payload: a comma-separated string (items trimmed) or a list of job ids. */
export function jobIdList(payload: unknown): string[] {
  if (typeof payload === "string") return payload.split(",").map((s) => s.trim());
  if (Array.isArray(payload)) {
    const bad = payload.find((j) => typeof j !== "string");
    if (bad !== undefined) throw new JobFailure(`Bad payload: job ids must be strings, not ${JSON.stringify(bad)}`);
    return payload as string[];
  }
  throw new JobFailure("Bad payload: must be string or list");
}

/** A child that cannot run: unknown, malformed, or on another worker. `reason` is the original's text. */
export class ChildError extends Error {
  override name = "ChildError";
  constructor(
    readonly jobId: string,
    readonly reason: string,
    readonly kind: "spec" | "worker",
  ) {
    super(`${jobId}: ${reason}`);
  }
}

/**
 * Reads the specs of `ids` (in as few reads as the backend allows) and checks that each runs on this
 * job's worker. Throws ChildError for the first one (in `ids` order) that cannot run.
 */
export async function loadChildren(run: JobRun, ids: readonly string[]): Promise<Map<string, JobSpec>> {
  const unique = [...new Set(ids)];
  const items = await readJobItems(run.ports, run.job.realm, unique);
  const specs = new Map<string, JobSpec>();
  unique.forEach((id, i) => {
    let spec: JobSpec;
    try {
      spec = jobSpecFromItem(items[i], run.job.realm, id, run.log);
    } catch (err) {
      if (err instanceof JobSpecError) throw new ChildError(id, err.reason, "spec");
      throw err;
    }
    if (spec.worker !== run.job.worker) {
      throw new ChildError(id, `Worker mismatch: Expected ${run.job.worker} but got ${spec.worker}`, "worker");
    }
    specs.set(id, spec);
  });
  return specs;
}

/**
 * The ids of the jobs a spec runs inside its own run, as its type reads its payload; none for other types
 * or a payload its type would refuse (that job then fails on its own when it runs).
 */
export function childIdsOf(spec: JobSpec): string[] {
  const parameters = isPlainObject(spec.parameters) ? spec.parameters : {};
  const prefix = typeof parameters.job_prefix === "string" ? parameters.job_prefix : "";
  try {
    switch (spec.type) {
      case "chain": {
        const ids = jobIdList(spec.payload).map((id) => prefix + id);
        const start = typeof parameters.start === "string" ? ids.indexOf(prefix + parameters.start) : -1;
        return start > 0 ? ids.slice(start) : ids;
      }
      case "dag":
        return isPlainObject(spec.payload) ? dagNodes(spec.payload, prefix).order : [];
      case "foreach":
        return typeof spec.payload === "string" ? [spec.payload] : [];
      default:
        return [];
    }
  } catch (err) {
    if (err instanceof JobFailure) return [];
    throw err;
  }
}

/**
 * Refuses a job that would run itself: through its own payload, or through chains, dags and foreach jobs
 * it runs (the original recurses until Python's stack gives out). Reads every orchestrator reachable from
 * `children` once, a level at a time. Returns the loop as `a -> b -> a`, or undefined.
 */
export async function nestingLoop(run: JobRun, children: Map<string, JobSpec>): Promise<string | undefined> {
  const self = run.job.job_id;
  const edges = new Map<string, string[]>([[self, [...children.keys()]]]);
  let frontier: JobSpec[] = [...children.values()];
  while (frontier.length) {
    const next = new Set<string>();
    for (const spec of frontier) {
      if (edges.has(spec.job_id)) continue;
      const ids = childIdsOf(spec);
      edges.set(spec.job_id, ids);
      for (const id of ids) if (!edges.has(id)) next.add(id);
    }
    const ids = [...next];
    const items = ids.length ? await readJobItems(run.ports, run.job.realm, ids) : [];
    frontier = [];
    ids.forEach((id, i) => {
      try {
        frontier.push(jobSpecFromItem(items[i], run.job.realm, id));
      } catch (err) {
        if (!(err instanceof JobSpecError)) throw err;
        edges.set(id, []); // it fails when its parent reaches it; it runs nothing
      }
    });
  }
  // Depth-first from this job, colouring nodes: one still on the path closes a loop.
  const onPath = new Map<string, number>();
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (id: string): string | undefined => {
    const at = onPath.get(id);
    if (at !== undefined) return [...path.slice(at), id].join(" -> ");
    if (done.has(id)) return undefined;
    onPath.set(id, path.length);
    path.push(id);
    for (const child of edges.get(id) ?? []) {
      const loop = visit(child);
      if (loop) return loop;
    }
    path.pop();
    onPath.delete(id);
    done.add(id);
    return undefined;
  };
  return visit(self);
}

/** A dag payload normalised: predecessors per node (prefixed), every node (keys and predecessors) in first-seen order. */
export interface DagNodes {
  preds: Map<string, string[]>;
  order: string[];
}

export function dagNodes(payload: Record<string, unknown>, prefix: string): DagNodes {
  const preds = new Map<string, string[]>();
  const order: string[] = [];
  const see = (id: string) => {
    if (!preds.has(id)) {
      preds.set(id, []);
      order.push(id);
    }
  };
  for (const [key, dep] of Object.entries(payload)) {
    const node = prefix + key;
    // As the original's `[] if not dep else ([dep] if isinstance(dep, str) else [d for d in dep])`: any
    // falsy value (null, "", [], {}, 0, false) is no predecessors, and a map's keys are its predecessors.
    let list: unknown[];
    if (!pyTruthy(dep)) list = [];
    else if (typeof dep === "string") list = [dep];
    else if (Array.isArray(dep)) list = dep;
    else if (isPlainObject(dep)) list = Object.keys(dep);
    else throw new JobFailure(`Bad payload: predecessors of ${node} must be a job id, a list of job ids or null, not ${JSON.stringify(dep)}`);
    const bad = list.find((d) => typeof d !== "string");
    if (bad !== undefined) throw new JobFailure(`Bad payload: predecessors of ${node} must be job ids, not ${JSON.stringify(bad)}`);
    see(node);
    const mine = preds.get(node)!;
    for (const d of list as string[]) {
      const p = prefix + d;
      see(p);
      if (!mine.includes(p)) mine.push(p);
    }
  }
  return { preds, order };
}

/** Python truthiness, as the original tests flags such as foreach `can_fail` (absent = false). */
export function pyTruthy(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "object" && !(v instanceof Date)) return Object.keys(v).length > 0;
  return Boolean(v);
}
