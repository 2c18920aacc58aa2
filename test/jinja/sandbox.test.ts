/**
 * The template sandbox (docs/SECURITY.md, "Template sandbox"): the known ways out of the engine, as
 * regression tests. Attributes resolve only through the value model (never a JS property of a host
 * value), `__proto__` and friends are ordinary dict keys, unsafe attributes give Jinja2's SecurityError,
 * and the Python escape routes stay closed. Where Python's Jinja2 SandboxedEnvironment can render the
 * same case, its answer is the oracle.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { SecurityError, TemplateError, UndefinedError, parseJson, renderTemplate, toJson } from "../../src/jinja/index.ts";
import { needs } from "../support/availability.ts";
import { pythonJinjaAvailable } from "./harness.ts";
import { KINDS, PAYLOAD, canaryFired, isModelValue, makeCapture, makeContext, prototypeSnapshot, reachableFrom } from "./sandbox-support.ts";

let before: string[];
beforeEach(() => {
  delete (globalThis as { __lava_pwned?: unknown }).__lava_pwned;
  before = prototypeSnapshot();
});
afterEach(() => {
  expect(canaryFired()).toBe(false);
  expect(prototypeSnapshot()).toEqual(before);
});

function renderIn(template: string, flavour: "worker" | "action" | "contexts" = "worker"): { out?: string; error?: unknown; captured: unknown[]; ctx: unknown } {
  const capture = makeCapture();
  const ctx = makeContext(flavour, capture);
  try {
    return { out: renderTemplate(template, ctx), captured: capture.values, ctx };
  } catch (error) {
    return { error, captured: capture.values, ctx };
  }
}

function errorOf(template: string): TemplateError {
  const r = renderIn(template);
  if (!(r.error instanceof TemplateError)) throw new Error(`expected a TemplateError from ${template}, got ${r.error === undefined ? JSON.stringify(r.out) : String(r.error)}`);
  return r.error;
}

describe("exploit shapes that reached JavaScript before", () => {
  // Deleting the prototype's `constructor` and giving the prototype a function as its parent made
  // `m.constructor` resolve to Function, which then compiled and ran PAYLOAD.
  const chains = [
    `{% set m = 'a'|safe %}{% set p = m.__proto__ %}{% set _ = p.pop('constructor') %}{% set _ = p.update({'__proto__': m.constructor}) %}{{ m.constructor("${PAYLOAD}")() }}`,
    `{% set p = pf.__proto__ %}{% set _ = p.pop('constructor') %}{% set _ = p.update({'__proto__': pf.constructor}) %}{{ pf.constructor("${PAYLOAD}")() }}`,
    `{% set _ = m.__proto__.__proto__.update({'polluted': 1}) %}`,
    `{% set _ = pf.__proto__.update({'v': 99}) %}{{ pf }}`,
  ];
  test.each(chains)("%s is refused with SecurityError", (t) => {
    const e = errorOf(t);
    expect(e).toBeInstanceOf(SecurityError);
    expect(e.detail).toMatch(/^access to attribute '__proto__' of '(Markup|float)' object is unsafe\.$/);
  });

  test.each(KINDS.map((k) => k.name))("%s: constructor.constructor(code)() runs nothing", (name) => {
    const kind = KINDS.find((k) => k.name === name)!;
    for (const body of [`{{ v.constructor.constructor("${PAYLOAD}")() }}`, `{{ v['constructor']['constructor']("${PAYLOAD}")() }}`, `{{ (v|attr('constructor')|attr('constructor'))("${PAYLOAD}")() }}`]) {
      const r = renderIn(kind.wrap(body));
      expect(r.error).toBeInstanceOf(TemplateError);
    }
  });
});

describe("attributes come only from the value model", () => {
  const JS_NAMES = ["constructor", "__proto__", "prototype", "__defineGetter__", "__lookupGetter__", "toString", "valueOf", "hasOwnProperty", "call", "apply", "bind", "s", "v", "fn", "attrs", "then"];

  test.each(KINDS.map((k) => k.name))("%s: JS property names give model values only", (name) => {
    const kind = KINDS.find((k) => k.name === name)!;
    for (const probe of JS_NAMES.flatMap((n) => [`v.${n}`, `v['${n}']`, `v|attr('${n}')`])) {
      const r = renderIn(kind.wrap(`{{ capture(${probe}) }}`));
      // Undefined values fail on any attribute, and `match['constructor']` is Python's IndexError.
      if (r.error !== undefined) expect(r.error).toBeInstanceOf(TemplateError);
      const allowed = reachableFrom(r.ctx);
      for (const value of r.captured) {
        expect(typeof value).not.toBe("function");
        expect(isModelValue(value, allowed)).toBe(true);
      }
    }
  });

  test("a float, a Markup string and a PyFloat have none of them", () => {
    for (const v of ["f", "pf", "m", "'a'|safe", "dec", "dt", "thing", "set", "bytes", "obj.when"]) {
      const r = renderIn(JS_NAMES.map((n) => `{{ (${v}).${n} is defined }}`).join(","));
      expect(r.out).toBe(JS_NAMES.map(() => "False").join(","));
    }
  });

  test("a raw JS function in a context is not callable", () => {
    const e = errorOf("{{ jsfn() }}");
    expect(e.pyType).toBe("TypeError");
    expect(e.detail).toBe("'function' object is not callable");
  });

  test("legitimate attributes and methods still work", () => {
    expect(renderIn("{{ f.real }} {{ pf.is_integer() }} {{ ('a'|safe).upper() }} {{ dt.year }} {{ obj.a }} {{ obj.nested.b }} {{ range(3).stop }} {{ lst.index('a') }} {{ obj.when.year }}").out).toBe(
      "1.5 True A 2024 1 2 3 1 2024",
    );
  });
});

describe("unsafe attributes (Jinja2 SandboxedEnvironment)", () => {
  test("SecurityError with Jinja2's wording, when the unsafe value is used", () => {
    const cases: [string, string][] = [
      ["{{ f.__class__.__mro__ }}", "access to attribute '__class__' of 'float' object is unsafe."],
      ["{{ s.__class__.__base__.__subclasses__() }}", "access to attribute '__class__' of 'str' object is unsafe."],
      ["{{ dec.__class__() }}", "access to attribute '__class__' of 'Decimal' object is unsafe."],
      ["{{ dt.__class__ + 1 }}", "access to attribute '__class__' of 'datetime' object is unsafe."],
      ["{{ cycler(1).__init__.__globals__ }}", "access to attribute '__init__' of 'Cycler' object is unsafe."],
      ["{{ lst.__len__() }}", "access to attribute '__len__' of 'list' object is unsafe."],
      ["{{ range.mro() }}", "access to attribute 'mro' of 'type' object is unsafe."],
      ["{{ utils.s3bucket.__globals__.x }}", "access to attribute '__globals__' of 'function' object is unsafe."],
      ["{% macro mac() %}{% endmacro %}{{ mac.__call__() }}", "access to attribute '__call__' of 'Macro' object is unsafe."],
      ["{% for x in [1] %}{{ loop._LoopContext__length.x }}{% endfor %}", "access to attribute '_LoopContext__length' of 'LoopContext' object is unsafe."],
      ["{{ '{0.__class__.__mro__}'.format(f) }}", "access to attribute '__class__' of 'float' object is unsafe."],
    ];
    for (const [t, message] of cases) {
      const e = errorOf(t);
      expect(e).toBeInstanceOf(SecurityError);
      expect(e.pyType).toBe("SecurityError");
      expect(e.detail).toBe(message);
    }
  });

  test("printed, tested or formatted, an unsafe attribute is an empty Undefined", () => {
    expect(renderIn("[{{ f.__class__ }}][{{ f['__class__'] }}][{{ f|attr('__class__') }}][{{ f.__class__ is defined }}][{{ '{0.__class__}'.format(f) }}][{{ range.__name__ }}]").out).toBe(
      "[][][][False][][]",
    );
  });

  test("dict keys are data: `_private`, `__proto__` and `constructor` keys read as items", () => {
    expect(renderIn("{{ vars.__proto__ }}|{{ vars['__proto__'] }}|{{ vars.polluted }}|{{ vars.constructor }}|{{ job.parameters.__proto__ }}|{{ {'_k': 1}._k }}").out).toBe(
      "{'polluted': 'yes'}|{'polluted': 'yes'}||c|{'p': Decimal('1')}|1",
    );
  });

  test("Python's escape routes stay closed", () => {
    for (const t of ["{{ self }}", "{{ lipsum }}", "{{ config }}", "{{ request }}", "{{ cycler.__init__ }}", "{{ joiner.__init__ }}", "{{ namespace.__init__ }}", "{{ range.__subclasses__ }}", "{{ ''.__class__ }}"]) {
      expect(renderIn(t).out).toBe("");
    }
    for (const t of ["{{ self.__init__.__globals__ }}", "{{ lipsum.__globals__.os }}", "{{ config.items() }}", "{{ cycler.__init__.__globals__.os }}", "{{ ''.__class__.__mro__[1].__subclasses__() }}"]) {
      const e = errorOf(t);
      expect(e instanceof SecurityError || e instanceof UndefinedError).toBe(true);
    }
  });
});

describe("`__proto__` and friends are ordinary dict keys", () => {
  test("update and setdefault on a caller's plain object never touch its prototype", () => {
    const r = renderIn("{% set _ = obj.update({'__proto__': {'polluted': 1}, 'constructor': 2}) %}{% set _ = obj.setdefault('prototype', 3) %}{{ obj.polluted }}|{{ obj['__proto__'] }}|{{ obj.constructor }}|{{ obj.prototype }}");
    expect(r.out).toBe("|{'polluted': 1}|2|3");
    const obj = (r.ctx as Record<string, Record<string, unknown>>).obj!;
    expect(Object.getPrototypeOf(obj)).toBe(Object.prototype);
    expect(Object.hasOwn(obj, "__proto__")).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test("the worker's context keeps a dispatched __proto__ key as a key", () => {
    const r = renderIn("{{ vars.keys()|list }}");
    expect(r.out).toBe("['__proto__', 'k', 'constructor']");
    const vars = (r.ctx as Record<string, Record<string, unknown>>).vars!;
    expect(Object.getPrototypeOf(vars)).toBe(Object.prototype);
  });

  test("template-made dicts, dict(), namespaces and kwargs", () => {
    const cases: [string, string][] = [
      ["{{ dict(__proto__=1, constructor=2) }}", "{'__proto__': 1, 'constructor': 2}"],
      ["{{ {'__proto__': 1}['__proto__'] }}", "1"],
      ["{% set x = {} %}{% set _ = x.update({'__proto__': {'a': 1}}) %}{{ x }}|{{ x.a }}", "{'__proto__': {'a': 1}}|"],
      ["{% set x = {} %}{% set _ = x.update(__proto__=5) %}{{ x }}", "{'__proto__': 5}"],
      ["{% set ns = namespace() %}{% set ns.__proto__ = {'a': 1} %}{{ ns }}|{{ ns.a }}", "<Namespace {'__proto__': {'a': 1}}>|"],
      ["{{ namespace({'__proto__': 1}, constructor=2) }}", "<Namespace {'__proto__': 1, 'constructor': 2}>"],
      ["{% macro mk() %}{{ kwargs }}{% endmacro %}{{ mk(__proto__=1) }}", "{'__proto__': 1}"],
      ["{{ {'__proto__': {'a': 1}}|tojson }}", '{"__proto__": {"a": 1}}'],
      ["{{ obj.copy().update({'__proto__': 1}) }}{{ obj.__proto__ is defined }}", "NoneFalse"],
    ];
    for (const [t, want] of cases) {
      const r = renderIn(t);
      if (r.error) throw r.error;
      expect(r.out).toBe(want);
    }
  });

  test("a regex group name is looked up among the pattern's own groups", () => {
    const e = errorOf("{{ utils.re.match('(?P<a>x)', 'x').group('constructor') }}");
    expect([e.pyType, e.detail]).toEqual(["IndexError", "no such group"]);
  });

  test("toJson writes a __proto__ key as an own property", () => {
    const out = toJson(parseJson('{"__proto__": {"polluted": 1}, "a": 1}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(["__proto__", "a"]);
    expect(out.polluted).toBeUndefined();
  });
});

describe("filters and format strings reach attributes through the model", () => {
  const cases = [
    "{{ lst|map(attribute='constructor')|list }}",
    "{{ lst|map(attribute='__proto__')|list }}",
    "{{ lst|map(attribute='__class__')|list }}",
    "{{ [m, m]|map(attribute='constructor')|list }}",
    "{{ lst|selectattr('constructor')|list }}",
    "{{ lst|rejectattr('__proto__')|list }}",
    "{{ obj.list|sum(attribute='constructor') }}",
    "{{ lst|sort(attribute='constructor') }}",
    "{{ obj.list|groupby('constructor') }}",
    "{{ lst|unique(attribute='__proto__')|list }}",
    "{{ lst|join(',', attribute='constructor') }}",
    "{{ lst|min(attribute='constructor') }}",
    "{{ '{0.constructor}'.format(f) }}",
    "{{ '{0.__proto__}'.format(m) }}",
    "{{ '{0[constructor]}'.format(obj) }}",
    "{{ '{a.constructor}'.format_map({'a': pf}) }}",
    "{{ '%(constructor)s' % obj }}",
    "{{ '%s' % m.constructor }}",
  ];
  test.each(cases)("%s", (t) => {
    const r = renderIn(t);
    if (r.out !== undefined) expect(r.out).not.toMatch(/native code|function|class |\[object/);
    else expect(r.error).toBeInstanceOf(TemplateError);
  });
});

// ---------------------------------------------------------------------------------------------
// Python's SandboxedEnvironment as the oracle for the cases it can render with plain data.

const SANDBOX_PY = `
import json, sys
from jinja2.sandbox import SandboxedEnvironment
env = SandboxedEnvironment()
out = []
for c in json.load(sys.stdin)["cases"]:
    try:
        out.append({"ok": env.from_string(c["template"]).render(**c["context"])})
    except Exception as e:
        out.append({"error": type(e).__name__, "message": str(e)})
print(json.dumps(out))
`;

const ORACLE_CONTEXT = '{"f": 1.5, "s": "text", "d": {"_k": 1, "__proto__": 2, "constructor": 3, "a": {"b": 1}}, "lst": [1.5, 2.5], "items": [{"a": 1}, {"a": 2}]}';

const ORACLE_CASES = [
  "{{ f.__class__ }}",
  "{{ f.__class__.__mro__ }}",
  "{{ f['__class__'] }}",
  "{{ f|attr('__class__') }}",
  "{{ (f|attr('__class__')).__mro__ }}",
  "{{ f.__class__ is defined }}",
  "{{ f.constructor }}",
  "{{ f.constructor.constructor }}",
  "{{ s.constructor }}",
  "{{ ('a'|safe).s }}",
  "{{ ('a'|safe).__class__.__mro__ }}",
  "{{ s.__class__.__base__.__subclasses__() }}",
  "{{ d._k }}|{{ d['_k'] }}|{{ d.__proto__ }}|{{ d['__proto__'] }}|{{ d.constructor }}",
  "{{ d.__class__ }}",
  "{{ d.__class__.__name__ }}",
  "{{ d.items.__self__ }}",
  "{{ lst.__len__() }}",
  "{{ lst|map(attribute='__class__')|list }}",
  "{{ items|map(attribute='_x')|list }}",
  "{{ items|selectattr('__class__')|list }}",
  "{{ items|sum(attribute='__class__') }}",
  "{{ items|groupby('__class__')|list }}",
  "{{ items|join(',', attribute='__class__') }}",
  "{{ '{0.__class__}'.format(f) }}",
  "{{ '{0._x}'.format(f) }}",
  "{{ '{0.__class__.__mro__}'.format(f) }}",
  "{{ '{a.__class__}'.format_map({'a': f}) }}",
  "{{ cycler(1).__init__ }}",
  "{{ cycler(1).__init__.__globals__ }}",
  "{{ range.__name__ }}",
  "{{ range.mro }}",
  "{{ range.mro() }}",
  "{{ dict.mro() }}",
  "{{ namespace(a=1).__class__ }}",
  "{{ joiner().__call__ }}",
  "{% set ns = namespace() %}{% set ns._x = 1 %}{{ ns._x }}",
  "{% set ns = namespace() %}{% set ns.__proto__ = 5 %}{{ ns }}",
  "{{ dict(__proto__=1) }}",
  "{{ {'__proto__': 1}['__proto__'] }}",
  "{% set x = {} %}{% set _ = x.update({'__proto__': {'a': 1}}) %}{{ x }}|{{ x.a }}|{{ x.__proto__ }}",
  "{% set x = {} %}{% set _ = x.setdefault('__proto__', 1) %}{{ x }}",
  "{% for i in [1] %}{{ loop.__class__ }}{% endfor %}",
  "{% macro m() %}{% endmacro %}{{ m.__class__ }}",
];

const oracle = needs("python3 with jinja2", pythonJinjaAvailable(), "sandbox cases are compared with Jinja2's SandboxedEnvironment");

describe.if(oracle)("agrees with Jinja2's SandboxedEnvironment", () => {
  type Result = { ok: string } | { error: string; message: string };
  const theirs: Result[] = oracle
    ? (JSON.parse(
        Bun.spawnSync(["python3", "-c", SANDBOX_PY], {
          stdin: new TextEncoder().encode(JSON.stringify({ cases: ORACLE_CASES.map((template) => ({ template, context: JSON.parse(ORACLE_CONTEXT) })) })),
        }).stdout.toString(),
      ) as Result[])
    : [];
  test.each(ORACLE_CASES.map((t, i) => [t, i] as const))("%s", (template, i) => {
    const python = theirs[i]!;
    let ours: Result;
    try {
      ours = { ok: renderTemplate(template, parseJson(ORACLE_CONTEXT) as Map<string, unknown>) };
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      ours = { error: e.pyType, message: e.detail };
    }
    if ("ok" in python) expect(ours).toEqual(python);
    else if (python.error === "SecurityError") expect(ours).toEqual(python);
    else expect("error" in ours).toBe(true);
  });
});
