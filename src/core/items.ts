/**
 * Validation of the items an administrator stores: realm entries, jobs, connections and s3triggers
 * (platform.md §1.1–1.5). Each parser takes an untyped item (from YAML, JSON or a table) and returns a
 * typed value, or throws an ItemError naming the item and the field at fault.
 *
 * Keys starting `x-`/`X-` are ignored everywhere, as in the original.
 */
import type { AttributeValue, Item } from "../ports/index.ts";
import { REALMS_TABLE, realmTable } from "./names.ts";
import { CONFIG_VARS, LavaConfig, parseBool, parseDuration, parseInteger, parseSize } from "./config.ts";

export type ItemKind = "realm" | "job" | "connection" | "s3trigger";
export const ITEM_KINDS: readonly ItemKind[] = ["realm", "job", "connection", "s3trigger"];

/**
 * A stored item is wrong. `field` is a dotted path (`schedule.0.crontab`, `config.CMD_TIMEOUT`).
 * `recordText` is the same problem worded as the worker and dispatcher report it, which for the
 * problems the original detects is the original's text (`Bad job record: Missing keys: payload`).
 */
export class ItemError extends Error {
  override name = "ItemError";
  readonly recordText: string;
  constructor(
    readonly kind: ItemKind,
    readonly id: string | undefined,
    readonly field: string,
    readonly reason: string,
    recordText?: string,
  ) {
    super(`${kind}${id ? ` ${id}` : ""}: field ${field}: ${reason}`);
    this.recordText = recordText ?? `Bad ${kind} record: ${field} ${reason}`;
  }
}

/** Several problems of one item (`lava put` reports them all); reads as the first one elsewhere. */
export class ItemProblems extends ItemError {
  override name = "ItemProblems";
  constructor(readonly problems: readonly ItemError[]) {
    const first = problems[0]!;
    super(first.kind, first.id, first.field, first.reason, first.recordText);
  }
}

/** The problems of `checks`, each run on its own so one failure does not hide the next. */
function collectProblems(checks: readonly (() => unknown)[]): ItemError[] {
  const found: ItemError[] = [];
  for (const check of checks) {
    try {
      check();
    } catch (e) {
      if (e instanceof ItemProblems) found.push(...e.problems);
      else if (e instanceof ItemError) found.push(e);
      else throw e;
    }
  }
  return found;
}

/**
 * How hard to look at an item. The worker and dispatcher read stored items as the original does
 * (required keys, the types they rely on, reserved globals) so a job the original runs still runs;
 * `lava put` adds authoring checks (schedules, durations, actions, empty names) on top.
 */
export interface ParseOptions {
  /** Default true. */
  strict?: boolean;
}

export interface KindInfo {
  /** Key attribute of the kind's table. */
  key: "realm" | "job_id" | "conn_id" | "trigger_id";
  /** Table holding items of this kind (realm entries live in the account-wide realms table). */
  table(realm: string): string;
}

export const KIND_INFO: Readonly<Record<ItemKind, KindInfo>> = {
  realm: { key: "realm", table: () => REALMS_TABLE },
  job: { key: "job_id", table: (r) => realmTable(r, "jobs") },
  connection: { key: "conn_id", table: (r) => realmTable(r, "connections") },
  s3trigger: { key: "trigger_id", table: (r) => realmTable(r, "s3triggers") },
};

export function isIgnoredKey(key: string): boolean {
  return key.startsWith("x-") || key.startsWith("X-");
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** Field checks bound to one item, so every error names the item. */
class Checker {
  constructor(
    readonly kind: ItemKind,
    readonly item: Record<string, unknown>,
    readonly id: string | undefined,
  ) {}

  fail(field: string, reason: string, recordText?: string): never {
    throw new ItemError(this.kind, this.id, field, reason, recordText);
  }

  /** All absent keys are named at once, in the original's words. */
  requiredKeys(fields: readonly string[]): void {
    const missing = fields.filter((k) => !(k in this.item)).sort();
    if (missing.length) this.fail(missing[0]!, "missing (required)", `Bad ${this.kind} record: Missing keys: ${missing.join(", ")}`);
  }

  required(field: string): unknown {
    if (!(field in this.item)) this.fail(field, "missing (required)");
    return this.item[field];
  }

  string(field: string, opts: { required?: boolean; nonEmpty?: boolean } = {}): string | undefined {
    const v = opts.required ? this.required(field) : this.item[field];
    if (v === undefined || (v === null && !opts.required)) return undefined;
    if (typeof v !== "string") this.fail(field, `must be a string, not ${describe(v)}`);
    if ((opts.nonEmpty ?? opts.required) && v.trim() === "") this.fail(field, "must not be empty");
    return v;
  }

  boolean(field: string, opts: { required?: boolean } = {}): boolean | undefined {
    const v = opts.required ? this.required(field) : this.item[field];
    if (v === undefined || (v === null && !opts.required)) return undefined;
    if (typeof v !== "boolean") this.fail(field, `must be true or false, not ${describe(v)}`);
    return v;
  }

  number(field: string): number | undefined {
    const v = this.item[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isFinite(v)) this.fail(field, `must be a number, not ${describe(v)}`);
    return v;
  }

  integer(field: string, min: number): number | undefined {
    const v = this.item[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v)) this.fail(field, `must be an integer, not ${describe(v)}`);
    if (v < min) this.fail(field, `must be at least ${min}, not ${v}`);
    return v;
  }

  map(field: string): Record<string, unknown> | undefined {
    const v = this.item[field];
    if (v === undefined || v === null) return undefined;
    if (!isMap(v)) this.fail(field, `must be a map, not ${describe(v)}`);
    return v;
  }

  duration(field: string): number | undefined {
    const v = this.item[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string" && typeof v !== "number") this.fail(field, `must be a duration such as "30s" or "5m", not ${describe(v)}`);
    try {
      return parseDuration(v);
    } catch {
      this.fail(field, `${JSON.stringify(v)} is not a duration (number with unit s, m, h, d or w)`);
    }
  }

  stringOrList(field: string, opts: { required?: boolean } = {}): string[] | undefined {
    const v = opts.required ? this.required(field) : this.item[field];
    if (v === undefined || v === null) return undefined;
    const list = typeof v === "string" ? [v] : Array.isArray(v) ? v : this.fail(field, `must be a string or a list of strings, not ${describe(v)}`);
    list.forEach((s, i) => {
      if (typeof s !== "string") this.fail(`${field}.${i}`, `must be a string, not ${describe(s)}`);
    });
    if (opts.required && list.length === 0) this.fail(field, "must not be empty");
    return list as string[];
  }

  actions(field: string): void {
    const v = this.item[field];
    if (v === undefined || v === null) return;
    if (!Array.isArray(v)) this.fail(field, `must be a list of actions, not ${describe(v)}`);
    v.forEach((a, i) => {
      if (!isMap(a)) this.fail(`${field}.${i}`, `must be a map, not ${describe(a)}`);
      if (typeof a.action !== "string" || a.action === "") this.fail(`${field}.${i}.action`, "missing (required)");
    });
  }

  onlyKeys(allowed: ReadonlySet<string>, what = "unknown field"): string[] {
    return Object.keys(this.item).filter((k) => !isIgnoredKey(k) && !allowed.has(k)).sort();
  }
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (v instanceof Uint8Array) return "binary";
  if (typeof v === "object") return "a map";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  return `${typeof v} ${String(v)}`;
}

function asRecord(kind: ItemKind, item: unknown): Record<string, unknown> {
  if (!isMap(item)) throw new ItemError(kind, undefined, "(item)", `must be a map, not ${describe(item)}`);
  return item;
}

function idOf(kind: ItemKind, item: Record<string, unknown>): string | undefined {
  const v = item[KIND_INFO[kind].key];
  return typeof v === "string" ? v : undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Realm entries

export interface RealmInfo {
  realm: string;
  s3_payloads: string;
  s3_temp: string;
  s3_key?: string;
  /** Worker configuration overrides, keys as stored (LavaConfig upper-cases them). */
  config: Record<string, unknown>;
  docker?: string;
  on_success?: Record<string, unknown>[];
  on_fail?: Record<string, unknown>[];
  on_retry?: Record<string, unknown>[];
  /** The whole item, for the `x-*` and other fields subsystems read. */
  item: Record<string, unknown>;
}

/**
 * The realm as templates see it (`realm.*`): the whole entry, `x-*` keys included, as the original passes
 * it, with the checked fields laid over it.
 */
export function realmEntry(info: RealmInfo): Record<string, unknown> {
  return { ...info.item, realm: info.realm, s3_payloads: info.s3_payloads, s3_temp: info.s3_temp, config: info.config };
}

const REALM_NAME = /^[A-Za-z0-9_]+$/;
const S3_URI = /^s3:\/\/[^/]+(\/.*)?$/;

/** Realm names end up in table, queue and lambda names, which metrics/stop lambdas split on `-`. */
export function checkRealmName(realm: string): string | undefined {
  if (!REALM_NAME.test(realm)) return `realm name "${realm}" may only contain letters, digits and _ (no -)`;
  return undefined;
}

const REALM_REQUIRED = ["realm", "s3_payloads", "s3_temp"] as const;

/** A realm entry with its required fields checked; see ParseOptions for what `strict` adds. */
export function parseRealmItem(raw: unknown, opts: ParseOptions = {}): RealmInfo {
  const strict = opts.strict ?? true;
  const item = asRecord("realm", raw);
  const c = new Checker("realm", item, idOf("realm", item));
  c.requiredKeys(REALM_REQUIRED);
  const [realm, s3Payloads, s3Temp] = REALM_REQUIRED.map((k) => c.string(k, { required: true, nonEmpty: strict })!) as [string, string, string];
  const config = c.map("config") ?? {};
  if (strict) checkRealmAuthoring(c, item, config);
  const s3Key = c.string("s3_key");
  const docker = c.string("docker");
  return {
    realm,
    s3_payloads: s3Payloads,
    s3_temp: s3Temp,
    ...(s3Key !== undefined && { s3_key: s3Key }),
    config,
    ...(docker !== undefined && { docker }),
    ...(item.on_success !== undefined && { on_success: item.on_success as Record<string, unknown>[] }),
    ...(item.on_fail !== undefined && { on_fail: item.on_fail as Record<string, unknown>[] }),
    ...(item.on_retry !== undefined && { on_retry: item.on_retry as Record<string, unknown>[] }),
    item,
  };
}

function checkRealmAuthoring(c: Checker, item: Record<string, unknown>, config: Record<string, unknown>): void {
  const bad = checkRealmName(item.realm as string);
  if (bad) c.fail("realm", bad);
  for (const k of ["s3_payloads", "s3_temp"]) {
    if (!S3_URI.test(item[k] as string)) c.fail(k, `must be an s3://bucket/prefix URI, not ${describe(item[k])}`);
  }
  c.string("s3_key", { nonEmpty: true });
  checkRealmConfig(c, config);
  c.string("docker", { nonEmpty: true });
  for (const k of ["on_success", "on_fail", "on_retry"]) c.actions(k);
}

/** Each known variable in the realm's config must convert to its type; unknown names are allowed (as in the original). */
function checkRealmConfig(c: Checker, config: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(config)) {
    if (v !== null && typeof v === "object") c.fail(`config.${k}`, `must be a string, number or boolean, not ${describe(v)}`);
  }
  const lc = new LavaConfig(config, {});
  for (const cv of CONFIG_VARS) {
    if (cv.envOnly || !Object.keys(config).some((k) => k.toUpperCase() === cv.name)) continue;
    try {
      lc.typed(cv);
    } catch (e) {
      c.fail(`config.${cv.name}`, `${describe(lc.raw(cv.name))} is not ${articled(cv.type)}`);
    }
  }
}

function articled(type: string): string {
  return { duration: "a duration", size: "a size", bool: "a boolean", int: "an integer", str: "a string" }[type] ?? type;
}

// ---------------------------------------------------------------------------------------------------------
// Jobs

/** The jobs-table item after checks and defaults (enabled=false, max_tries=0, empty maps, owner/description ""). */
export interface JobSpec {
  job_id: string;
  type: string;
  worker: string;
  payload: unknown;
  owner: string;
  description: string;
  /** A boolean, or a Jinja template the worker renders at run time. */
  enabled: boolean | string;
  max_tries: number;
  parameters: Record<string, unknown>;
  globals: Record<string, unknown>;
  state: Record<string, unknown>;
  [field: string]: unknown;
}

/** How a job runs, parsed once from its item: the fields the worker reads at run time. */
export interface RunSettings {
  /** `iteration_limit`, default 1. */
  iterationLimit: number;
  /** `iteration_delay` in seconds, default 0. */
  iterationDelaySeconds: number;
  /** `max_run_delay` in seconds; undefined when absent or empty (no limit). */
  maxRunDelaySeconds: number | undefined;
  /** `cw_metrics`; undefined when absent (CW_METRICS_JOB decides). */
  cwMetrics: boolean | undefined;
}

/** A run setting of a job item that does not parse; the worker records the run `rejected` with this text. */
export class RunSettingError extends Error {
  override name = "RunSettingError";
  constructor(
    readonly field: string,
    readonly value: unknown,
  ) {
    super(`Bad ${field}: ${typeof value === "string" ? value : JSON.stringify(value)}`);
  }
}

const isUnset = (v: unknown): boolean => v === undefined || v === null || v === "";

/**
 * The run settings of a job spec, each converted once; throws RunSettingError naming the first bad field,
 * in the order the original checks them (max_run_delay, then the iteration limits). Text forms are
 * accepted as the original's worker accepts them ("3", "30s"); anything that does not convert is refused,
 * never replaced by a default.
 */
export function runSettingsOf(spec: Record<string, unknown>): RunSettings {
  const convert = <T>(field: string, parse: (v: never) => T): T | undefined => {
    const v = spec[field];
    if (isUnset(v)) return undefined;
    try {
      return parse(v as never);
    } catch {
      throw new RunSettingError(field, v);
    }
  };
  const maxRunDelaySeconds = convert("max_run_delay", (v: string | number) => (v === 0 ? undefined : parseDuration(v)));
  const iterationLimit = convert("iteration_limit", (v: string | number) => parseInteger(typeof v === "number" ? Math.trunc(v) : v)) ?? 1;
  const iterationDelaySeconds = convert("iteration_delay", (v: string | number) => parseDuration(v)) ?? 0;
  const cwMetrics = convert("cw_metrics", (v: string | boolean | number) => parseBool(v));
  return { iterationLimit, iterationDelaySeconds, maxRunDelaySeconds, cwMetrics };
}

const JOB_REQUIRED = ["job_id", "type", "worker", "payload"] as const;
const JOB_FIELDS: ReadonlySet<string> = new Set([
  ...JOB_REQUIRED,
  "cw_metrics", "description", "dispatcher", "enabled", "event_log", "globals", "iteration_delay",
  "iteration_limit", "max_run_delay", "max_tries", "on_fail", "on_retry", "on_success", "owner",
  "parameters", "schedule", "state",
]);
const SCHEDULE_FIELDS: ReadonlySet<string> = new Set(["crontab", "from", "to"]);

/**
 * A job item, checked, with the worker's defaults filled in (enabled=false, max_tries=0, empty
 * parameters/globals/state, owner/description ""). Unknown non-`x-` keys are reported by
 * `jobWarnings` rather than rejected: the original runs such jobs.
 */
export function parseJobItem(raw: unknown, opts: ParseOptions = {}): JobSpec {
  const strict = opts.strict ?? true;
  const item = asRecord("job", raw);
  const c = new Checker("job", item, idOf("job", item));
  if (strict) {
    const problems = collectProblems(jobChecks(c, item));
    if (problems.length === 1) throw problems[0];
    if (problems.length > 1) throw new ItemProblems(problems);
  }
  c.requiredKeys(JOB_REQUIRED);
  for (const k of ["job_id", "type", "worker"]) c.string(k, { required: true, nonEmpty: strict });
  const enabled = enabledOf(c);
  const maxTries = strict ? c.integer("max_tries", 0) : c.number("max_tries");
  const [parameters, globals, state] = (["parameters", "globals", "state"] as const).map((k) => c.map(k) ?? {}) as [
    Record<string, unknown>,
    Record<string, unknown>,
    Record<string, unknown>,
  ];
  for (const g of Object.keys(globals)) {
    if (g.toLowerCase().startsWith("lava")) c.fail(`globals.${g}`, "names starting with lava are reserved", `Reserved global: ${g}`);
  }
  if (strict) checkJobAuthoring(c, item);
  return {
    ...item,
    job_id: item.job_id as string,
    type: item.type as string,
    worker: item.worker as string,
    payload: item.payload,
    owner: item.owner ? String(item.owner) : "",
    description: item.description ? String(item.description) : "",
    enabled,
    max_tries: maxTries ?? 0,
    parameters,
    globals,
    state,
  };
}

function enabledOf(c: Checker): boolean | string {
  const v = c.item.enabled ?? false;
  if (typeof v === "boolean" || typeof v === "string") return v;
  c.fail("enabled", `must be true, false or a Jinja string, not ${describe(v)}`);
}

/** What only `lava put` insists on: fields the worker reads later, or never, checked when they are written. */
function checkJobAuthoring(c: Checker, item: Record<string, unknown>): void {
  for (const check of jobAuthoringChecks(c, item)) check();
}

function jobAuthoringChecks(c: Checker, item: Record<string, unknown>): (() => unknown)[] {
  return [
    () => c.string("dispatcher", { nonEmpty: true }),
    () => checkSchedule(c, item.schedule),
    () => c.integer("iteration_limit", 1),
    () => c.duration("iteration_delay"),
    () => c.duration("max_run_delay"),
    ...["on_success", "on_fail", "on_retry"].map((k) => () => c.actions(k)),
    () => c.boolean("cw_metrics"),
    () => c.string("owner"),
    () => c.string("description"),
  ];
}

/** Every strict check of a job item, one problem each, so `lava put` can report them all at once. */
function jobChecks(c: Checker, item: Record<string, unknown>): (() => unknown)[] {
  const missing = JOB_REQUIRED.filter((k) => !(k in item)).sort();
  const present = (k: string): boolean => k in item;
  return [
    ...missing.map((k) => () => c.fail(k, "missing (required)")),
    ...["job_id", "type", "worker"].filter(present).map((k) => () => c.string(k, { required: true, nonEmpty: true })),
    () => enabledOf(c),
    () => c.integer("max_tries", 0),
    ...(["parameters", "globals", "state"] as const).map((k) => () => c.map(k)),
    () => {
      const globals = isMap(item.globals) ? item.globals : {};
      for (const g of Object.keys(globals)) {
        if (g.toLowerCase().startsWith("lava")) c.fail(`globals.${g}`, "names starting with lava are reserved", `Reserved global: ${g}`);
      }
    },
    ...jobAuthoringChecks(c, item),
  ];
}

/** Non-fatal findings, in the original's words (it logs them as job spec deprecation warnings). */
export function jobWarnings(raw: Record<string, unknown>): string[] {
  const warnings: string[] = [];
  const unknown = Object.keys(raw).filter((k) => !isIgnoredKey(k) && !JOB_FIELDS.has(k)).sort();
  if (unknown.length) warnings.push(`Unexpected keys: ${unknown.join(", ")}`);
  for (const k of ["owner", "description"]) if (!raw[k]) warnings.push(`${k} field will be mandatory in a future release`);
  return warnings;
}

function checkSchedule(c: Checker, schedule: unknown): void {
  if (schedule === undefined || schedule === null) return;
  const entries = Array.isArray(schedule) ? schedule : [schedule];
  entries.forEach((entry, i) => {
    const path = Array.isArray(schedule) ? `schedule.${i}` : "schedule";
    if (typeof entry === "string") {
      if (entry.trim().split(/\s+/).length < 5) c.fail(path, `${describe(entry)} is not a crontab schedule (5 fields)`);
      return;
    }
    if (!isMap(entry)) c.fail(path, `must be a crontab string or a map with crontab, from, to; not ${describe(entry)}`);
    if (typeof entry.crontab !== "string") c.fail(`${path}.crontab`, "missing (required)");
    for (const k of Object.keys(entry)) if (!SCHEDULE_FIELDS.has(k)) c.fail(`${path}.${k}`, "unknown field (allowed: crontab, from, to)");
    for (const k of ["from", "to"]) {
      const v = entry[k];
      if (v !== undefined && (typeof v !== "string" || Number.isNaN(Date.parse(v)))) c.fail(`${path}.${k}`, `must be an ISO date/time, not ${describe(v)}`);
    }
  });
}

// ---------------------------------------------------------------------------------------------------------
// Connections

export interface ConnectionItem {
  conn_id: string;
  type: string;
  enabled: boolean;
  description?: string;
  owner?: string;
  /** Type-specific fields, validated by the connector. */
  [field: string]: unknown;
}

export function parseConnectionItem(raw: unknown): ConnectionItem {
  const item = asRecord("connection", raw);
  const c = new Checker("connection", item, idOf("connection", item));
  const connId = c.string("conn_id", { required: true })!;
  const type = c.string("type", { required: true })!;
  const enabled = c.boolean("enabled") ?? false;
  c.string("description");
  c.string("owner");
  return { ...item, conn_id: connId, type, enabled };
}

// ---------------------------------------------------------------------------------------------------------
// s3triggers

export interface S3TriggerItem {
  trigger_id: string;
  bucket: string;
  prefix: string;
  job_id: string[];
  enabled: boolean;
  parameters: Record<string, unknown>;
  globals: Record<string, unknown>;
  jinja: boolean;
  /** Dispatch delay in seconds. */
  delay: number;
  description?: string;
  owner?: string;
  if_fnmatch?: string[];
  if_not_fnmatch?: string[];
  if_size_gt?: number;
  if_not_size_gt?: number;
  if_event_type?: string;
  if_not_event_type?: string;
}

const S3TRIGGER_FIELDS: ReadonlySet<string> = new Set([
  "trigger_id", "bucket", "prefix", "job_id", "enabled", "parameters", "globals", "jinja", "delay",
  "description", "owner", "if_fnmatch", "if_not_fnmatch", "if_size_gt", "if_not_size_gt",
  "if_event_type", "if_not_event_type",
]);

/** Any field other than the known ones (and `x-*`) makes a trigger invalid, as in the original. */
export function parseS3TriggerItem(raw: unknown, maxDelayMinutes = 15): S3TriggerItem {
  const item = asRecord("s3trigger", raw);
  const c = new Checker("s3trigger", item, idOf("s3trigger", item));
  const triggerId = c.string("trigger_id", { required: true })!;
  const bucket = c.string("bucket", { required: true })!;
  const prefix = c.string("prefix", { required: true })!;
  if (prefix.endsWith("/")) c.fail("prefix", "must not end with / (use * for the whole bucket)");
  const jobIds = c.stringOrList("job_id", { required: true })!;
  const enabled = c.boolean("enabled", { required: true })!;
  const parameters = c.map("parameters") ?? {};
  const globals = c.map("globals") ?? {};
  const jinja = c.boolean("jinja") ?? true;
  const delay = c.duration("delay") ?? 0;
  if (delay < 0 || delay > maxDelayMinutes * 60) c.fail("delay", `must be between 0 and ${maxDelayMinutes}m`);
  const unknown = c.onlyKeys(S3TRIGGER_FIELDS);
  if (unknown.length) c.fail(unknown[0]!, "unknown field");
  const out: S3TriggerItem = { trigger_id: triggerId, bucket, prefix, job_id: jobIds, enabled, parameters, globals, jinja, delay };
  const description = c.string("description");
  const owner = c.string("owner");
  if (description !== undefined) out.description = description;
  if (owner !== undefined) out.owner = owner;
  for (const k of ["if_fnmatch", "if_not_fnmatch"] as const) {
    const v = c.stringOrList(k);
    if (v !== undefined) out[k] = v;
  }
  for (const k of ["if_size_gt", "if_not_size_gt"] as const) {
    const v = item[k];
    if (v === undefined || v === null) continue;
    try {
      if (typeof v !== "number" && typeof v !== "string") throw new Error();
      out[k] = parseSize(v);
    } catch {
      c.fail(k, `must be a size (number of bytes, or e.g. "10MB"), not ${describe(v)}`);
    }
  }
  for (const k of ["if_event_type", "if_not_event_type"] as const) {
    const v = c.string(k);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------

/** Checks an item of any kind; returns its id. Throws ItemError. */
export function checkItem(kind: ItemKind, raw: unknown): string {
  switch (kind) {
    case "realm":
      return parseRealmItem(raw).realm;
    case "job":
      return parseJobItem(raw).job_id;
    case "connection":
      return parseConnectionItem(raw).conn_id;
    case "s3trigger":
      return parseS3TriggerItem(raw).trigger_id;
  }
}

/** Plain data (from YAML/JSON) as a table item; undefined values are dropped, dates become ISO text. */
export function toItem(value: Record<string, unknown>): Item {
  return toAttribute(value) as Item;
}

function toAttribute(value: unknown): AttributeValue {
  if (value === null || value === undefined) return null;
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return value;
  if (value instanceof Uint8Array) return value;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toAttribute);
  if (typeof value === "object") {
    const out: Record<string, AttributeValue> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toAttribute(v);
    return out;
  }
  return String(value);
}
