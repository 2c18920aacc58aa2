/**
 * Template contexts of a run (jobs.md §5.2), built from the augmented job. The jinja engine owns the value
 * model; this file only decides which names a template sees.
 */
type Jinja = typeof import("../../jinja/index.ts");

let jinja: Jinja | undefined;
let loading: Promise<Jinja> | undefined;

/** Loads the template engine once, on the first run that may need it (an idle worker never does). */
export async function loadJinja(): Promise<void> {
  loading ??= import("../../jinja/index.ts");
  jinja = await loading;
}

function engine(): Jinja {
  if (!jinja) throw new Error("template engine not loaded");
  return jinja;
}
import type { AugmentedJob, RealmInfo } from "../../handlers/types.ts";

/** The host's IANA zone: `start` and the job's datetimes are local, as in the original. */
export const LOCAL_TZ: string = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

const USTART_KEYS = new Set(["ts_ustart", "master_ustart", "parent_ustart"]);

/** JSON-ish data to template values; Dates become Python-like aware datetimes (UTC for `*ustart`). */
export function templateValue(value: unknown, key = ""): unknown {
  if (value instanceof Date) return engine().pyDateTime(value, USTART_KEYS.has(key) ? "UTC" : LOCAL_TZ);
  if (Array.isArray(value)) return value.map((v) => templateValue(v));
  if (value !== null && typeof value === "object" && !(value instanceof Uint8Array)) {
    if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = templateValue(v, k);
    return out;
  }
  return engine().fromJson(value);
}

export type ContextKind = "job" | "enabled" | "action";

/** Names shared by every run context: globals, job, realm, start, state, ustart, utils. */
function baseContext(job: AugmentedJob, realm: RealmInfo): Record<string, unknown> {
  return {
    globals: templateValue(job.globals),
    job: templateValue(job),
    realm: templateValue(realm),
    start: engine().pyDateTime(job.ts_start, LOCAL_TZ),
    state: templateValue(job.state),
    ustart: engine().pyDateTime(job.ts_ustart, "UTC"),
    utils: engine().makeUtils(),
  };
}

/** Job-parameter context: the base plus `vars` (= parameters.vars). */
export function jobContext(job: AugmentedJob, realm: RealmInfo): Record<string, unknown> {
  const vars = job.parameters.vars;
  return { ...baseContext(job, realm), vars: templateValue(vars && typeof vars === "object" ? vars : {}) };
}

/** `enabled` and `event_log` context. */
export function enabledContext(job: AugmentedJob, realm: RealmInfo): Record<string, unknown> {
  return baseContext(job, realm);
}

/** Action context: the base plus `result`. */
export function actionContext(job: AugmentedJob, realm: RealmInfo, result: Record<string, unknown>): Record<string, unknown> {
  return { ...baseContext(job, realm), result: templateValue(result) };
}

export function render(template: string, context: Record<string, unknown>, name?: string): string {
  return engine().renderTemplate(template, context, name ? { name } : undefined);
}
