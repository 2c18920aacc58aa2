/**
 * `lava events` / `lava-events`: read a job's run records from the realm's events table.
 * With a run id, that one record; otherwise the runs whose last event is within `--since`, found
 * through the `job_id-tu_event-index` LSI (tu_event is naive UTC text, so text order is time order).
 * `--pipeline` (ours, not the original's): a run and the runs it started, as a tree (src/cli/pipeline.ts).
 */
import { defineCommand } from "./index.ts";
import { stringify } from "yaml";
import { parseDuration } from "../../core/config.ts";
import { LavaError, UsageError } from "../../core/errors.ts";
import { realmTable } from "../../core/names.ts";
import { allPages, type Item, type Ports, type QueryInput } from "../../ports/index.ts";
import { backendArgs, loggerFrom, loggingArgs, realmFrom, str, withPorts } from "../common.ts";

const FORMATS = ["text", "json", "pygments", "pprint"] as const;
type Format = (typeof FORMATS)[number];

export interface EventsQuery {
  realm: string;
  jobId: string;
  runId?: string;
  sinceSeconds: number;
  status?: string;
  now?: Date;
}

/** `YYYY-MM-DDTHH:MM:SS` in UTC, the form tu_event is stored in. */
export function naiveUtc(date: Date): string {
  return date.toISOString().slice(0, 19);
}

/** The matching run records, newest first (by tu_event) unless a run id was given. */
export async function queryEvents(ports: Ports, q: EventsQuery): Promise<Item[]> {
  const table = realmTable(q.realm, "events");
  const input: QueryInput = q.runId
    ? { hash: { name: "job_id", value: q.jobId }, range: { name: "run_id", op: "eq", value: q.runId } }
    : {
        index: "job_id-tu_event-index",
        hash: { name: "job_id", value: q.jobId },
        range: { name: "tu_event", op: "ge", value: naiveUtc(new Date((q.now ?? new Date()).getTime() - q.sinceSeconds * 1000)) },
        forward: false,
        filter: q.status ? [{ attribute: "status", op: "eq", value: q.status }] : undefined,
      };
  const items: Item[] = [];
  for await (const item of allPages((startKey) => ports.tables.query(table, { ...input, startKey }))) items.push(item);
  return items;
}

/** The `limit` newest records (all when limit <= 0), printed oldest first as the original does. */
export function selectForPrinting(newestFirst: Item[], limit: number | undefined): Item[] {
  const n = limit === undefined || limit <= 0 ? newestFirst.length : limit;
  return newestFirst.slice(0, n).reverse();
}

export function formatRecord(item: Item, format: Format): string {
  if (format === "json") return `${JSON.stringify(item, plainBinary, 2)}\n`;
  return `---\n${stringify(JSON.parse(JSON.stringify(item, plainBinary)), { lineWidth: 0 })}`;
}

function plainBinary(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? Buffer.from(value).toString("base64") : value;
}

function formatFrom(value: unknown): Format {
  const f = str(value) ?? "text";
  if (!(FORMATS as readonly string[]).includes(f)) throw new UsageError(`argument -f/--format: invalid choice: '${f}' (choose from ${FORMATS.join(", ")})`);
  return f as Format;
}

function eventsLimit(value: unknown): number | undefined {
  const text = str(value);
  if (text === undefined) return undefined;
  if (!/^[+-]?\d+$/.test(text.trim())) throw new UsageError(`argument -e/--events: invalid int value: '${text}'`);
  return Number.parseInt(text, 10);
}

function sinceSeconds(value: unknown): number {
  const text = str(value) ?? "1d";
  try {
    return parseDuration(text);
  } catch {
    throw new UsageError(`argument -s/--since: invalid duration: '${text}'`);
  }
}

export default defineCommand({
  meta: { description: "Print a job's run records from the realm's events table (oldest first)" },
  args: {
    "job-id": { type: "positional", description: "Job id whose runs to print", valueHint: "job-id" },
    "run-id": { type: "positional", required: false, description: "Only this run (then --since, --status and --events are ignored)", valueHint: "run-id" },
    realm: { type: "string", alias: "r", valueHint: "REALM", description: "Lava realm (default $LAVA_REALM)" },
    since: { type: "string", alias: "s", valueHint: "DURATION", description: "Only runs with an event within this long before now, e.g. 30m, 2h, 1d (default 1d)" },
    status: { type: "string", valueHint: "STATUS", description: "Only runs whose current status is STATUS" },
    events: { type: "string", alias: "e", valueHint: "N", description: "Only the N most recent runs" },
    pipeline: { type: "boolean", description: "With a run id: that run and every run it started (chain/dag/foreach children, dispatched runs) as a tree with statuses and durations" },
    format: { type: "string", alias: "f", valueHint: "FORMAT", description: "Output format: text (default) or json (pygments and pprint print as text)" },
    ...backendArgs,
    ...loggingArgs,
  },
  async run({ args }) {
    const realm = realmFrom(args);
    const jobId = str(args._[0]);
    if (!jobId) throw new UsageError("the following arguments are required: job-id");
    const runId = str(args._[1]);
    const format = formatFrom(args.format);
    const limit = eventsLimit(args.events);
    const since = sinceSeconds(args.since);
    const log = loggerFrom(args, { program: "lava-events", realm });
    log.debug(`Events table is ${realmTable(realm, "events")}`);
    if (args.pipeline) {
      if (!runId) throw new UsageError("--pipeline needs a run-id");
      const { formatPipeline, pipelineTree } = await import("../pipeline.ts");
      const tree = await withPorts(args, (ports) => pipelineTree(ports, realm, jobId, runId), { realm, readOnly: true });
      if (!tree) throw new LavaError(`${jobId} (${runId}): no such run in ${realmTable(realm, "events")}`);
      process.stdout.write(format === "json" ? `${JSON.stringify(tree, null, 2)}\n` : formatPipeline(tree));
      return 0;
    }
    const items = await withPorts(args, (ports) => queryEvents(ports, { realm, jobId, runId, sinceSeconds: since, status: str(args.status) }), { realm, readOnly: true });
    const chosen = runId ? items : selectForPrinting(items, limit);
    for (const item of chosen) process.stdout.write(formatRecord(item, format));
    return 0;
  },
});
