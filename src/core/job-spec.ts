/**
 * Reading a job (and a realm) from its table for the worker and dispatcher. The checks themselves live
 * in items.ts, shared with `lava put`; here they run as the original's worker runs them (not strict) and
 * their failures carry the original's wording.
 */
import type { Item, Ports } from "../ports/index.ts";
import { REALMS_TABLE, realmTable } from "./names.ts";
import type { Logger } from "./log.ts";
import { ItemError, jobWarnings, parseJobItem, parseRealmItem, type JobSpec, type RealmInfo } from "./items.ts";

export type { JobSpec } from "./items.ts";

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

/** The realms table has no entry for the realm. */
export class NoSuchRealmError extends RealmError {
  override name = "NoSuchRealmError";
  constructor(realm: string) {
    super("No such realm", realm);
  }
}

/** GetItem + checks. Throws JobSpecError("No such job") when absent; deprecation warnings go to `log`. */
export async function loadJobSpec(ports: Ports, realm: string, jobId: string, log?: Logger): Promise<JobSpec> {
  return jobSpecFromItem(await ports.tables.get(realmTable(realm, "jobs"), { job_id: jobId }), realm, jobId, log);
}

/** The jobs-table items of `jobIds` (in order, undefined when absent) in as few reads as the backend allows. */
export async function readJobItems(ports: Ports, realm: string, jobIds: string[]): Promise<(Item | undefined)[]> {
  return ports.tables.batchGet(realmTable(realm, "jobs"), jobIds.map((jobId) => ({ job_id: jobId })));
}

/** loadJobSpec's checks on an item already read (undefined = no such job). */
export function jobSpecFromItem(item: Item | undefined, realm: string, jobId: string, log?: Logger): JobSpec {
  if (!item) throw new JobSpecError("No such job", realm, jobId);
  let spec: JobSpec;
  try {
    spec = parseJobItem(item, { strict: false });
  } catch (err) {
    if (err instanceof ItemError) throw new JobSpecError(err.recordText, realm, jobId);
    throw err;
  }
  for (const w of jobWarnings(item)) {
    log?.warning(`${jobId}: Job spec deprecation warning: ${w}`, { event_type: "job", job_id: jobId });
  }
  return spec;
}

/** The realms-table entry, checked for the fields the worker needs. */
export async function loadRealmItem(ports: Ports, realm: string): Promise<RealmInfo> {
  const item = await ports.tables.get(REALMS_TABLE, { realm });
  if (!item) throw new NoSuchRealmError(realm);
  try {
    return parseRealmItem(item, { strict: false });
  } catch (err) {
    if (err instanceof ItemError) throw new RealmError(err.recordText, realm);
    throw err;
  }
}
