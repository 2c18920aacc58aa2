/**
 * Fuzzing the template sandbox: a seeded generator builds attribute chains, subscripts, filters, method
 * calls, format strings and dict/namespace writes over every kind of value in lava's render contexts.
 * Each render must either fail with a template error or succeed, and in both cases: every value handed
 * back is a value of the model, no JS function, prototype or global escapes, no code runs (a canary),
 * the JS escape hatches (`Function.prototype.constructor`, `__proto__`) are never touched, and no
 * prototype changes. Deterministic: same seed, same cases.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TemplateError, renderTemplate } from "../../src/jinja/index.ts";
import { KINDS, PAYLOAD, type ContextFlavour, armTraps, canaryFired, isModelValue, makeCapture, makeContext, prototypeSnapshot, reachableFrom } from "./sandbox-support.ts";
import { seededRandom } from "../support/random.ts";

const SEED = 0x5eed_0009;
const CASES = 4000;


const JS_NAMES = ["constructor", "__proto__", "prototype", "__defineGetter__", "__lookupGetter__", "__defineSetter__", "toString", "valueOf", "hasOwnProperty", "call", "apply", "bind", "caller", "arguments", "length", "name", "s", "v", "fn", "attrs", "items", "then", "globalThis", "process", "require"];
const PY_NAMES = ["__class__", "__mro__", "__base__", "__bases__", "__subclasses__", "__globals__", "__init__", "__dict__", "__builtins__", "__getattribute__", "__code__", "__self__", "__func__", "__call__", "__name__", "mro", "gi_frame", "gi_code", "_private", "_"];
const MODEL_NAMES = ["upper", "split", "keys", "values", "items", "get", "update", "setdefault", "pop", "copy", "year", "days", "start", "stop", "index", "next", "current", "reset", "real", "imag", "group", "groups", "hex", "name", "arguments", "date", "isoformat", "tzinfo", "a", "k", "vars", "parameters", "lava", "nested", "list", "polluted"];
const NAMES = [...JS_NAMES, ...PY_NAMES, ...MODEL_NAMES];
const ARGS = [`"${PAYLOAD}"`, "'return globalThis'", "'return process'", "1", "'a'", "v", "{'__proto__': {'polluted': 1}}", "{'constructor': v}", ""];
const FILTERS = [
  (n: string) => `attr('${n}')`,
  (n: string) => `map(attribute='${n}')|list`,
  (n: string) => `selectattr('${n}')|list`,
  (n: string) => `rejectattr('${n}')|list`,
  (n: string) => `sum(attribute='${n}')`,
  (n: string) => `sort(attribute='${n}')`,
  (n: string) => `groupby('${n}')`,
  (n: string) => `unique(attribute='${n}')|list`,
  (n: string) => `min(attribute='${n}')`,
  (n: string) => `join(',', attribute='${n}')`,
  (n: string) => `map('attr', '${n}')|list`,
  () => "first",
  () => "list",
  () => "string",
  () => "tojson",
  () => "pprint",
  () => "items|list",
  () => "dictsort",
  () => "length",
  () => "safe",
];

class Generator {
  constructor(private readonly next: () => number) {}
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  step(expr: string): string {
    const name = this.pick(NAMES);
    switch (this.int(7)) {
      case 0:
        return /^[A-Za-z_]\w*$/.test(name) ? `${expr}.${name}` : `${expr}['${name}']`;
      case 1:
        return `${expr}[${this.pick([`'${name}'`, "0", "-1", "'0'"])}]`;
      case 2:
        return `${expr}(${this.pick(ARGS)})`;
      case 3:
        return `(${expr})|${this.pick(FILTERS)(name)}`;
      default:
        return `${expr}.${this.pick(MODEL_NAMES)}`;
    }
  }
  expression(): string {
    let expr = "v";
    const steps = 1 + this.int(3);
    for (let i = 0; i < steps; i++) expr = this.step(expr);
    return expr;
  }
  body(): string {
    const e = this.expression();
    const name = this.pick(NAMES);
    switch (this.int(8)) {
      case 0:
        return `{% set r = ${e} %}{{ capture(r) }}{{ r }}`;
      case 1:
        return `{{ capture('{0.${name}}'.format(${e})) }}`;
      case 2:
        return `{{ capture('{a.${name}.${this.pick(NAMES)}}'.format_map({'a': ${e}})) }}`;
      case 3:
        return `{{ capture('%s|%r' % (${e}, v.${name})) }}`;
      case 4:
        return `{% set _ = ${e}.update({'${name}': v, '__proto__': {'polluted': 1}}) %}{{ capture(v) }}{{ capture(v.polluted) }}`;
      case 5:
        return `{% set ns = namespace() %}{% set ns.${/^[A-Za-z_]\w*$/.test(name) ? name : "x"} = ${e} %}{{ capture(ns) }}{{ capture(ns.${/^[A-Za-z_]\w*$/.test(name) ? name : "x"}) }}`;
      case 6:
        return `{{ capture(dict(${/^[A-Za-z_]\w*$/.test(name) ? name : "k"}=${e})) }}`;
      default:
        return `{{ capture(${e}) }}`;
    }
  }
}

interface Outcome {
  template: string;
  problem: string;
}

const FLAVOURS: ContextFlavour[] = ["worker", "action", "contexts"];

/** null when the case is fine, else what went wrong; `stats` counts renders that completed. */
function runCase(template: string, flavour: ContextFlavour, stats: { completed: number; captured: number }): string | null {
  const capture = makeCapture();
  const ctx = makeContext(flavour, capture);
  const allowed = reachableFrom(ctx);
  delete (globalThis as { __lava_pwned?: unknown }).__lava_pwned;
  const traps = armTraps();
  let out: string | undefined;
  let error: unknown;
  try {
    out = renderTemplate(template, ctx);
  } catch (e) {
    error = e;
  } finally {
    traps.disarm();
  }
  if (canaryFired()) return "the canary fired: code ran";
  if (traps.touched.length) return `touched ${traps.touched.join(", ")}`;
  if (error !== undefined && !(error instanceof TemplateError)) return `not a template error: ${String(error)}`;
  if (error instanceof TemplateError && error.pyType === "Exception") return `a raw JS error leaked: ${error.detail}`;
  if (out !== undefined) stats.completed++;
  stats.captured += capture.values.length;
  if (out !== undefined && /\[native code\]|\[object /.test(out)) return `host text in the output: ${out.slice(0, 200)}`;
  for (const v of capture.values) {
    if (typeof v === "function") return "a JS function was returned";
    if (!isModelValue(v, allowed)) return `not a model value: ${Object.prototype.toString.call(v)}`;
  }
  return null;
}

describe("sandbox fuzz", () => {
  let before: string[];
  beforeAll(() => {
    delete (globalThis as { __lava_pwned?: unknown }).__lava_pwned;
    before = prototypeSnapshot();
  });
  afterAll(() => {
    expect(prototypeSnapshot()).toEqual(before);
  });

  test(`${CASES} generated templates over ${KINDS.length} value kinds stay inside the model (seed ${SEED.toString(16)})`, () => {
    const gen = new Generator(seededRandom(SEED));
    const problems: Outcome[] = [];
    let rendered = 0;
    const stats = { completed: 0, captured: 0 };
    for (let i = 0; i < CASES; i++) {
      const kind = KINDS[i % KINDS.length]!;
      const template = kind.wrap(gen.body());
      const problem = runCase(template, FLAVOURS[i % FLAVOURS.length]!, stats);
      if (problem) problems.push({ template, problem });
      else rendered++;
      if (prototypeSnapshot().join("\n") !== before.join("\n")) {
        problems.push({ template, problem: "a prototype changed" });
        break;
      }
    }
    expect(problems.slice(0, 10)).toEqual([]);
    expect(rendered).toBe(CASES);
    // The generator must reach values, not only errors: a fuzz that always fails early proves nothing.
    expect(stats.completed).toBeGreaterThan(CASES / 8);
    expect(stats.captured).toBeGreaterThan(CASES / 8);
  });
});
