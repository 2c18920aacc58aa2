/**
 * Generated differential run (test/jinja/generated.ts): every case rendered by Python's Jinja2 3.1
 * (one python3 process) and by ours with LAVA_CONTEXT; same text, or both raise the same exception
 * type. Memory addresses in reprs (`at 0x7f...`) are compared as `0x?`. Known differences are excluded by name, not silently:
 * GENERATED_KNOWN lists each with the reason (src/jinja/README.md, "Known differences").
 */
import { afterAll, describe, expect, test } from "bun:test";
import { needs } from "../support/availability.ts";
import { generatedCases } from "./generated.ts";
import { GENERATED_KNOWN } from "./generated-known.ts";
import { type Result, LAVA_CONTEXT, TEST_TZ, agree, pythonJinjaAvailable, renderWithPython, renderWithUs } from "./harness.ts";

const savedTz = process.env.TZ;
process.env.TZ = TEST_TZ;
afterAll(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

const groups = generatedCases();
const present = needs("python3 with jinja2 and dateutil", pythonJinjaAvailable(), "differential tests compare against Python's Jinja2");
const all = Object.values(groups).flat();
const theirs: Result[] = present ? renderWithPython(all.map((template) => ({ template, context: LAVA_CONTEXT }))) : [];

const address = (r: Result): Result => ("ok" in r ? { ok: r.ok.replace(/ at 0x[0-9a-f]+/g, " at 0x?") } : r);

describe.if(present)(`generated differential cases (${all.length})`, () => {
  test("at least 1,000 generated cases", () => {
    expect(all.length).toBeGreaterThanOrEqual(1000);
    expect(new Set(all).size).toBe(all.length);
  });
  let offset = 0;
  for (const [name, cases] of Object.entries(groups)) {
    const start = offset;
    offset += cases.length;
    test(`${name} (${cases.length} cases)`, () => {
      const mismatches: string[] = [];
      cases.forEach((template, i) => {
        const expected = address(theirs[start + i] as Result);
        const ours = address(renderWithUs({ template, context: LAVA_CONTEXT }));
        // Beyond the corpus rule (both raise), a generated case must raise the same Python exception type.
        const same = agree(ours, expected) && (!("error" in expected) || ("error" in ours && ours.error === expected.error));
        if (GENERATED_KNOWN.has(template)) {
          if (same) mismatches.push(`listed as known but agrees now: ${JSON.stringify(template)}`);
        } else if (!same) mismatches.push(`template: ${JSON.stringify(template)}\n  python: ${JSON.stringify(expected)}\n  ours:   ${JSON.stringify(ours)}`);
      });
      if (mismatches.length) console.log(mismatches.join("\n"));
      expect(mismatches).toEqual([]);
    });
  }
});
