/**
 * The golden captures of the original lava 8.2.0 (shared/golden, see its README.md), loaded and
 * decoded, plus the shape comparisons the parity tests use: ids and times differ run to run, so values
 * are compared by kind (key sets, JSON types, ISO formats) unless they are deterministic.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { GOLDEN_DIR as SHARED_GOLDEN } from "../support/shared.ts";

export const GOLDEN_DIR = process.env.LAVA_GOLDEN_DIR ?? SHARED_GOLDEN;
export const goldenPresent = (): boolean => existsSync(join(GOLDEN_DIR, "README.md"));

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonMap = { [k: string]: Json };

export function readGolden<T = Json>(rel: string): T {
  return JSON.parse(readFileSync(join(GOLDEN_DIR, rel), "utf8")) as T;
}

export function readGoldenLines(rel: string): JsonMap[] {
  return readFileSync(join(GOLDEN_DIR, rel), "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as JsonMap);
}

/** DynamoDB-typed JSON (`{"S": ...}`, `{"M": ...}`) to plain values; numbers become numbers. */
export function fromDynamo(value: JsonMap): Json {
  const [tag, v] = Object.entries(value)[0]!;
  switch (tag) {
    case "S":
      return v as string;
    case "N":
      return Number(v);
    case "BOOL":
      return v as boolean;
    case "NULL":
      return null;
    case "L":
      return (v as JsonMap[]).map(fromDynamo);
    case "M":
      return unmarshall(v as Record<string, JsonMap>);
    default:
      throw new Error(`unexpected DynamoDB type ${tag}`);
  }
}

export function unmarshall(item: Record<string, JsonMap>): JsonMap {
  return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, fromDynamo(v)]));
}

export interface RealmSetupGolden {
  realm_item_raw: Record<string, JsonMap>;
  jobs_raw: Record<string, JsonMap>[];
  connections_raw: Record<string, JsonMap>[];
  s3: { payload_objects: string[] };
  sqs_queue: { name: string; attributes: Record<string, string> };
}

export interface GoldenEvents {
  scenario: string;
  job_id: string;
  run_id: string;
  items: JsonMap[];
  items_raw: Record<string, JsonMap>[];
}

export interface GoldenS3Output {
  key: string;
  size: number;
  put_request_headers: Record<string, string>;
  content: string;
}

export interface GoldenDispatchMessage {
  scenario: string;
  body: string;
  parsed: JsonMap | null;
  send_message_request: { QueueUrl: string; MessageBody: string; DelaySeconds: number } | null;
}

export interface GoldenRequests {
  scenario: string;
  op_counts: Record<string, number>;
  requests: { op: string; body?: JsonMap }[];
}

export const golden = {
  realmSetup: () => readGolden<RealmSetupGolden>("realm-setup.json"),
  events: (scenario: string) => readGolden<GoldenEvents>(`events/${scenario}.json`),
  s3Outputs: () => readGolden<Record<string, GoldenS3Output[]>>("s3-outputs.json"),
  dispatchMessages: () => readGolden<{ messages: GoldenDispatchMessage[] }>("sqs-dispatch-messages.json").messages,
  dispatcherOutput: () => readGolden<{ scenario: string; argv: string[]; rc: number; output: string }[]>("dispatcher-output.json"),
  workerLog: (scenario: string) => readGoldenLines(`worker-log/${scenario}.jsonl`),
  heartbeat: () => readGolden<JsonMap[]>("heartbeat.json"),
  requests: (name: string) => readGolden<GoldenRequests>(`requests/${name}.json`),
};

// ---------------------------------------------------------------------------------------------- shapes

/** `2026-11-27T17:42:19+00:00`: Python's isoformat of an aware datetime, seconds precision. */
export const TS_EVENT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/;
/** `2026-11-27T17:42:19`: the naive UTC form used as the index range key. */
export const TU_EVENT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The JSON type of a value, as a shape token. */
export function kind(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (Array.isArray(v)) return "list";
  return typeof v === "object" ? "map" : typeof v;
}

/**
 * A value's shape: maps keep their keys (sorted) with the shapes of their values, lists the shapes of
 * their elements, scalars their kind. Strings that look like times or uuids are tokenised so run-specific
 * values compare equal.
 */
export function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, shape((v as Record<string, unknown>)[k])]),
    );
  }
  if (typeof v === "string") {
    if (TS_EVENT.test(v)) return "<ts +00:00>";
    if (TU_EVENT.test(v)) return "<tu>";
    if (UUID.test(v)) return "<uuid>";
    return "string";
  }
  return kind(v);
}

/** Replaces run-specific text (run ids) in strings so deterministic values compare equal. */
export function normaliseRun(v: unknown, runIds: string[]): unknown {
  if (typeof v === "string") return runIds.reduce((s, id) => s.split(id).join("<run>"), v);
  if (Array.isArray(v)) return v.map((x) => normaliseRun(x, runIds));
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normaliseRun(x, runIds)]));
  }
  return v;
}

/** A log entry of an events item without its times: status and info (with run ids normalised). */
export function logEntries(item: Record<string, unknown>, runIds: string[]): { status: unknown; info: unknown }[] {
  const log = (item.log as Record<string, unknown>[] | undefined) ?? [];
  return log.map((e) => ({ status: e.status, info: normaliseRun(e.info, runIds) }));
}

/** The JSON type of each DynamoDB attribute of a raw golden item (`S`, `N`, `NULL`, `L`, `M`, `BOOL`). */
export function dynamoTypes(raw: Record<string, JsonMap>): Record<string, string> {
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Object.keys(v)[0]!]));
}

/** The DynamoDB type our plain value would be stored as. */
export function dynamoTypeOf(v: unknown): string {
  switch (kind(v)) {
    case "string":
      return "S";
    case "number":
      return "N";
    case "boolean":
      return "BOOL";
    case "null":
      return "NULL";
    case "list":
      return "L";
    default:
      return "M";
  }
}

// ------------------------------------------------------------------------------------- events items

export const TWO_DAYS = 2 * 24 * 3600;

/** Epoch seconds of a `...+00:00` timestamp. */
export function epoch(ts: string): number {
  return Math.floor(Date.parse(ts) / 1000);
}

/**
 * How an events item differs from a golden one, as a list of findings (empty = same). Compares the
 * top-level key set, each attribute's DynamoDB type, the time formats, the ttl (≈ ts_event + 2 days),
 * and the shape and deterministic content (status, info; run ids normalised) of every `log` entry.
 */
export function eventItemFindings(ours: Record<string, unknown>, goldenRaw: Record<string, JsonMap>, goldenItem: JsonMap, runIds: { ours: string; golden: string }): string[] {
  const out: string[] = [];
  const gKeys = Object.keys(goldenRaw).sort();
  const oKeys = Object.keys(ours).sort();
  if (JSON.stringify(gKeys) !== JSON.stringify(oKeys)) out.push(`top-level keys: golden ${JSON.stringify(gKeys)}, ours ${JSON.stringify(oKeys)}`);
  const gTypes = dynamoTypes(goldenRaw);
  for (const k of gKeys) {
    if (!(k in ours)) continue;
    const t = dynamoTypeOf(ours[k]);
    if (t !== gTypes[k]) out.push(`${k}: golden type ${gTypes[k]}, ours ${t} (${JSON.stringify(ours[k])})`);
  }
  for (const k of ["ts_dispatch", "ts_event"]) if (typeof ours[k] !== "string" || !TS_EVENT.test(ours[k] as string)) out.push(`${k}: not YYYY-MM-DDTHH:MM:SS+00:00: ${JSON.stringify(ours[k])}`);
  if (typeof ours.tu_event !== "string" || !TU_EVENT.test(ours.tu_event)) out.push(`tu_event: not YYYY-MM-DDTHH:MM:SS: ${JSON.stringify(ours.tu_event)}`);
  else if (`${ours.tu_event}+00:00` !== ours.ts_event) out.push(`tu_event ${ours.tu_event} is not ts_event ${String(ours.ts_event)} without its zone (golden: it is)`);
  if (typeof ours.ttl === "number" && typeof ours.ts_event === "string" && Math.abs(ours.ttl - (epoch(ours.ts_event) + TWO_DAYS)) > 5) {
    out.push(`ttl ${ours.ttl} is not ts_event + 2 days (${epoch(ours.ts_event) + TWO_DAYS})`);
  }
  if (ours.job_id !== goldenItem.job_id) out.push(`job_id: golden ${String(goldenItem.job_id)}, ours ${String(ours.job_id)}`);
  if (ours.status !== goldenItem.status) out.push(`status: golden ${String(goldenItem.status)}, ours ${String(ours.status)}`);
  if (ours.worker !== goldenItem.worker) out.push(`worker: golden ${String(goldenItem.worker)}, ours ${String(ours.worker)}`);
  const gLog = logEntries(goldenItem, [runIds.golden]);
  const oLog = logEntries(ours, [runIds.ours]);
  if (JSON.stringify(gLog) !== JSON.stringify(oLog)) out.push(`log status/info: golden ${JSON.stringify(gLog)}, ours ${JSON.stringify(oLog)}`);
  const gShape = shape(goldenItem.log);
  const oShape = shape(ours.log);
  if (JSON.stringify(gShape) !== JSON.stringify(oShape)) out.push(`log entry shapes: golden ${JSON.stringify(gShape)}, ours ${JSON.stringify(oShape)}`);
  return out;
}

// ------------------------------------------------------------------------------------ worker logs

/** Run ids → `<run>`, ISO and log timestamps → `<ts>`, so golden and our log messages compare. */
export function normaliseMessage(message: string, runIds: string[]): string {
  let m = runIds.reduce((s, id) => s.split(id).join("<run>"), message);
  m = m.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00/g, "<ts>");
  return m;
}

/** `2026-11-27T17:42:19.564064+00:00` */
export const LOG_TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/;
/** `2026-11-27 17:42:19` */
export const LOG_LOCALTIME = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/;

/** A worker log record reduced to what must match golden: key order, level, event_type, message text. */
export function logLineSummary(rec: JsonMap, runIds: string[]): { keys: string[]; level: Json; event_type: Json; message: string } {
  return { keys: Object.keys(rec), level: rec.level ?? null, event_type: rec.event_type ?? null, message: normaliseMessage(String(rec.message), runIds) };
}
