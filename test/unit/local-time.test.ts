import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { isoLocal } from "../../src/core/pyformat.ts";
import { parseRule } from "../../src/core/local-time.ts";
import { needs } from "../support/availability.ts";

const CHECK = join(import.meta.dir, "..", "support", "local-time-check.ts");

/** Runs the checker under `tz` (undefined: TZ unset) in its own process, as Bun reads TZ at start-up too. */
async function check(tz: string | undefined): Promise<{ decided: boolean; compared: number; mismatches: string[] }> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
  if (tz !== undefined) env.TZ = tz;
  const child = Bun.spawn([process.execPath, CHECK], { env, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  expect(err).toBe("");
  expect(code).toBe(0);
  return JSON.parse(out);
}

const zoneFiles = needs("zone files in /usr/share/zoneinfo", existsSync("/usr/share/zoneinfo/America/New_York"), "the tzdata package");

describe.if(zoneFiles)("local time from the zone files agrees with Bun's (ICU's), 1970-2100, to the second", () => {
  // Zones whose rules have been stable in the tz database for years (so any recent tzdata agrees with
  // ICU's copy): negative DST (Dublin), half-hour DST (Lord_Howe), 45-minute offsets (Chatham), DST at
  // 24:00+ (Jerusalem, M3.4.4/26), DST of two hours (Troll), the southern hemisphere, a link, TZ syntax.
  const decided = [
    "America/New_York",
    "Europe/Dublin",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Asia/Jerusalem",
    "Antarctica/Troll",
    "Australia/Sydney",
    "America/St_Johns",
    "Asia/Kolkata",
    "US/Eastern",
    ":Europe/Paris",
    "posix/Europe/Paris",
    "Etc/GMT+5",
    "UTC",
    "",
  ];
  for (const tz of decided) {
    test(`TZ=${JSON.stringify(tz)}`, async () => {
      const r = await check(tz);
      expect(r.mismatches).toEqual([]);
      expect(r.compared).toBeGreaterThan(180_000);
      expect(r.decided).toBe(true);
    }, 30_000);
  }

  test("TZ unset: the zone /etc/localtime links to", async () => {
    const r = await check(undefined);
    expect(r.mismatches).toEqual([]);
  }, 30_000);

  // What Bun resolves differently from the files (an unknown name or a POSIX rule is UTC to Bun, CET is
  // Europe/Brussels, a path is not a zone name) is left to ICU, and so still agrees.
  for (const tz of ["Foo/Bar", "JST-9", "EST5EDT,M3.2.0,M11.1.0", "CET", "/usr/share/zoneinfo/Europe/Paris", "localtime"]) {
    test(`TZ=${JSON.stringify(tz)} is left to ICU`, async () => {
      const r = await check(tz);
      expect(r.mismatches).toEqual([]);
      expect(r.decided).toBe(false);
    }, 30_000);
  }
});

describe("POSIX TZ rules (RFC 8536 footers)", () => {
  test("offsets east of UTC; J, n and M dates; times past 24:00 and negative", () => {
    expect(parseRule("UTC0")).toEqual({ std: 0 });
    expect(parseRule("<+0530>-5:30")).toEqual({ std: 19800 });
    expect(parseRule("EST5EDT,M3.2.0,M11.1.0")).toEqual({
      std: -18000,
      dst: { offset: -14400, start: { kind: "M", month: 3, week: 2, weekday: 0, time: 7200 }, end: { kind: "M", month: 11, week: 1, weekday: 0, time: 7200 } },
    });
    expect(parseRule("<-02>2<-01>,M3.5.0/-1,M10.5.0/0")?.dst?.start.time).toBe(-3600);
    expect(parseRule("IST-2IDT,M3.4.4/26,M10.5.0")?.dst?.start.time).toBe(26 * 3600);
    expect(parseRule("EST5EDT,0/0,J365/25")?.dst).toEqual({ offset: -14400, start: { kind: "n", day: 0, time: 0 }, end: { kind: "J", day: 365, time: 25 * 3600 } });
  });

  test("what a footer may not hold is not decided here", () => {
    expect(parseRule("EST5EDT")).toBeUndefined(); // DST without its dates
    expect(parseRule("X5")).toBeUndefined(); // a name of fewer than three letters
    expect(parseRule("EST5EDT,M13.1.0,M11.1.0")).toBeUndefined();
    expect(parseRule("EST5EDT,M3.2.0")).toBeUndefined();
  });
});

test("isoLocal in a zone with DST: the offset changes at the transition", () => {
  const tz = process.env.TZ;
  process.env.TZ = "America/New_York";
  try {
    expect(isoLocal(new Date("2026-03-08T06:59:59Z"))).toBe("2026-03-08T01:59:59-05:00");
    expect(isoLocal(new Date("2026-03-08T07:00:00Z"))).toBe("2026-03-08T03:00:00-04:00");
    expect(isoLocal(new Date("2026-11-01T05:59:59.5Z"))).toBe("2026-11-01T01:59:59.500000-04:00");
    expect(isoLocal(new Date("2026-11-01T06:00:00Z"))).toBe("2026-11-01T01:00:00-05:00");
  } finally {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  }
});
