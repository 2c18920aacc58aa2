/**
 * Marking rendered values as data (asLiteralTemplate): rendering the marked form once, as a worker does,
 * gives back exactly the value, with our engine and with Python's Jinja2 (the original worker), also through
 * the original's dump-render-parse of dispatch parameters. Random hostile strings, plus a fixed list.
 */
import { describe, expect, test } from "bun:test";
import { asLiteralTemplate, renderDispatchParameters, renderEachString, renderingChanges } from "../../src/core/template-values.ts";
import { pyJsonDumps } from "../../src/core/pyformat.ts";
import { renderTemplate } from "../../src/jinja/index.ts";
import { pythonJinjaAvailable, renderWithPython } from "../jinja/harness.ts";
import { needs } from "../support/availability.ts";

const PIECES = ["{", "}", "{{", "}}", "{%", "%}", "{#", "#}", "%", "#", "-", "+", " ", "\n", "\r", "\r\n", "\t", "'", '"', "\\", "raw", "endraw",
  "{% endraw %}", "{%- endraw -%}", "{%raw%}", "é", "\u{1F600}", "日本", "\u0000", "a", "x", "}}{{", "{{ 7 * 7 }}"];

/** A small deterministic generator, so a failure can be reproduced from its seed. */
function randomStrings(count: number, seed: number): string[] {
  let s = seed >>> 0;
  const next = (n: number): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
  return Array.from({ length: count }, () => Array.from({ length: next(12) }, () => PIECES[next(PIECES.length)]).join(""));
}

const FIXED = [
  "",
  "plain/key.csv",
  "{{ 7 * 7 }}",
  "{%- endraw %}{{ 7 * 7 }}{% endraw -%}",
  "{% raw %}{{ x }}{% endraw %}",
  "{",
  "{%",
  "ends in {",
  "trailing\n",
  "\r",
  "a\r\nb",
  "{#",
  "%}}",
  "caf\u00e9 \u{1F600}",
];
const SAMPLES = [...FIXED, ...randomStrings(600, 20240102)];

describe("asLiteralTemplate", () => {
  test("values a rendering leaves alone are unchanged", () => {
    for (const v of ["", "data/2024/a b.csv", "100%", "{ not a tag }", "a}}b", "#", "caf\u00e9"]) {
      expect(renderingChanges(v)).toBe(false);
      expect(asLiteralTemplate(v)).toBe(v);
    }
  });

  test("our engine renders every marked value back to itself", () => {
    const wrong = SAMPLES.filter((v) => renderTemplate(asLiteralTemplate(v), {}) !== v);
    expect(wrong).toEqual([]);
  });

  test("and so does it inside the original's dump-render-parse", () => {
    const wrong = SAMPLES.filter((v) => JSON.parse(renderTemplate(pyJsonDumps({ v: asLiteralTemplate(v) }, 2), {})).v !== v);
    expect(wrong).toEqual([]);
  });

  const python = needs("python3 with jinja2", pythonJinjaAvailable(), "compare the marking with Python's Jinja2");
  test.if(python)("Python's Jinja2 renders every marked value back to itself, directly and through dump-render-parse", () => {
    const direct = renderWithPython(SAMPLES.map((v) => ({ template: asLiteralTemplate(v), context: {} })));
    expect(direct.map((r, i) => ("ok" in r && r.ok === SAMPLES[i] ? null : { value: SAMPLES[i], got: r })).filter(Boolean)).toEqual([]);
    const dumped = renderWithPython(SAMPLES.map((v) => ({ template: pyJsonDumps({ v: asLiteralTemplate(v) }, 2), context: {} })));
    const back = dumped.map((r, i) => ("ok" in r && (JSON.parse(r.ok) as { v: string }).v === SAMPLES[i] ? null : { value: SAMPLES[i], got: r }));
    expect(back.filter(Boolean)).toEqual([]);
  });
});

describe("rendering a structure one string at a time", () => {
  const render = (t: string) => renderTemplate(t, { key: 'x", "timeout": "1s' });

  test("each string (keys too) is its own template; other values are kept", async () => {
    const out = await renderEachString({ "{{ 'k' }}": ["{{ key }}", 1, true, null], n: 2.5, plain: "a\r\n" }, render);
    expect(out).toEqual({ k: ['x", "timeout": "1s', 1, true, null], n: 2.5, plain: "a\r\n" });
  });

  test("dispatch parameters are marked, except vars", async () => {
    const out = (await renderDispatchParameters({ args: ["{{ '{{ 1 }}' }}"], vars: { k: "{{ '{{ 1 }}' }}" } }, render)) as Record<string, unknown>;
    expect(out).toEqual({ args: ["{% raw %}{{ 1 }}{% endraw %}"], vars: { k: "{{ 1 }}" } });
  });
});
