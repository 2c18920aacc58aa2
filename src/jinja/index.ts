/**
 * Jinja2-compatible templates with Python value semantics, as lava renders them.
 * Self-contained: nothing here imports from the rest of lava.
 */
import { type CompiledTemplate, compile } from "./compiler.ts";
import { PyDateTime, pyDateTime } from "./datetime.ts";
import { setHostAdapter } from "./ops.ts";
import { repr, str } from "./values.ts";

setHostAdapter((v) => (v instanceof Date ? pyDateTime(v, "UTC") : v));

export { SecurityError, TemplateError, TemplateSyntaxError, UndefinedError } from "./errors.ts";
export { fromJson, parseJson, toJson, dumps } from "./json.ts";
export { makeUtils, s3Split } from "./utils.ts";
export { pyDateTime, PyDateTime, PyDate, PyTimedelta } from "./datetime.ts";
export { localZoneName } from "./zones.ts";
export { PyRelativedelta, dateutilParse } from "./dateutil.ts";
export { PyDecimal, pyDecimal, fromDynamo, isDecimal } from "./decimal.ts";
export { Markup, PyFloat, tuple, newDict } from "./values.ts";
export type { CompiledTemplate } from "./compiler.ts";

export interface RenderOptions {
  /** HTML-escape output (default false, as plain `jinja2.Template`). */
  autoescape?: boolean;
  /** Template name shown in error messages. */
  name?: string;
}

const CACHE_LIMIT = 1000;
const cache = new Map<string, CompiledTemplate>();

/** Compiles once and caches (LRU, keyed by source and options). */
export function compileTemplate(source: string, opts: RenderOptions = {}): CompiledTemplate {
  const key = `${opts.autoescape ? 1 : 0}\u0000${opts.name ?? ""}\u0000${source}`;
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const tpl = compile(source, opts);
  cache.set(key, tpl);
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  return tpl;
}

/** Renders `source` with `context` like Python's jinja2.Template(source).render(**context). */
export function renderTemplate(source: string, context: Record<string, unknown> | Map<string, unknown>, opts: RenderOptions = {}): string {
  return compileTemplate(source, opts).render(context);
}

/** Python's str() of a template value. */
export function pyStr(value: unknown): string {
  return str(value);
}

/** Python's repr() of a template value. */
export function pyRepr(value: unknown): string {
  return repr(value);
}

/** The autoescape rule of lava's file rendering (select_autoescape): on for .html, .htm, .xml. */
export function autoescapeFor(filename: string): boolean {
  return /\.(html|htm|xml)$/i.test(filename);
}

/** Python's isoformat() of a Date in a zone, e.g. `2024-03-15T09:30:00+11:00` (for globals.lava.*_start). */
export function isoFormat(date: Date, tz: string): string {
  return pyDateTime(date, tz).iso();
}

/** Parses an ISO 8601 timestamp (as isoFormat writes) back into a Date. */
export function parseIso(text: string): Date {
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) throw new Error(`invalid ISO timestamp: ${text}`);
  return d;
}

/** True when `value` is a Python datetime produced by this module. */
export function isPyDateTime(value: unknown): value is PyDateTime {
  return value instanceof PyDateTime;
}

export {
  actionContext,
  connAppNameContext,
  dispatchParamsContext,
  enabledContext,
  eventLogContext,
  jobParamsContext,
  s3triggerContext,
  stateGetContext,
  toTemplateValue,
  type Context,
  type RunInputs,
  type S3TriggerInputs,
} from "./contexts.ts";
