/**
 * Differential tests: every corpus case is rendered by Python's Jinja2 3.1 (one python3 process for
 * the whole file) and by ours; outputs must be identical, or both must raise.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { needs } from "../support/availability.ts";
import * as corpus from "./corpus.ts";
import { type Case, type Result, DECIMAL_CONTEXT, LAVA_CONTEXT, TEST_TZ, agree, pythonJinjaAvailable, renderWithPython, renderWithUs } from "./harness.ts";

const savedTz = process.env.TZ;
process.env.TZ = TEST_TZ;
afterAll(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

const groups: Record<string, Case[]> = {
  syntax: corpus.SYNTAX.map((template) => ({ template, context: LAVA_CONTEXT })),
  autoescape: corpus.AUTOESCAPED.map((template) => ({ template, context: LAVA_CONTEXT, autoescape: true })),
  printing: corpus.PRINTING.map((template) => ({ template, context: LAVA_CONTEXT })),
  strings: corpus.STRINGS.map((template) => ({ template, context: LAVA_CONTEXT })),
  filters: corpus.FILTERS.map((template) => ({ template, context: LAVA_CONTEXT })),
  arithmetic: corpus.ARITHMETIC_EXTRA.map((template) => ({ template, context: LAVA_CONTEXT })),
  datetime: corpus.DATETIME.map((template) => ({ template, context: LAVA_CONTEXT })),
  decimals: corpus.DECIMALS.map((template) => ({ template, context: DECIMAL_CONTEXT })),
  "generated decimals": corpus.generatedDecimalArithmetic().map((template) => ({ template, context: DECIMAL_CONTEXT })),
  "undefined numbers": corpus.UNDEFINED_NUMERIC.map((template) => ({ template, context: DECIMAL_CONTEXT })),
  "generated arithmetic": [...corpus.generatedArithmetic(), ...corpus.generatedArithmeticSingles()].map((template) => ({ template })),
  "generated strings": corpus.generatedStrings().map((template) => ({ template })),
  "generated strftime": corpus.generatedStrftime().map((template) => ({ template, context: LAVA_CONTEXT })),
  "generated dates": corpus.generatedDates().map((template) => ({ template, context: LAVA_CONTEXT })),
  "generated filters": corpus.generatedFilters().map((template) => ({ template })),
};

const present = needs("python3 with jinja2 and dateutil", pythonJinjaAvailable(), "differential tests compare against Python's Jinja2");

const all = Object.values(groups).flat();
const theirs: Result[] = present ? renderWithPython(all) : [];
const known = corpus.knownDifferences();
const knownSeen: string[] = [];
let passed = 0;
let total = 0;

describe.if(present)("differential against Python Jinja2", () => {
  let offset = 0;
  for (const [name, cases] of Object.entries(groups)) {
    const start = offset;
    offset += cases.length;
    test(`${name} (${cases.length} cases)`, () => {
      const mismatches: string[] = [];
      cases.forEach((c, i) => {
        const expected = theirs[start + i] as Result;
        const ours = renderWithUs(c);
        total++;
        if (agree(ours, expected)) passed++;
        else if (known.has(c.template)) knownSeen.push(`${c.template}: ${known.get(c.template)}`);
        else mismatches.push(`template: ${JSON.stringify(c.template)}\n  python: ${JSON.stringify(expected)}\n  ours:   ${JSON.stringify(ours)}`);
      });
      if (mismatches.length) console.log(mismatches.join("\n"));
      expect(mismatches).toEqual([]);
    });
  }
  afterAll(() => {
    console.log(`differential: ${passed}/${total} cases agree with Python Jinja2; ${knownSeen.length} known differences:\n  ${knownSeen.join("\n  ")}`);
  });
});
