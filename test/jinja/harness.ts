/**
 * Differential-test support: renders cases with Python's Jinja2 (one python3 process per batch)
 * and with ours, from the same encoded context.
 */
import { join } from "node:path";
import { PyDate, PyDateTime, PyFloat, PyTimedelta, TemplateError, makeUtils, pyDecimal, renderTemplate, tuple } from "../../src/jinja/index.ts";
import { UTC, localZoneName, zoneTz } from "../../src/jinja/zones.ts";
import { commandWorks } from "../support/availability.ts";

export const TEST_TZ = "Australia/Sydney";

export interface Case {
  template: string;
  context?: unknown;
  autoescape?: boolean;
}

export type Result = { ok: string } | { error: string; message: string };

export const pythonJinjaAvailable = (): boolean => commandWorks(["python3", "-c", "import jinja2, dateutil"]);

/** Renders all cases with Python in a single process. */
export function renderWithPython(cases: Case[]): Result[] {
  const proc = Bun.spawnSync(["python3", join(import.meta.dir, "pyrender.py")], {
    stdin: new TextEncoder().encode(JSON.stringify({ cases })),
    env: { ...process.env, TZ: TEST_TZ },
  });
  if (proc.exitCode !== 0) throw new Error(`pyrender.py failed: ${proc.stderr.toString()}`);
  return (JSON.parse(proc.stdout.toString()) as { results: Result[] }).results;
}

/** Our side of the encoding pyrender.py decodes. */
export function decode(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decode);
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if ("$dt" in o) {
      const [y, mo, d, h = 0, mi = 0, s = 0, us = 0] = o.$dt as number[];
      const tz = o.tz as string | null | undefined;
      const zone = tz === undefined || tz === null ? null : tz === "UTC" ? UTC : tz === "local" ? zoneTz(localZoneName(), "tzlocal") : zoneTz(tz);
      return new PyDateTime(y as number, mo as number, d as number, h, mi, s, us, zone);
    }
    if ("$date" in o) {
      const [y, m, d] = o.$date as number[];
      return new PyDate(y as number, m as number, d as number);
    }
    if ("$td" in o) {
      const [d = 0, s = 0, us = 0] = o.$td as number[];
      return PyTimedelta.of({ days: d, seconds: s, us });
    }
    if ("$tuple" in o) return tuple((o.$tuple as unknown[]).map(decode));
    if ("$float" in o) return new PyFloat(o.$float as number);
    if ("$decimal" in o) return pyDecimal(o.$decimal as string);
    if ("$utils" in o) return makeUtils();
    return new Map(Object.entries(o).map(([k, x]) => [k, decode(x)]));
  }
  return v;
}

export function renderWithUs(c: Case): Result {
  try {
    const ctx = decode(c.context ?? {}) as Map<string, unknown>;
    return { ok: renderTemplate(c.template, ctx, { autoescape: c.autoescape }) };
  } catch (e) {
    if (e instanceof TemplateError) return { error: e.pyType, message: e.detail };
    return { error: `CRASH:${(e as Error).name}`, message: (e as Error).stack ?? String(e) };
  }
}

/** Same text, or both raised an error. */
export function agree(ours: Result, theirs: Result): boolean {
  if ("ok" in ours && "ok" in theirs) return ours.ok === theirs.ok;
  return "error" in ours && "error" in theirs && !ours.error.startsWith("CRASH");
}

/** Numbers as boto3 reads them from DynamoDB (Decimal) next to JSON ints/floats. */
export const DECIMAL_CONTEXT = {
  d: { $decimal: "1.50" },
  n: { $decimal: "5" },
  one: { $decimal: "1" },
  neg: { $decimal: "-2.75" },
  big: { $decimal: "12345678901234567890.123456789" },
  tiny: { $decimal: "0.0000001" },
  sci: { $decimal: "1E+3" },
  zero: { $decimal: "0" },
  half: { $decimal: "2.5" },
  i: 3,
  f: 2.5,
  job: { parameters: { n: { $decimal: "5" }, m: 7, rate: { $decimal: "0.25" }, tags: [{ $decimal: "1" }, "a"] } },
  nums: [{ $decimal: "3" }, { $decimal: "1.5" }, { $decimal: "2" }],
  empty: [],
};

/** The lava-like context the documented vectors use. */
export const LAVA_CONTEXT = {
  start: { $dt: [2024, 3, 15, 9, 30, 0, 0], tz: "local" },
  ustart: { $dt: [2024, 3, 14, 22, 30, 0, 0], tz: "UTC" },
  utils: { $utils: true },
  realm: { realm: "dev", s3_temp: "s3://tmp-bucket/lava/tmp", s3_payloads: "s3://pl-bucket/lava/payloads" },
  globals: {
    a: "Tattarrattat",
    g1: "v1",
    g2: "2",
    n: 5,
    f: 2.5,
    one: { $float: 1 },
    lava: { iteration: 1, master_ustart: { $dt: [2024, 3, 14, 22, 30, 0, 0], tz: "UTC" } },
    s3obj: { Bucket: "my-bucket", Key: "a/prefix/x.csv" },
  },
  state: { sid: "2000-01-01T00:00:00Z", x: { x: "7" }, lines: { lines: "45" } },
  job: { job_id: "demo/j1", run_id: "0000-run", parameters: { file: "s3://my-bucket/x.csv", vars: { level: "info" } }, globals: { a_global: "ag" } },
  vars: { wait_mins: 60, realm: "dev", up_days: 7, cmd: "date", level: "info" },
  items: [3, 1, 2],
  words: ["banana", "Apple", "cherry", "apple"],
  users: [
    { name: "bob", age: 30, city: "Sydney" },
    { name: "alice", age: 25, city: "Perth" },
    { name: "carol", age: 35, city: "Sydney" },
  ],
  d: { b: 2, a: 1, c: 3 },
  s: "  Hello, World  ",
  html: "<b>bold</b> & 'quotes'",
  empty: [],
  none: null,
  t: { $tuple: [1, "two", 3.5] },
  dt: { $dt: [2024, 2, 29, 23, 59, 58, 123456], tz: null },
  day: { $date: [2024, 1, 31] },
  td: { $td: [1, 3661, 500] },
};
