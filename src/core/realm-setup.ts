/**
 * Creating a realm's resources through the ports: the realms table (if absent), the five realm
 * tables with the keys, indexes and TTL of platform.md §1 (matching golden/realm-setup.json), a
 * worker queue per worker, the realm bucket, and the realm entry. Every step is idempotent: what
 * exists is left as it is, so `realm create` can be re-run to add a worker.
 */
import type { Ports, TableSpec } from "../ports/index.ts";
import { ConditionFailedError } from "../ports/index.ts";
import { REALMS_TABLE, realmTable, workerQueueName } from "./names.ts";
import { checkRealmName } from "./items.ts";
import type { Logger } from "./log.ts";

export const REALMS_TABLE_SPEC: TableSpec = { name: REALMS_TABLE, hash: "realm" };

export function realmTableSpecs(realm: string): TableSpec[] {
  return [
    {
      name: realmTable(realm, "jobs"),
      hash: "job_id",
      indexes: [{ name: "dispatcher-index", kind: "global", hash: "dispatcher", range: "job_id", include: ["worker", "schedule"] }],
    },
    { name: realmTable(realm, "connections"), hash: "conn_id" },
    {
      name: realmTable(realm, "s3triggers"),
      hash: "trigger_id",
      indexes: [{ name: "s3trigger-index", kind: "global", hash: "bucket", range: "prefix" }],
    },
    {
      name: realmTable(realm, "events"),
      hash: "job_id",
      range: "run_id",
      indexes: [{ name: "job_id-tu_event-index", kind: "local", hash: "job_id", range: "tu_event" }],
      ttlAttribute: "ttl",
    },
    { name: realmTable(realm, "state"), hash: "state_id", ttlAttribute: "ttl" },
  ];
}

export interface RealmSetup {
  realm: string;
  workers: string[];
  /** Default `lava-<realm>` with `_` replaced by `-` (bucket names allow no `_`). */
  bucket?: string;
  /** KMS key for SSE-KMS on S3 writes, stored as the realm's `s3_key`; default DEFAULT_S3_KEY. */
  s3Key?: string;
}

/**
 * The realm's `s3_key` when none is given: the account's AWS-managed S3 key, which every account has.
 * The original's worker needs an `s3_key` (its cmd/exe/pkg jobs fail without one, since it exports
 * LAVA_S3_KEY), so a realm we create must always carry one for Python workers to share it.
 */
export const DEFAULT_S3_KEY = "alias/aws/s3";

export class RealmSetupError extends Error {
  override name = "RealmSetupError";
}

const WORKER_NAME = /^[A-Za-z0-9_-]+$/;

export function defaultBucket(realm: string): string {
  return `lava-${realm.toLowerCase().replaceAll("_", "-")}`;
}

export interface RealmSetupResult {
  created: string[];
  existing: string[];
}

export async function createRealm(ports: Ports, setup: RealmSetup, log: Logger): Promise<RealmSetupResult> {
  const bad = checkRealmName(setup.realm);
  if (bad) throw new RealmSetupError(bad);
  for (const w of setup.workers) {
    if (!WORKER_NAME.test(w)) throw new RealmSetupError(`worker name "${w}" may only contain letters, digits, _ and -`);
  }
  const result: RealmSetupResult = { created: [], existing: [] };
  const note = (what: string, created: boolean): void => {
    (created ? result.created : result.existing).push(what);
    log.info(created ? `created ${what}` : `${what} exists; left as it is`);
  };

  for (const spec of [REALMS_TABLE_SPEC, ...realmTableSpecs(setup.realm)]) {
    const exists = await ports.tables.tableExists(spec.name);
    if (!exists) await ports.tables.createTable(spec);
    note(`table ${spec.name}`, !exists);
  }
  for (const w of setup.workers) {
    const name = workerQueueName(setup.realm, w);
    const exists = await ports.queues.exists(name);
    if (!exists) await ports.queues.create(name, { visibilityTimeoutSeconds: 3600, retentionSeconds: 86400 });
    note(`queue ${name}`, !exists);
  }
  const bucket = setup.bucket ?? defaultBucket(setup.realm);
  await ports.objects.createBucket(bucket);
  log.info(`bucket ${bucket} ready`);

  const entry = {
    realm: setup.realm,
    s3_payloads: `s3://${bucket}/payloads`,
    s3_temp: `s3://${bucket}/tmp`,
    s3_key: setup.s3Key || DEFAULT_S3_KEY,
  };
  try {
    await ports.tables.put(REALMS_TABLE, entry, { condition: { kind: "notExists" } });
    note(`realm entry ${setup.realm}`, true);
  } catch (e) {
    if (!(e instanceof ConditionFailedError)) throw e;
    note(`realm entry ${setup.realm}`, false);
  }
  return result;
}
