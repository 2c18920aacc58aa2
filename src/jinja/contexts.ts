/**
 * Builders for lava's rendering contexts (which variables each kind of template sees), from plain
 * inputs. Plain objects become Python dicts; JS Dates become aware datetimes: under keys ending in
 * `ustart` in dateutil's tzutc() (`job.ts_ustart`, `globals.lava.master_ustart`), elsewhere in the
 * run's zone (the original's tzlocal()). The top-level `ustart` is in datetime.timezone.utc.
 */
import { pyDateTime } from "./datetime.ts";
import { makeUtils } from "./utils.ts";
import { PyObject, isPlainObject } from "./values.ts";

export interface RunInputs {
  /** The augmented job spec (jobs row + realm, run_id, state, parameters, globals...). */
  job: Record<string, unknown>;
  /** The realm row. */
  realm: Record<string, unknown>;
  /** Job start; rendered as `start` (in `tz`, whole seconds) and `ustart` (UTC). */
  start: Date;
  /** IANA zone of the worker (the original uses the host's local zone). */
  tz: string;
  /** Defaults to job.globals. */
  globals?: Record<string, unknown>;
  /** Defaults to job.state. */
  state?: Record<string, unknown>;
}

export type Context = Map<string, unknown>;

/** Deep-converts plain data into template values (dicts as Maps, Dates as aware datetimes). */
export function toTemplateValue(value: unknown, tz: string, key = ""): unknown {
  if (value instanceof Date) return pyDateTime(value, /ustart$/.test(key) ? "tzutc" : tz);
  if (Array.isArray(value)) return value.map((v) => toTemplateValue(v, tz));
  if (value instanceof PyObject) return value;
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [k, toTemplateValue(v, tz, String(k))]));
  if (isPlainObject(value)) return new Map(Object.entries(value).map(([k, v]) => [k, toTemplateValue(v, tz, k)]));
  return value === undefined ? null : value;
}

function wholeSeconds(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

/** globals, job, realm, start, state, ustart, utils: the `enabled` / `event_log` context. */
export function enabledContext(inp: RunInputs): Context {
  const start = wholeSeconds(inp.start);
  const job = toTemplateValue(inp.job, inp.tz) as Map<string, unknown>;
  return new Map<string, unknown>([
    ["globals", inp.globals !== undefined ? toTemplateValue(inp.globals, inp.tz) : (job.get("globals") ?? new Map())],
    ["job", job],
    ["realm", toTemplateValue(inp.realm, inp.tz)],
    ["start", pyDateTime(start, inp.tz)],
    ["state", inp.state !== undefined ? toTemplateValue(inp.state, inp.tz) : (job.get("state") ?? new Map())],
    ["ustart", pyDateTime(start, "UTC")],
    ["utils", makeUtils()],
  ]);
}

export const eventLogContext = enabledContext;

/** Dispatch job `parameters` and foreach generator fields: the base context without `vars`. */
export function dispatchParamsContext(inp: RunInputs, extra: Record<string, unknown> = {}): Context {
  const ctx = enabledContext(inp);
  for (const [k, v] of Object.entries(extra)) ctx.set(k, toTemplateValue(v, inp.tz, k));
  return ctx;
}

/**
 * Job parameters of rendering job types: the base context plus `vars` (= parameters.vars, which
 * must be a map) and extras such as `schema`/`relation` (redshift_unload) or `bucket`/`key`.
 */
export function jobParamsContext(inp: RunInputs, extra: Record<string, unknown> = {}): Context {
  const ctx = dispatchParamsContext(inp, extra);
  const params = inp.job.parameters;
  const vars = isPlainObject(params) ? params.vars : undefined;
  if (vars !== undefined && vars !== null && !isPlainObject(vars) && !(vars instanceof Map)) {
    throw new TypeError("parameters.vars must be a map");
  }
  ctx.set("vars", toTemplateValue(vars ?? {}, inp.tz));
  return ctx;
}

/** Actions: the base context plus `result` (handler result, or {error, error_data, exception}). */
export function actionContext(inp: RunInputs, result: unknown): Context {
  const ctx = enabledContext(inp);
  ctx.set("result", toTemplateValue(result, inp.tz));
  return ctx;
}

/** CONN_APP_NAME: realm (the realm name string), job_id, conn_id. */
export function connAppNameContext(realm: string, jobId: string, connId: string): Context {
  return new Map<string, unknown>([
    ["realm", realm],
    ["job_id", jobId],
    ["conn_id", connId],
  ]);
}

/** `lava-state get` templates: the value as both `state` and `s`. */
export function stateGetContext(value: unknown, tz = "UTC"): Context {
  const v = toTemplateValue(value, tz);
  return new Map<string, unknown>([
    ["state", v],
    ["s", v],
  ]);
}

export interface S3TriggerInputs {
  bucket: string;
  key: string;
  /** The raw S3 event record. */
  event: Record<string, unknown>;
  info: { aws_region: string; bucket: string; event_time: Date; event_type: string; key: string; size: number; source_ip: string };
}

/** s3trigger dispatch parameters/globals: bucket, key, event, info, utils. */
export function s3triggerContext(inp: S3TriggerInputs, tz = "UTC"): Context {
  return new Map<string, unknown>([
    ["bucket", inp.bucket],
    ["key", inp.key],
    ["event", toTemplateValue(inp.event, tz)],
    ["info", toTemplateValue({ ...inp.info, event_time: inp.info.event_time }, "UTC")],
    ["utils", makeUtils()],
  ]);
}
