/**
 * What the sandbox tests share: render contexts built the way lava's callers build them (the worker's
 * src/core/worker/render.ts and src/jinja/contexts.ts), every kind of value a template can hold, a
 * `capture` callable that hands evaluated values back to the test, the test of "a value of the model",
 * and tripwires (a canary global, traps on the JS escape hatches, a snapshot of the prototypes).
 */
import { actionContext, jobContext, loadJinja } from "../../src/core/worker/render.ts";
import type { AugmentedJob, RealmInfo } from "../../src/core/job-contract.ts";
import { Markup, PyFloat, jobParamsContext, pyDateTime, pyDecimal, tuple } from "../../src/jinja/index.ts";
import { PyFunction, PyObject, Undefined } from "../../src/jinja/values.ts";

await loadJinja();

/** JavaScript that an escaped template would run: it sets the canary. */
export const PAYLOAD = "globalThis.__lava_pwned = 1; return 'pwned'";

export function canaryFired(): boolean {
  return (globalThis as { __lava_pwned?: unknown }).__lava_pwned !== undefined;
}

/** A class instance, a Set, bytes and a raw function, as a careless caller might put in a context. */
export class HostThing {
  secret = "host secret";
  method(): string {
    return "host method";
  }
}

/** Dispatch-message JSON: a `__proto__` key is an own property after JSON.parse. */
const DISPATCHED = JSON.parse('{"vars": {"__proto__": {"polluted": "yes"}, "k": 1, "constructor": "c"}, "__proto__": {"p": 1}, "r": 1.5}') as Record<string, unknown>;

function augmentedJob(): AugmentedJob {
  const t = new Date("2024-03-14T22:30:00Z");
  return {
    job_id: "sb/job",
    type: "cmd",
    worker: "core",
    payload: "echo",
    owner: "me",
    description: "sandbox",
    enabled: true,
    max_tries: 0,
    parameters: { ...structuredClone(DISPATCHED), n: 5, env: { A: "a" } },
    globals: { g: 3, lava: { iteration: 1, master_ustart: t } },
    state: { sid: "2000-01-01T00:00:00Z", obj: { x: "7" } },
    realm: "sb",
    run_id: "0000-run",
    ts_dispatch: t,
    ts_start: t,
    ts_ustart: t,
  };
}

const REALM: RealmInfo = { realm: "sb", s3_payloads: "s3://b/payloads", s3_temp: "s3://b/tmp", config: {}, item: { realm: "sb" } } as RealmInfo;

export interface Capture {
  values: unknown[];
  fn: PyFunction;
}

export function makeCapture(): Capture {
  const values: unknown[] = [];
  return {
    values,
    fn: new PyFunction("capture", (args) => {
      values.push(...args);
      return "";
    }),
  };
}

/** Values a caller supplies directly (not converted to Maps), alongside the worker's context. */
function callerValues(): Record<string, unknown> {
  const nullProto = Object.create(null) as Record<string, unknown>;
  nullProto.k = "v";
  return {
    f: 1.5,
    pf: new PyFloat(1),
    i: 3,
    b: true,
    none: null,
    s: "text",
    m: new Markup("<b>safe</b>"),
    dec: pyDecimal("1.50"),
    dt: pyDateTime(new Date("2024-03-14T22:30:00Z"), "Australia/Sydney"),
    lst: [1, "a", 1.5],
    tup: tuple([1, 2]),
    map: new Map<unknown, unknown>([["a", 1], ["__proto__", { deep: 1 }]]),
    obj: { a: 1, nested: { b: 2 }, list: [{ c: 3 }], when: new Date("2024-01-02T03:04:05Z"), dates: [new Date(0)] },
    nullproto: nullProto,
    thing: new HostThing(),
    set: new Set([1, 2]),
    bytes: new Uint8Array([104, 105]),
    jsfn: () => {
      (globalThis as { __lava_pwned?: unknown }).__lava_pwned = "a raw JS function was called";
      return "called";
    },
  };
}

export type ContextFlavour = "worker" | "action" | "contexts";

/** A fresh context (templates may mutate dicts), in one of the shapes lava's callers build. */
export function makeContext(flavour: ContextFlavour, capture: Capture): Record<string, unknown> | Map<string, unknown> {
  const job = augmentedJob();
  const extra = { ...callerValues(), capture: capture.fn };
  if (flavour === "worker") return { ...jobContext(job, REALM), ...extra };
  if (flavour === "action") return { ...actionContext(job, REALM, { exit_status: 0, output: [{ payload: "p", stdout: "o" }] }), ...extra };
  const ctx = jobParamsContext({ job, realm: REALM as unknown as Record<string, unknown>, start: job.ts_start, tz: "Australia/Sydney" });
  for (const [k, v] of Object.entries(extra)) ctx.set(k, v);
  return ctx;
}

export interface Kind {
  name: string;
  /** The template around `body`, where `v` holds the value. */
  wrap(body: string): string;
}

const setKind = (name: string, expr: string, setup = ""): Kind => ({ name, wrap: (body) => `${setup}{% set v = ${expr} %}${body}` });

/** Every kind of value a template can hold in lava's render contexts. */
export const KINDS: Kind[] = [
  setKind("int", "i"),
  setKind("float (JS number)", "f"),
  setKind("float literal", "1.5"),
  setKind("float (PyFloat)", "pf"),
  setKind("bool", "b"),
  setKind("None", "none"),
  setKind("str", "s"),
  setKind("Markup", "m"),
  setKind("Markup from |safe", "'a'|safe"),
  setKind("Decimal", "dec"),
  setKind("datetime", "dt"),
  setKind("start", "start"),
  setKind("ustart", "ustart"),
  setKind("date", "dt.date()"),
  setKind("time", "dt.time()"),
  setKind("timedelta", "utils.timedelta(days=1)"),
  setKind("relativedelta", "utils.dateutil.relativedelta.relativedelta(months=1)"),
  setKind("tzinfo", "dt.tzinfo"),
  setKind("list", "lst"),
  setKind("tuple", "tup"),
  setKind("dict (Map)", "map"),
  setKind("dict literal", "{'a': 1, '__proto__': 2}"),
  setKind("dict (caller's plain object)", "obj"),
  setKind("dict (null prototype)", "nullproto"),
  setKind("dict view", "obj.items()"),
  setKind("job", "job"),
  setKind("job.parameters", "job.parameters"),
  setKind("vars", "vars"),
  setKind("globals", "globals"),
  setKind("globals.lava", "globals.lava"),
  setKind("realm", "realm"),
  setKind("state", "state"),
  setKind("utils", "utils"),
  setKind("module", "utils.path"),
  setKind("class", "utils.datetime"),
  setKind("builtin function", "utils.s3bucket"),
  setKind("bound method", "s.upper"),
  setKind("uuid", "utils.uuid()"),
  setKind("re.Pattern", "utils.re.compile('(?P<g>a)')"),
  setKind("re.Match", "utils.re.match('(?P<g>a)', 'a')"),
  setKind("bytes", "s.encode()"),
  setKind("Undefined", "missing"),
  setKind("unsafe Undefined", "f.__class__"),
  setKind("range", "range(3)"),
  setKind("range type", "range"),
  setKind("dict type", "dict"),
  setKind("generator", "lst|map('string')"),
  setKind("namespace", "ns", "{% set ns = namespace(a=1) %}"),
  setKind("cycler", "cycler(1, 2)"),
  setKind("joiner", "joiner()"),
  setKind("macro", "mac", "{% macro mac(a=1) %}[{{ a }}]{% endmacro %}"),
  { name: "loop", wrap: (body) => `{% for _x in [1, 2] %}{% set v = loop %}${body}{% endfor %}` },
  { name: "loop.cycle", wrap: (body) => `{% for _x in [1] %}{% set v = loop.cycle %}${body}{% endfor %}` },
  { name: "caller", wrap: (body) => `{% macro outer() %}{% set v = caller %}${body}{% endmacro %}{% call outer() %}x{% endcall %}` },
  setKind("host Date", "obj.when"),
  setKind("host Date in a list", "obj.dates|first"),
  setKind("host class instance", "thing"),
  setKind("host Set", "set"),
  setKind("host bytes", "bytes"),
  setKind("host function", "jsfn"),
];

/** Where the test's own objects may legitimately come back: everything reachable from the context. */
export function reachableFrom(ctx: unknown): Set<unknown> {
  const seen = new Set<unknown>();
  const walk = (v: unknown): void => {
    if (v === null || (typeof v !== "object" && typeof v !== "function") || seen.has(v)) return;
    seen.add(v);
    if (Array.isArray(v)) v.forEach(walk);
    else if (v instanceof Map) for (const [k, x] of v) {
      walk(k);
      walk(x);
    }
    else if (v instanceof Set) v.forEach(walk);
    else if (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null) Object.values(v).forEach(walk);
  };
  walk(ctx);
  return seen;
}

/**
 * A value of the engine's model: a primitive, an engine value (PyFloat, Markup, Undefined, a PyObject),
 * a list or Map of such, or an object the caller put in the context. Never a JS function, a prototype,
 * or any other host object.
 */
export function isModelValue(v: unknown, callerObjects: Set<unknown>, depth = 0): boolean {
  if (v === null || v === undefined) return true;
  switch (typeof v) {
    case "string":
    case "number":
    case "boolean":
      return true;
    case "function":
      return false;
    case "object":
      break;
    default:
      return false;
  }
  if (depth > 6) return true;
  if (v instanceof PyFloat || v instanceof Markup || v instanceof Undefined || v instanceof PyObject) return isInstanceNotPrototype(v);
  if (Array.isArray(v)) return v.every((x) => isModelValue(x, callerObjects, depth + 1));
  if (v instanceof Map) return [...v].every(([k, x]) => isModelValue(k, callerObjects, depth + 1) && isModelValue(x, callerObjects, depth + 1));
  return callerObjects.has(v);
}

/** A prototype object is `instanceof` its own parent class too: tell it from real instances. */
function isInstanceNotPrototype(v: object): boolean {
  return !Object.hasOwn(v, "constructor");
}

const WATCHED_PROTOTYPES: [string, object][] = [
  ["Object.prototype", Object.prototype],
  ["Function.prototype", Function.prototype],
  ["Array.prototype", Array.prototype],
  ["Map.prototype", Map.prototype],
  ["Set.prototype", Set.prototype],
  ["String.prototype", String.prototype],
  ["Number.prototype", Number.prototype],
  ["Date.prototype", Date.prototype],
  ["Markup.prototype", Markup.prototype],
  ["PyFloat.prototype", PyFloat.prototype],
  ["Undefined.prototype", Undefined.prototype],
  ["PyObject.prototype", PyObject.prototype],
  ["PyFunction.prototype", PyFunction.prototype],
  ["HostThing.prototype", HostThing.prototype],
];

/** Own keys and parent of every watched prototype: a template must never change any of them. */
export function prototypeSnapshot(): string[] {
  return WATCHED_PROTOTYPES.map(([name, p]) => {
    const parent = WATCHED_PROTOTYPES.find(([, q]) => q === Object.getPrototypeOf(p))?.[0] ?? String(Object.getPrototypeOf(p));
    return `${name} < ${parent}: ${Reflect.ownKeys(p).map(String).sort().join(",")}`;
  });
}

/**
 * Traps on the ways JS code reaches `Function`: a function's `constructor` and any object's `__proto__`.
 * While armed, touching them is recorded (the engine itself never does).
 */
export function armTraps(): { touched: string[]; disarm(): void } {
  const touched: string[] = [];
  let armed = true;
  const fnCtor = Object.getOwnPropertyDescriptor(Function.prototype, "constructor") as PropertyDescriptor;
  const proto = Object.getOwnPropertyDescriptor(Object.prototype, "__proto__") as PropertyDescriptor;
  Object.defineProperty(Function.prototype, "constructor", {
    configurable: true,
    get() {
      if (armed) touched.push("Function.prototype.constructor");
      return Function;
    },
  });
  Object.defineProperty(Object.prototype, "__proto__", {
    configurable: true,
    get(this: object) {
      if (armed) touched.push("get __proto__");
      return Object.getPrototypeOf(this);
    },
    set(this: object, p: object | null) {
      if (armed) touched.push("set __proto__");
      Object.setPrototypeOf(this, p);
    },
  });
  return {
    touched,
    disarm() {
      armed = false;
      Object.defineProperty(Function.prototype, "constructor", fnCtor);
      Object.defineProperty(Object.prototype, "__proto__", proto);
    },
  };
}
