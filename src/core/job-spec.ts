/**
 * Reading a job (and a realm) from its table, validated as the original validates them, into typed values.
 */
import type { Item, Ports } from "../ports/index.ts";
import { REALMS_TABLE, realmTable } from "./names.ts";
import type { Logger } from "./log.ts";

export const JOB_REQUIRED_FIELDS = ["job_id", "type", "worker", "payload"] as const;
export const JOB_OPTIONAL_FIELDS = new Set([
  "cw_metrics",
  "description",
  "dispatcher",
  "enabled",
  "event_log",
  "globals",
  "iteration_delay",
  "iteration_limit",
  "max_run_delay",
  "max_tries",
  "on_fail",
  "on_retry",
  "on_success",
  "owner",
  "parameters",
  "schedule",
  "state",
]);
export const REALM_REQUIRED_FIELDS = ["realm", "s3_payloads", "s3_temp"] as const;

/** A job cannot be used: unknown, malformed, or using a reserved global. `reason` is the original's text. */
export class JobSpecError extends Error {
  override name = "JobSpecError";
  constructor(
    readonly reason: string,
    readonly realm: string,
    readonly jobId: string,
  ) {
    super(reason);
  }
}

export class RealmError extends Error {
  override name = "RealmError";
  constructor(
    readonly reason: string,
    readonly realm: string,
  ) {
    super(reason);
  }
}

/** The jobs-table item after validation and defaults (enabled=false, max_tries=0, empty maps, owner/description ""). */
export interface JobSpec {
  job_id: string;
  type: string;
  worker: string;
  payload: unknown;
  owner: string;
  description: string;
  enabled: boolean | string;
  max_tries: number;
  parameters: Record<string, unknown>;
  globals: Record<string, unknown>;
  state: Record<string, unknown>;
  [field: string]: unknown;
}

function isIgnored(key: string): boolean {
  return key.startsWith("x-") || key.startsWith("X-");
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** Validates a raw jobs-table item. Deprecation warnings (unknown keys, missing owner/description) go to `log`. */
export function validateJobItem(item: Item, realm: string, jobId: string, log?: Logger): JobSpec {
  const missing = JOB_REQUIRED_FIELDS.filter((k) => !(k in item)).sort();
  if (missing.length) throw new JobSpecError(`Bad job record: Missing keys: ${missing.join(", ")}`, realm, jobId);
  const fields = { event_type: "job", job_id: jobId };
  const unexpected = Object.keys(item)
    .filter((k) => !isIgnored(k) && !JOB_OPTIONAL_FIELDS.has(k) && !(JOB_REQUIRED_FIELDS as readonly string[]).includes(k))
    .sort();
  if (unexpected.length) log?.warning(`${jobId}: Job spec deprecation warning: Unexpected keys: ${unexpected.join(", ")}`, fields);
  const spec: Record<string, unknown> = { ...item };
  for (const name of ["owner", "description"] as const) {
    if (!spec[name]) {
      spec[name] = "";
      log?.warning(`${jobId}: Job spec deprecation warning: ${name} field will be mandatory in a future release`, fields);
    }
  }
  if (typeof spec.job_id !== "string" || typeof spec.type !== "string" || typeof spec.worker !== "string")
    throw new JobSpecError("Bad job record: job_id, type and worker must be strings", realm, jobId);
  if (!("enabled" in spec)) spec.enabled = false;
  if (typeof spec.enabled !== "boolean" && typeof spec.enabled !== "string")
    throw new JobSpecError("Bad job record: enabled must be a boolean or a string", realm, jobId);
  if (!("max_tries" in spec)) spec.max_tries = 0;
  if (typeof spec.max_tries !== "number" || !Number.isFinite(spec.max_tries))
    throw new JobSpecError("Bad job record: max_tries must be a number", realm, jobId);
  for (const name of ["parameters", "globals", "state"] as const) {
    if (!spec[name]) spec[name] = {};
    if (!isMap(spec[name])) throw new JobSpecError(`Bad job record: ${name} must be a map`, realm, jobId);
  }
  for (const g of Object.keys(spec.globals as Record<string, unknown>)) {
    if (g.toLowerCase().startsWith("lava")) throw new JobSpecError(`Reserved global: ${g}`, realm, jobId);
  }
  return spec as JobSpec;
}

/** GetItem + validation. Throws JobSpecError("No such job") when absent. */
export async function loadJobSpec(ports: Ports, realm: string, jobId: string, log?: Logger): Promise<JobSpec> {
  const item = await ports.tables.get(realmTable(realm, "jobs"), { job_id: jobId });
  if (!item) throw new JobSpecError("No such job", realm, jobId);
  return validateJobItem(item, realm, jobId, log);
}

/** The realms-table item, checked for its required fields. */
export async function loadRealmItem(ports: Ports, realm: string): Promise<Item> {
  const item = await ports.tables.get(REALMS_TABLE, { realm });
  if (!item) throw new RealmError("No such realm", realm);
  const missing = REALM_REQUIRED_FIELDS.filter((k) => !(k in item)).sort();
  if (missing.length) throw new RealmError(`Bad realm record: Missing keys: ${missing.join(", ")}`, realm);
  for (const k of REALM_REQUIRED_FIELDS) {
    if (typeof item[k] !== "string") throw new RealmError(`Bad realm record: ${k} must be a string`, realm);
  }
  return item;
}
