/**
 * `lava events --pipeline`: one run and every run it started, as a tree, from the events table.
 *
 * The events items carry no globals (neither implementation writes `globals.lava.parent_job_id` there), so
 * children are found from what the items and the jobs table do hold:
 * - chain, dag and foreach children run under the parent's run id: their ids come from the parent job's
 *   payload (with `job_prefix`) and from the `jobs` / `failed_jobs` of its result, and each is one key
 *   lookup (job_id, run_id);
 * - a `dispatch` job's children have new run ids that nothing records. Its result lists the target job ids;
 *   each target's runs are read through the `job_id-tu_event-index` from the parent's start, and a run counts
 *   as a child when its `ts_dispatch` lies within the parent's run (whole seconds, so a run of the same job
 *   dispatched by someone else in that second is indistinguishable: such matches are marked). No scan.
 * Runs started by a `dispatch` action (on_success ...) are not found: nothing links them.
 */
import { realmTable } from "../core/names.ts";
import type { Item, Ports } from "../ports/index.ts";
import { queryEvents } from "./commands/events.ts";

export interface PipelineNode {
  job_id: string;
  run_id: string;
  status: string;
  type?: string;
  started?: string;
  ended?: string;
  seconds?: number;
  /** How it was found: the run asked for, a same-run child, or a dispatched run matched by time. */
  link: "top" | "child" | "dispatched";
  /** Several runs of the target were dispatched in the parent's window: this one may be someone else's. */
  ambiguous?: boolean;
  /** Targets named by the parent whose runs were not found (not run yet, delayed, expired). */
  missing?: string[];
  children: PipelineNode[];
}

const FINAL = new Set(["complete", "failed", "rejected", "skipped"]);
/** Guards against a job that (through renamed ids) appears to contain itself. */
const MAX_DEPTH = 20;

type LogEntry = { ts_event?: unknown; status?: unknown; info?: unknown };

function logOf(item: Item): LogEntry[] {
  return Array.isArray(item.log) ? (item.log as LogEntry[]) : [];
}

function asMap(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === "object" && !Array.isArray(v) && !(v instanceof Uint8Array) ? (v as Record<string, unknown>) : undefined;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

/** The handler's result as the last final event carries it: the success result, or a failure's error_data. */
function resultOf(item: Item): Record<string, unknown> {
  const last = [...logOf(item)].reverse().find((e) => FINAL.has(String(e.status)));
  const info = asMap(last?.info) ?? {};
  return asMap(info.error_data) ?? info;
}

function times(item: Item): { started?: string; ended?: string; seconds?: number } {
  const log = logOf(item);
  const start = log.find((e) => e.status === "starting") ?? log[0];
  const end = [...log].reverse().find((e) => FINAL.has(String(e.status)));
  const started = typeof start?.ts_event === "string" ? start.ts_event : undefined;
  const ended = typeof end?.ts_event === "string" ? end.ts_event : undefined;
  const seconds = started && ended ? (Date.parse(ended) - Date.parse(started)) / 1000 : undefined;
  return { started, ended, seconds };
}

/** Job ids a chain, dag or foreach spec runs under its own run id, in payload order. */
function specChildren(spec: Item | undefined): string[] {
  if (!spec) return [];
  const prefix = String(asMap(spec.parameters)?.job_prefix ?? "");
  const payload = spec.payload;
  switch (spec.type) {
    case "chain":
      return (typeof payload === "string" ? payload.split(",").map((s) => s.trim()) : strings(payload)).map((j) => prefix + j);
    case "dag": {
      const ids: string[] = [];
      for (const [node, preds] of Object.entries(asMap(payload) ?? {})) {
        ids.push(node, ...(typeof preds === "string" ? [preds] : strings(preds)));
      }
      return ids.map((j) => prefix + j);
    }
    case "foreach":
      return typeof payload === "string" ? [payload] : [];
    default:
      return [];
  }
}

async function eventItem(ports: Ports, realm: string, jobId: string, runId: string): Promise<Item | undefined> {
  return ports.tables.get(realmTable(realm, "events"), { job_id: jobId, run_id: runId }, { consistent: true });
}

async function jobItem(ports: Ports, realm: string, jobId: string, cache: Map<string, Item | undefined>): Promise<Item | undefined> {
  if (!cache.has(jobId)) cache.set(jobId, await ports.tables.get(realmTable(realm, "jobs"), { job_id: jobId }));
  return cache.get(jobId);
}

/** The tree under run (jobId, runId); undefined when that run has no events item. */
export async function pipelineTree(ports: Ports, realm: string, jobId: string, runId: string, now: Date = new Date()): Promise<PipelineNode | undefined> {
  const top = await eventItem(ports, realm, jobId, runId);
  if (!top) return undefined;
  const specs = new Map<string, Item | undefined>();
  const build = async (item: Item, link: PipelineNode["link"], depth: number): Promise<PipelineNode> => {
    const spec = await jobItem(ports, realm, String(item.job_id), specs);
    const node: PipelineNode = {
      job_id: String(item.job_id),
      run_id: String(item.run_id),
      status: String(item.status ?? ""),
      ...(typeof spec?.type === "string" ? { type: spec.type } : {}),
      ...times(item),
      link,
      children: [],
    };
    if (depth >= MAX_DEPTH) return node;
    const result = resultOf(item);
    if (spec?.type === "dispatch") {
      await addDispatched(node, strings(result.jobs), item, depth);
      return node;
    }
    const ids = [...new Set([...specChildren(spec), ...strings(result.jobs), ...strings(result.failed_jobs)])].filter((j) => j !== node.job_id);
    for (const id of ids) {
      const child = await eventItem(ports, realm, id, node.run_id);
      if (child) node.children.push(await build(child, "child", depth + 1));
    }
    return node;
  };

  const addDispatched = async (node: PipelineNode, targets: string[], item: Item, depth: number): Promise<void> => {
    const log = logOf(item);
    const from = Date.parse(String((log.find((e) => e.status === "running") ?? log[0])?.ts_event ?? ""));
    const to = Date.parse(node.ended ?? String(log.at(-1)?.ts_event ?? ""));
    if (Number.isNaN(from) || Number.isNaN(to)) return;
    // ts_dispatch is whole seconds: the window opens at the second the run started sending.
    const lo = Math.floor(from / 1000) * 1000;
    const hi = to + 1000;
    const sinceSeconds = Math.max(1, Math.ceil((now.getTime() - lo) / 1000) + 1);
    for (const target of [...new Set(targets)]) {
      if (target === node.job_id) continue;
      const runs = (await queryEvents(ports, { realm, jobId: target, sinceSeconds, now })).filter((r) => {
        const t = Date.parse(String(r.ts_dispatch ?? ""));
        return r.run_id !== node.run_id && t >= lo && t <= hi;
      });
      if (runs.length === 0) (node.missing ??= []).push(target);
      runs.sort((a, b) => String(a.ts_dispatch).localeCompare(String(b.ts_dispatch)));
      for (const run of runs) {
        const child = await build(run, "dispatched", depth + 1);
        if (runs.length > 1) child.ambiguous = true;
        node.children.push(child);
      }
    }
  };

  return build(top, "top", 0);
}

function duration(seconds: number | undefined): string {
  if (seconds === undefined) return "-";
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m}m${Math.round(seconds - m * 60)}s` : `${Math.floor(m / 60)}h${m % 60}m`;
}

/** The tree as text, one run a line: job id, run id, status, duration, and how a child was found. */
export function formatPipeline(root: PipelineNode): string {
  const lines: string[] = [];
  const line = (n: PipelineNode, lead: string, branch: string): void => {
    const notes = [n.type, n.link === "dispatched" ? (n.ambiguous ? "dispatched, matched by time: may be another dispatch's" : "dispatched") : undefined].filter(Boolean);
    lines.push(`${lead}${branch}${n.job_id}  ${n.run_id}  ${n.status}  ${duration(n.seconds)}${notes.length ? `  (${notes.join(", ")})` : ""}`);
    const childLead = lead + (branch === "" ? "" : branch.startsWith("└") ? "    " : "│   ");
    const missing = (n.missing ?? []).map((m) => `${m}  (dispatched; no run found)`);
    const total = n.children.length + missing.length;
    n.children.forEach((c, i) => line(c, childLead, i === total - 1 ? "└── " : "├── "));
    missing.forEach((m, i) => lines.push(`${childLead}${n.children.length + i === total - 1 ? "└── " : "├── "}${m}`));
  };
  line(root, "", "");
  return `${lines.join("\n")}\n`;
}
