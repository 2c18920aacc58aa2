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
import type { AugmentedJob, RealmInfo } from "../job-contract.ts";
import { realmEntry } from "../items.ts";
import { setOwn } from "../own-property.ts";

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
  /**
   * `ts_dispatch` as the dispatch message wrote it, so the template value keeps the sender's offset (part
   * of the origin, not of the job: a render request crosses to a worker thread by structured clone).
   */
  dispatchText?: string;
}

/** Every value from the table: numbers are Decimals throughout. */
export const TABLE_ORIGIN: ValueOrigin = { jsonParameters: new Set(), jsonGlobals: new Set(), jsonState: new Set() };

/**
 * One template datetime per JS Date and zone within a context: the original's job spec holds one
 * `ts_start` object that is also `start` and `globals.lava.master_start`, and one `ts_ustart` that is
 * also `globals.lava.*_ustart`, so `is sameas` and id-based comparisons hold between them.
 */
type DateMemo = Map<Date, Map<string, unknown>>;

/**
 * A Date as a template datetime: `*ustart` keys in dateutil's tzutc() (the original's `astimezone(UTC)`),
 * the others in the host's zone, as in the original. The zone's name is asked for here, not at module
 * load: Intl's answer initialises ICU's time zone (~18 ms), which a worker that renders nothing never needs.
 */
function dateValue(date: Date, key: string, memo: DateMemo): unknown {
  const tz = USTART_KEYS.has(key) ? "tzutc" : engine().localZoneName();
  let byZone = memo.get(date);
  if (!byZone) memo.set(date, (byZone = new Map()));
  let value = byZone.get(tz);
  if (value === undefined) byZone.set(tz, (value = engine().pyDateTime(date, tz)));
  return value;
}

/** JSON-ish data to template values; Dates become Python-like aware datetimes (tzutc() for `*ustart`). */
export function templateValue(value: unknown, key = "", memo: DateMemo = new Map()): unknown {
  return convert(value, key, false, memo);
}

/** Table data to template values: as templateValue, with every number a Decimal (as boto3 returns them). */
export function tableValue(value: unknown, key = "", memo: DateMemo = new Map()): unknown {
  return convert(value, key, true, memo);
}

function convert(value: unknown, key: string, decimals: boolean, memo: DateMemo): unknown {
  if (value instanceof Date) return dateValue(value, key, memo);
  if (Array.isArray(value)) return value.map((v) => convert(v, "", decimals, memo));
  if (value !== null && typeof value === "object" && !(value instanceof Uint8Array)) {
    if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) setOwn(out, k, convert(v, k, decimals, memo));
    return out;
  }
  if (decimals && typeof value === "number" && Number.isFinite(value)) return engine().pyDecimal(value);
  return engine().fromJson(value);
}

/**
 * A map whose keys in `json` keep JSON numbers while the rest come from the table. Context maps are written
 * with own-property writes (setOwn): a key such as `__proto__` stays an ordinary key, never the map's prototype.
 */
function mixedMap(map: Record<string, unknown>, json: ReadonlySet<string>, memo: DateMemo): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(map)) setOwn(out, k, json.has(k) ? templateValue(v, k, memo) : tableValue(v, k, memo));
  return out;
}

/** `globals`: `lava` is built by the worker (iteration, times), the rest as their origin says. */
function globalsView(globals: Record<string, unknown>, origin: ValueOrigin, memo: DateMemo): Record<string, unknown> {
  const out = mixedMap(globals, origin.jsonGlobals, memo);
  if ("lava" in globals) out.lava = templateValue(globals.lava, "lava", memo);
  return out;
}

/** `state`: defaults are job-spec (table) values; loaded values are Decimals only from `raw` items. */
function stateView(state: Record<string, unknown>, origin: ValueOrigin, memo: DateMemo): Record<string, unknown> {
  return mixedMap(state, origin.jsonState, memo);
}

/**
 * `job.ts_dispatch` as the original's worker reads it, with dateutil.parser.parse: a non-zero offset
 * becomes a nameless fixed offset (`tzoffset(None, 39600)`), zero offset tzutc().
 */
function dispatchValue(job: AugmentedJob, origin: ValueOrigin, memo: DateMemo): unknown {
  const text = origin.dispatchText;
  return typeof text === "string" ? engine().dateutilParse(text) : tableValue(job.ts_dispatch, "ts_dispatch", memo);
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
function jobView(job: AugmentedJob, origin: ValueOrigin, globals: Record<string, unknown>, state: Record<string, unknown>, memo: DateMemo): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(job)) {
    if (k === "parameters") setOwn(out, k, mixedMap(job.parameters, origin.jsonParameters, memo));
    else if (k === "globals") setOwn(out, k, globals);
    else if (k === "state") setOwn(out, k, state);
    else if (k === "ts_dispatch") setOwn(out, k, dispatchValue(job, origin, memo));
    else setOwn(out, k, tableValue(v, k, memo));
  }
  return out;
}

export type ContextKind = "job" | "enabled" | "action";

/** Names shared by every run context: globals, job, realm, start, state, ustart, utils. */
function baseContext(job: AugmentedJob, realm: RealmInfo, origin: ValueOrigin): Record<string, unknown> {
  const memo: DateMemo = new Map();
  const globals = globalsView(job.globals, origin, memo);
  const state = stateView(job.state, origin, memo);
  return {
    globals,
    job: jobView(job, origin, globals, state, memo),
    realm: tableValue(realmEntry(realm)),
    start: dateValue(job.ts_start, "ts_start", memo),
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

export function render(template: string, context: Record<string, unknown>, name?: string, autoescape?: boolean): string {
  return engine().renderTemplate(template, context, name || autoescape ? { name, autoescape } : undefined);
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
  /** HTML-escape output (sqlc/sqlv files named .html, .htm, .xml). */
  autoescape?: boolean;
}

/** Renders `req` on the calling thread (render-thread.ts calls this; so does the fallback of render-pool.ts). */
export function renderRequest(req: RenderRequest): string {
  const context =
    req.kind === "job"
      ? { ...jobContext(req.job, req.realm, req.origin), ...(req.extra ?? {}) }
      : req.kind === "action"
        ? actionContext(req.job, req.realm, req.result ?? {}, req.origin)
        : enabledContext(req.job, req.realm, req.origin);
  return render(req.template, context, req.name, req.autoescape);
}

/** A template error that crossed from a render thread, rebuilt as the same class with the same text. */
export function rebuildTemplateError(cls: "TemplateError" | "TemplateSyntaxError" | "UndefinedError", detail: string, pos: { line: number; column: number; name?: string }, pyType: string): Error {
  const j = engine();
  if (cls === "UndefinedError") return new j.UndefinedError(detail, pos);
  if (cls === "TemplateSyntaxError") return new j.TemplateSyntaxError(detail, pos, pyType);
  return new j.TemplateError(detail, pos, pyType);
}

