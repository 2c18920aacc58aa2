import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { basename, dirname } from "node:path";
import { shlexSplit } from "../../src/handlers/shlex.ts";
import { logJob } from "../../src/handlers/log.ts";
import { jobTypes } from "../../src/handlers/registry.ts";
import { downloadPayload } from "../../src/core/payload.ts";
import { getState, loadState, putState } from "../../src/core/state.ts";
import { pyJsonDumps as pythonJsonDumps } from "../../src/core/pyformat.ts";
import { realmTable } from "../../src/core/names.ts";
import { LavaConfig } from "../../src/core/config.ts";
import { BUCKET, openHarness, REALM, type Harness } from "./harness.ts";

// Expected values from Python 3.11 `shlex.split`.
const SHLEX: [string, string[]][] = [
  ["echo hello", ["echo", "hello"]],
  ["  a   b\tc\n", ["a", "b", "c"]],
  [`sh -c 'echo some-stdout; exit 3'`, ["sh", "-c", "echo some-stdout; exit 3"]],
  [`a"b c"d`, ["ab cd"]],
  [`'' ""`, ["", ""]],
  [`"a\\"b" "c\\\\d" "e\\f"`, [`a"b`, `c\\d`, `e\\f`]],
  [`a\\ b \\'c`, ["a b", "'c"]],
  [`'it''s' "{{ x }}"`, ["its", "{{ x }}"]],
  [`x # not a comment`, ["x", "#", "not", "a", "comment"]],
];

describe("shlexSplit (POSIX rules of Python's shlex.split)", () => {
  test.each(SHLEX)("%j", (input, expected) => {
    expect(shlexSplit(input)).toEqual(expected);
  });
  test("errors", () => {
    expect(() => shlexSplit("a 'b")).toThrow("No closing quotation");
    expect(() => shlexSplit('a "b')).toThrow("No closing quotation");
    expect(() => shlexSplit("a \\")).toThrow("No escaped character");
  });
});

let h: Harness;
beforeAll(async () => {
  h = await openHarness();
});
afterAll(async () => {
  await h.close();
});

describe("log job", () => {
  test("logs the spec as sorted, indented JSON at INFO and returns exit_status 0", async () => {
    const run = h.jobRun({ type: "log", job_id: "ref/log", parameters: { b: 1, a: "é" } });
    expect(await logJob.run(run)).toEqual({ exit_status: 0 });
    const rec = run.log.records.find((r) => r.message.startsWith("{"));
    expect(rec?.level).toBe("INFO");
    const parsed = JSON.parse(rec!.message);
    expect(Object.keys(parsed)).toEqual([...Object.keys(parsed)].sort());
    expect(parsed.parameters).toEqual({ a: "é", b: 1 });
    expect(rec!.message).toContain('\n    "description": ""');
    expect(rec!.message).toContain('"a": "\\u00e9"');
  });

  test("the registry loads every type lazily", async () => {
    for (const [name, load] of Object.entries(jobTypes)) expect((await load()).name).toBe(name);
  });
});

describe("payload downloader", () => {
  test("v2: one pld-<n>-XXXX.d dir per item, files sorted within, items in order; folder markers skipped", async () => {
    const base = `s3://${BUCKET}/payloads/pl`;
    await h.ports.objects.put(`${base}/one/z.sql`, "z");
    await h.ports.objects.put(`${base}/one/a.sql`, "a");
    await h.ports.objects.put(`${base}/two.sql`, "t");
    const run = h.jobRun({});
    const files = await downloadPayload(h.ports.objects, {
      payload: ["pl/two.sql", "pl/one/"],
      s3Payloads: `s3://${BUCKET}/payloads`,
      localDir: run.runDir,
      downloader: "v2",
      settlingSeconds: 0,
    });
    expect(files.map((f) => basename(f))).toEqual(["two.sql", "a.sql", "z.sql"]);
    expect(basename(dirname(files[0]!))).toMatch(/^pld-0-.+\.d$/);
    expect(basename(dirname(files[1]!))).toMatch(/^pld-1-.+\.d$/);
    expect(await Bun.file(files[2]!).text()).toBe("z");
  });

  test("v1: one string, files straight into the target dir, list refused", async () => {
    const run = h.jobRun({});
    const files = await downloadPayload(h.ports.objects, {
      payload: "pl/one/",
      s3Payloads: `s3://${BUCKET}/payloads`,
      localDir: run.runDir,
      downloader: "v1",
      settlingSeconds: 0,
    });
    expect(files).toEqual([`${run.runDir}/a.sql`, `${run.runDir}/z.sql`]);
    expect(readdirSync(run.runDir).sort()).toEqual(["a.sql", "z.sql"]);
    await expect(
      downloadPayload(h.ports.objects, { payload: ["x"], s3Payloads: `s3://${BUCKET}/payloads`, localDir: run.runDir, downloader: "v1", settlingSeconds: 0 }),
    ).rejects.toThrow("Payload must be string not list");
  });
});

describe("state", () => {
  const config = new LavaConfig({ STATE_TTL: "1h", STATE_MAX_TTL: "2h" }, {});
  const now = new Date("2026-01-02T03:04:05Z");

  test("json: stored as Python-style JSON text with timestamp, ttl (default STATE_TTL) and publisher", async () => {
    await putState(h.ports, REALM, { state_id: "s-json", value: { a: [1, "x"], b: null }, publisher: "me" }, { config, now });
    const item = await h.ports.tables.get(realmTable(REALM, "state"), { state_id: "s-json" });
    expect(item).toMatchObject({ state_id: "s-json", type: "json", value: '{"a": [1, "x"], "b": null}', publisher: "me", ttl: now.getTime() / 1000 + 3600 });
    expect(String(item!.timestamp)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
    expect(await getState(h.ports, REALM, "s-json")).toEqual({ a: [1, "x"], b: null });
  });

  test("timestamp is whole seconds even when the clock has milliseconds (as the original writes it)", async () => {
    await putState(h.ports, REALM, { state_id: "s-ms", value: 1 }, { config, now: new Date("2026-01-02T03:04:05.678Z") });
    const item = await h.ports.tables.get(realmTable(REALM, "state"), { state_id: "s-ms" });
    expect(String(item!.timestamp)).not.toContain(".");
    expect(new Date(String(item!.timestamp)).getTime()).toBe(new Date("2026-01-02T03:04:05Z").getTime());
  });

  test("ttl is capped at STATE_MAX_TTL", async () => {
    await putState(h.ports, REALM, { state_id: "s-ttl", value: 1, ttl: "30d" }, { config, now });
    const item = await h.ports.tables.get(realmTable(REALM, "state"), { state_id: "s-ttl" });
    expect(item!.ttl).toBe(now.getTime() / 1000 + 7200);
  });

  test("raw keeps the native value; secure is encrypted binary that decrypts back", async () => {
    await putState(h.ports, REALM, { state_id: "s-raw", value: { n: 3 }, type: "raw" }, { config, now });
    expect((await h.ports.tables.get(realmTable(REALM, "state"), { state_id: "s-raw" }))!.value).toEqual({ n: 3 });
    await putState(h.ports, REALM, { state_id: "s-sec", value: { password: "hunter2" }, type: "secure" }, { config, now });
    const stored = (await h.ports.tables.get(realmTable(REALM, "state"), { state_id: "s-sec" }))!.value;
    expect(stored).toBeInstanceOf(Uint8Array);
    expect(new TextDecoder().decode(stored as Uint8Array)).not.toContain("hunter2");
    expect(await getState(h.ports, REALM, "s-sec")).toEqual({ password: "hunter2" });
  });

  test("unknown type refused", async () => {
    await expect(putState(h.ports, REALM, { state_id: "x", value: 1, type: "weird" }, { config })).rejects.toThrow("weird: No such state type");
  });

  test("loadState replaces present ids and keeps defaults for missing ones", async () => {
    const state = await loadState(h.ports, REALM, { "s-json": "default", "s-missing": "kept" });
    expect(state).toEqual({ "s-json": { a: [1, "x"], b: null }, "s-missing": "kept" });
  });

  test("pythonJsonDumps matches json.dumps", () => {
    expect(pythonJsonDumps({ a: 1, b: [true, null, "é"], c: {} })).toBe('{"a": 1, "b": [true, null, "\\u00e9"], "c": {}}');
    expect(pythonJsonDumps({ a: [1] }, 1)).toBe('{\n "a": [\n  1\n ]\n}');
  });
});
