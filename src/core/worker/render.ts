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

/**
 * Where a run's numbers came from. The original reads the jobs, realms and state tables through boto3,
 * so their numbers reach templates as `decimal.Decimal`; values that arrived as JSON (the dispatch
 * message, `json`/`secure` state) are int/float. Handlers always see plain JS numbers: only the
 * template view differs.
 */
export interface ValueOrigin {
  /** Top-level `parameters` keys whose values came from JSON (the dispatch message). */
  jsonParameters: ReadonlySet<string>;
  /** Top-level `globals` keys whose values came from JSON (the dispatch message, a parent's JSON globals). */
  jsonGlobals: ReadonlySet<string>;
  /** State ids whose current value came from a `json`/`secure` state item (the others are table values). */
  jsonState: ReadonlySet<string>;
}

/** Every value from the table: numbers are Decimals throughout. */
export const TABLE_ORIGIN: ValueOrigin = { jsonParameters: new Set(), jsonGlobals: new Set(), jsonState: new Set() };

/** JSON-ish data to template values; Dates become Python-like aware datetimes (UTC for `*ustart`). */
export function templateValue(value: unknown, key = ""): unknown {
  return convert(value, key, false);
}

/** Table data to template values: as templateValue, with every number a Decimal (as boto3 returns them). */
export function tableValue(value: unknown, key = ""): unknown {
  return convert(value, key, true);
}

function convert(value: unknown, key: string, decimals: boolean): unknown {
  if (value instanceof Date) return engine().pyDateTime(value, USTART_KEYS.has(key) ? "UTC" : LOCAL_TZ);
  if (Array.isArray(value)) return value.map((v) => convert(v, "", decimals));
  if (value !== null && typeof value === "object" && !(value instanceof Uint8Array)) {
    if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return value;
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, convert(v, k, decimals)]));
  }
  if (decimals && typeof value === "number" && Number.isFinite(value)) return engine().pyDecimal(value);
  return engine().fromJson(value);
}

/**
 * A map whose keys in `json` keep JSON numbers while the rest come from the table. Context maps are built
 * with Object.fromEntries: a key such as `__proto__` stays an ordinary key, never the map's prototype.
 */
function mixedMap(map: Record<string, unknown>, json: ReadonlySet<string>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, json.has(k) ? templateValue(v, k) : tableValue(v, k)]));
}

/** `globals`: `lava` is built by the worker (iteration, times), the rest as their origin says. */
function globalsView(globals: Record<string, unknown>, origin: ValueOrigin): Record<string, unknown> {
  const out = mixedMap(globals, origin.jsonGlobals);
  if ("lava" in globals) out.lava = templateValue(globals.lava, "lava");
  return out;
}

/** `state`: defaults are job-spec (table) values; loaded values are Decimals only from `raw` items. */
function stateView(state: Record<string, unknown>, origin: ValueOrigin): Record<string, unknown> {
  return mixedMap(state, origin.jsonState);
}

/**
 * The property loadState (src/core/state.ts) sets, not enumerable, on the map it returns: the ids whose
 * value came from a json/secure item.
 */
export const JSON_STATE_IDS: unique symbol = Symbol.for("lava.state.json_ids");

/** The json-typed ids loadState recorded on `state` (none when it was not loaded). */
export function jsonStateIds(state: Record<string, unknown>): ReadonlySet<string> {
  const ids = (state as { [JSON_STATE_IDS]?: unknown })[JSON_STATE_IDS];
  return ids instanceof Set ? (ids as ReadonlySet<string>) : new Set();
}

/** The augmented job as the original's templates see it. */
function jobView(job: AugmentedJob, origin: ValueOrigin, globals: Record<string, unknown>, state: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(job).map(([k, v]) => {
      if (k === "parameters") return [k, mixedMap(job.parameters, origin.jsonParameters)];
      if (k === "globals") return [k, globals];
      if (k === "state") return [k, state];
      return [k, tableValue(v, k)];
    }),
  );
}

export type ContextKind = "job" | "enabled" | "action";

/** Names shared by every run context: globals, job, realm, start, state, ustart, utils. */
function baseContext(job: AugmentedJob, realm: RealmInfo, origin: ValueOrigin): Record<string, unknown> {
  const globals = globalsView(job.globals, origin);
  const state = stateView(job.state, origin);
  return {
    globals,
    job: jobView(job, origin, globals, state),
    realm: tableValue(realm),
    start: engine().pyDateTime(job.ts_start, LOCAL_TZ),
    state,
    ustart: engine().pyDateTime(job.ts_ustart, "UTC"),
    utils: engine().makeUtils(),
  };
}

/** Job-parameter context: the base plus `vars` (= parameters.vars). */
export function jobContext(job: AugmentedJob, realm: RealmInfo, origin: ValueOrigin = TABLE_ORIGIN): Record<string, unknown> {
  const base = baseContext(job, realm, origin);
  const vars = (base.job as { parameters: Record<string, unknown> }).parameters.vars;
  return { ...base, vars: vars && typeof vars === "object" ? vars : {} };
}

/** `enabled` and `event_log` context. */
export function enabledContext(job: AugmentedJob, realm: RealmInfo, origin: ValueOrigin = TABLE_ORIGIN): Record<string, unknown> {
  return baseContext(job, realm, origin);
}

/** Action context: the base plus `result` (built by the handler: plain numbers). */
export function actionContext(job: AugmentedJob, realm: RealmInfo, result: Record<string, unknown>, origin: ValueOrigin = TABLE_ORIGIN): Record<string, unknown> {
  return { ...baseContext(job, realm, origin), result: templateValue(result) };
}

export function render(template: string, context: Record<string, unknown>, name?: string): string {
  return engine().renderTemplate(template, context, name ? { name } : undefined);
}

/** One render of a run's template, as data: a worker thread can rebuild the context from it. */
export interface RenderRequest {
  template: string;
  kind: ContextKind;
  job: AugmentedJob;
  realm: RealmInfo;
  origin: ValueOrigin;
  /** Action context only: the handler's result. */
  result?: Record<string, unknown>;
  /** Job context only: names a handler adds. */
  extra?: Record<string, unknown>;
  /** Template name in error messages. */
  name?: string;
}

/** Renders `req` on the calling thread (render-thread.ts calls this; so does the fallback of render-pool.ts). */
export function renderRequest(req: RenderRequest): string {
  const context =
    req.kind === "job"
      ? { ...jobContext(req.job, req.realm, req.origin), ...(req.extra ?? {}) }
      : req.kind === "action"
        ? actionContext(req.job, req.realm, req.result ?? {}, req.origin)
        : enabledContext(req.job, req.realm, req.origin);
  return render(req.template, context, req.name);
}

/** A template error that crossed from a render thread, rebuilt as the same class with the same text. */
export function rebuildTemplateError(cls: "TemplateError" | "TemplateSyntaxError" | "UndefinedError", detail: string, pos: { line: number; column: number; name?: string }, pyType: string): Error {
  const j = engine();
  if (cls === "UndefinedError") return new j.UndefinedError(detail, pos);
  if (cls === "TemplateSyntaxError") return new j.TemplateSyntaxError(detail, pos, pyType);
  return new j.TemplateError(detail, pos, pyType);
}
