/**
 * `lava-<realm>-s3trigger`: dispatches jobs when objects arrive in S3. For each S3 event record it finds
 * the triggers of `lava.<realm>.s3triggers` for the object (index `s3trigger-index`: the full key, then
 * each parent prefix, then `*`; the first level with any trigger wins), checks their `if_*` conditions,
 * renders `globals`, `parameters` and `job_id` with Jinja (vars bucket, key, event, info, utils) and
 * dispatches each enabled job to its worker. Errors are logged and counted; the invocation never fails.
 *
 * Each string of `globals` and `parameters` is rendered on its own (the original rendered their JSON text,
 * so a key holding `"` could add parameters), and rendered parameter strings are marked as data
 * (template-values.ts) so that the worker's own rendering gives back the key, not whatever template it holds.
 * See docs/SECURITY.md.
 */
import { LavaConfig } from "../core/config.ts";
import { dispatchJob } from "../core/dispatch.ts";
import { type JobSpec, loadJobSpec } from "../core/job-spec.ts";
import { realmTable } from "../core/names.ts";
import type { Item, Ports } from "../ports/index.ts";
import { renderDispatchParameters, renderEachString } from "../core/template-values.ts";
import {
  type S3EventRecord,
  type TriggerSpec,
  TtlCache,
  extractRecords,
  failedCondition,
  prefixWalk,
  validateTrigger,
} from "./s3trigger-records.ts";
import { type LambdaContext, type LambdaLog, errorMessage, lambdaLog, lambdaPorts, realmFromEnv } from "./shared.ts";

type Jinja = typeof import("../jinja/index.ts");

export interface S3TriggerSettings {
  realm: string;
  maxDelayMinutes: number;
  cacheTtlSeconds: number;
  dedupTtlSeconds: number;
  dedupCacheSize: number;
}

/** Caches live as long as the warm lambda instance, as in the original. */
export class S3TriggerState {
  readonly triggers: TtlCache<Item[]>;
  readonly jobs: TtlCache<JobSpec>;
  readonly seen: TtlCache<Date>;
  constructor(s: S3TriggerSettings) {
    this.triggers = new TtlCache(200, s.cacheTtlSeconds * 1000);
    this.jobs = new TtlCache(200, s.cacheTtlSeconds * 1000);
    this.seen = new TtlCache(s.dedupCacheSize, s.dedupTtlSeconds * 1000);
  }
}

async function triggersAt(ports: Ports, s: S3TriggerSettings, state: S3TriggerState, bucket: string, prefix: string): Promise<TriggerSpec[]> {
  const cacheKey = JSON.stringify([bucket, prefix]);
  let items = state.triggers.get(cacheKey);
  if (!items) {
    const page = await ports.tables.query(realmTable(s.realm, "s3triggers"), {
      index: "s3trigger-index",
      hash: { name: "bucket", value: bucket },
      range: { name: "prefix", op: "eq", value: prefix },
    });
    items = page.items;
    state.triggers.set(cacheKey, items);
  }
  return items.map((item) => validateTrigger(item, s.maxDelayMinutes));
}

async function findTriggers(ports: Ports, s: S3TriggerSettings, state: S3TriggerState, bucket: string, key: string): Promise<TriggerSpec[]> {
  for (const prefix of prefixWalk(key)) {
    const found = await triggersAt(ports, s, state, bucket, prefix);
    if (found.length) return found;
  }
  throw new Error(`No trigger entry for s3://${bucket}/${key}`);
}

/**
 * The event's values are data: `bucket`, `key`, `event` (the raw record) and `info` (its canonical extract)
 * all come from whoever wrote the object or sent the event. Only `utils` and the trigger's own templates are
 * ours (realm admins write the triggers table).
 */
function renderVars(jinja: Jinja, rec: S3EventRecord): Record<string, unknown> {
  return {
    bucket: rec.info.bucket,
    key: rec.info.key,
    event: jinja.fromJson(rec.raw),
    info: jinja.toTemplateValue({ ...rec.info }, "UTC"),
    utils: jinja.makeUtils(),
  };
}

async function job(ports: Ports, s: S3TriggerSettings, state: S3TriggerState, jobId: string): Promise<JobSpec> {
  const cached = state.jobs.get(jobId);
  if (cached) return cached;
  const spec = await loadJobSpec(ports, s.realm, jobId);
  state.jobs.set(jobId, spec);
  return spec;
}

/** Dispatches the jobs of one trigger; returns the number of errors. */
async function fireTrigger(
  ports: Ports,
  s: S3TriggerSettings,
  state: S3TriggerState,
  jinja: Jinja,
  t: TriggerSpec,
  rec: S3EventRecord,
  log: LambdaLog,
  runIds: string[],
): Promise<number> {
  const where = `${t.trigger_id}: s3://${rec.info.bucket}/${rec.info.key}`;
  const jobIds = typeof t.job_id === "string" ? [t.job_id] : t.job_id;
  if (!Array.isArray(jobIds) || !jobIds.every((j) => typeof j === "string")) {
    log.error(`${t.trigger_id}: job_id must be string or list of strings`);
    return 1;
  }
  const vars = renderVars(jinja, rec);
  const render = (template: string): string => jinja.renderTemplate(template, vars);
  let globals = t.globals;
  let parameters = t.parameters;
  try {
    // Globals reach the job's templates as values ({{ globals.key }}), never as template text: no marking.
    if (globals && t.jinja) globals = await renderEachString(globals, render);
  } catch (err) {
    log.error(`${where}: Cannot render globals: ${errorMessage(err)}`);
    return 1;
  }
  try {
    if (parameters && t.jinja) parameters = await renderDispatchParameters(parameters, render);
  } catch (err) {
    log.error(`${where}: Cannot render parameters: ${errorMessage(err)}`);
    return 1;
  }
  let errors = 0;
  for (const template of jobIds as string[]) {
    try {
      const jobId = t.jinja ? jinja.renderTemplate(template, vars) : template;
      const spec = await job(ports, s, state, jobId);
      if (!spec.enabled) {
        log.warning(`${t.trigger_id}: Job ${jobId} is not enabled`);
        continue;
      }
      const runId = await dispatchJob(ports, {
        realm: s.realm,
        jobId,
        worker: spec.worker,
        parameters: parameters as Record<string, unknown> | undefined,
        globals: globals as Record<string, unknown> | undefined,
        delaySeconds: t.delaySeconds,
      });
      runIds.push(runId);
      log.info(`${t.trigger_id}: Dispatched ${jobId} with run_id ${runId}`, { job_id: jobId, run_id: runId, realm: s.realm });
    } catch (err) {
      errors++;
      log.error(`${where}: ${template}: ${errorMessage(err)}`);
    }
  }
  return errors;
}

export async function handleS3Event(
  event: unknown,
  opts: { ports: Ports; settings: S3TriggerSettings; state: S3TriggerState; log: LambdaLog; requestId: string },
): Promise<{ runIds: string[]; errors: number }> {
  const { ports, settings: s, state, log } = opts;
  const jinja = await import("../jinja/index.ts");
  const runIds: string[] = [];
  let errors = 0;
  let records: S3EventRecord[];
  try {
    records = extractRecords(event);
  } catch (err) {
    log.error(errorMessage(err));
    return { runIds, errors: 1 };
  }
  for (const rec of records) {
    const { bucket, key, event_type, size } = rec.info;
    const dedupKey = JSON.stringify([bucket, key, event_type, size]);
    const previous = state.seen.get(dedupKey);
    if (previous) {
      log.warning(`s3://${bucket}/${key}: Duplicate event discarded (original ts=${previous.toISOString()})`);
      continue;
    }
    state.seen.set(dedupKey, rec.info.event_time);
    let triggers: TriggerSpec[];
    try {
      triggers = await findTriggers(ports, s, state, bucket, key);
    } catch (err) {
      errors++;
      log.error(`s3://${bucket}/${key}: ${errorMessage(err)}`);
      continue;
    }
    for (const t of triggers) {
      if (!t.enabled) {
        log.warning(`${t.trigger_id}: s3://${bucket}/${key}: s3trigger not enabled`);
        continue;
      }
      try {
        const failed = failedCondition(t, rec.info);
        if (failed) {
          log.info(`${t.trigger_id}: s3://${bucket}/${key} doesn't satisfy ${failed}`);
          continue;
        }
      } catch (err) {
        errors++;
        log.error(`${t.trigger_id}: Event condition(s) failed: ${errorMessage(err)}`);
        continue;
      }
      errors += await fireTrigger(ports, s, state, jinja, t, rec, log, runIds);
    }
  }
  if (errors) log.error(`Event ${opts.requestId}: Completed with ${errors} errors`);
  else log.info(`Event ${opts.requestId}: Completed`);
  return { runIds, errors };
}

let state: S3TriggerState | undefined;

export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): S3TriggerSettings {
  const config = new LavaConfig(undefined, env);
  return {
    realm: realmFromEnv(env),
    maxDelayMinutes: config.int("SQS_MAX_DELAY_MINS"),
    cacheTtlSeconds: config.seconds("S3TRIGGER_CACHE_TTL"),
    dedupTtlSeconds: config.seconds("S3TRIGGER_DEDUP_TTL"),
    dedupCacheSize: config.int("S3TRIGGER_DEDUP_CACHE_SIZE"),
  };
}

export async function handler(event: unknown, context: LambdaContext): Promise<{ runIds: string[]; errors: number }> {
  const settings = settingsFromEnv();
  state ??= new S3TriggerState(settings);
  return handleS3Event(event, { ports: await lambdaPorts(), settings, state, log: lambdaLog("s3trigger"), requestId: context.awsRequestId });
}
