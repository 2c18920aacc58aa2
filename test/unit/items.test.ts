import { describe, expect, test } from "bun:test";
import { ItemError, checkItem, jobWarnings, parseConnectionItem, parseJobItem, parseRealmItem, parseS3TriggerItem } from "../../src/core/items.ts";

function itemErrorOf(fn: () => unknown): ItemError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ItemError) return e;
    throw e;
  }
  throw new Error("no ItemError");
}
const fieldOf = (fn: () => unknown): string => itemErrorOf(fn).field;
const recordTextOf = (fn: () => unknown): string => itemErrorOf(fn).recordText;

const job = { job_id: "r/j", type: "cmd", worker: "core", payload: "true" };

describe("parseJobItem", () => {
  test("fills the worker's defaults", () => {
    expect(parseJobItem(job)).toEqual({ ...job, owner: "", description: "", enabled: false, max_tries: 0, parameters: {}, globals: {}, state: {} });
  });

  test("keeps given values and x- keys", () => {
    const spec = parseJobItem({ ...job, enabled: "{{ true }}", max_tries: 3, "x-note": 1, schedule: [{ crontab: "0 1 * * *", from: "2026-01-01" }, "5 4 * * *"] });
    expect(spec.enabled).toBe("{{ true }}");
    expect(spec.max_tries).toBe(3);
    expect(spec["x-note"]).toBe(1);
  });

  test.each([
    [{ type: "cmd", worker: "w", payload: 1 }, "job_id"],
    [{ job_id: "j", worker: "w", payload: 1 }, "type"],
    [{ job_id: "j", type: "t", payload: 1 }, "worker"],
    [{ job_id: "j", type: "t", worker: "w" }, "payload"],
    [{ ...job, job_id: "" }, "job_id"],
    [{ ...job, worker: 3 }, "worker"],
    [{ ...job, enabled: 1 }, "enabled"],
    [{ ...job, parameters: [] }, "parameters"],
    [{ ...job, globals: { LavaX: 1 } }, "globals.LavaX"],
    [{ ...job, iteration_limit: 0 }, "iteration_limit"],
    [{ ...job, iteration_limit: 1.5 }, "iteration_limit"],
    [{ ...job, iteration_delay: "soon" }, "iteration_delay"],
    [{ ...job, max_run_delay: [] }, "max_run_delay"],
    [{ ...job, max_tries: -1 }, "max_tries"],
    [{ ...job, schedule: "daily" }, "schedule"],
    [{ ...job, schedule: { from: "2026-01-01" } }, "schedule.crontab"],
    [{ ...job, schedule: [{ crontab: "* * * * *", when: 1 }] }, "schedule.0.when"],
    [{ ...job, schedule: { crontab: "* * * * *", to: "never" } }, "schedule.to"],
    [{ ...job, on_fail: [{ message: "x" }] }, "on_fail.0.action"],
    [{ ...job, on_success: { action: "log" } }, "on_success"],
    [{ ...job, cw_metrics: "yes" }, "cw_metrics"],
  ])("%p fails on field %p", (item, field) => {
    expect(fieldOf(() => parseJobItem(item))).toBe(field);
  });

  test("the error names kind, id and field", () => {
    expect(() => parseJobItem({ ...job, max_tries: "x" })).toThrow("job r/j: field max_tries: must be an integer");
  });

  test("warnings for unknown keys and missing owner/description", () => {
    expect(jobWarnings({ ...job, colour: 1, "x-ok": 1, owner: "o", description: "d" })).toEqual(["Unexpected keys: colour"]);
    expect(jobWarnings(job)).toEqual([
      "owner field will be mandatory in a future release",
      "description field will be mandatory in a future release",
    ]);
  });
});

describe("parseJobItem as the worker reads jobs (strict: false)", () => {
  const lenient = (item: unknown) => parseJobItem(item, { strict: false });

  test("same defaults as lava put", () => {
    expect(lenient(job)).toEqual(parseJobItem(job));
  });

  test("authoring checks are left to lava put", () => {
    const item = { ...job, schedule: "daily", iteration_limit: 0, on_success: { action: "log" }, cw_metrics: "yes", job_id: "" };
    expect(() => parseJobItem(item)).toThrow(ItemError);
    expect(lenient(item).job_id).toBe("");
  });

  test.each([
    [{ type: "cmd", payload: 1 }, "Bad job record: Missing keys: job_id, worker"],
    [{ ...job, globals: { LavaX: 1 } }, "Reserved global: LavaX"],
    [{ ...job, max_tries: "x" }, 'Bad job record: max_tries must be a number, not "x"'],
    [{ ...job, parameters: [] }, "Bad job record: parameters must be a map, not a list"],
    [{ ...job, enabled: 1 }, "Bad job record: enabled must be true, false or a Jinja string, not number 1"],
  ])("%p is refused with the worker's text %p", (item, text) => {
    expect(recordTextOf(() => lenient(item))).toBe(text);
  });

  test("the same reserved-global rule in both modes", () => {
    expect(fieldOf(() => lenient({ ...job, globals: { lava_x: 1 } }))).toBe("globals.lava_x");
    expect(fieldOf(() => parseJobItem({ ...job, globals: { lava_x: 1 } }))).toBe("globals.lava_x");
  });
});

describe("parseRealmItem", () => {
  const realm = { realm: "ref", s3_payloads: "s3://b/payloads", s3_temp: "s3://b/tmp" };
  test("typed result", () => {
    const info = parseRealmItem({ ...realm, s3_key: "alias/k", config: { cmd_timeout: "5m" }, "x-workers": {} });
    expect(info.realm).toBe("ref");
    expect(info.s3_key).toBe("alias/k");
    expect(info.config).toEqual({ cmd_timeout: "5m" });
    expect(info.item["x-workers"]).toEqual({});
  });
  test.each([
    [{ s3_payloads: "s3://b", s3_temp: "s3://b" }, "realm"],
    [{ ...realm, realm: "a-b" }, "realm"],
    [{ ...realm, s3_temp: undefined }, "s3_temp"],
    [{ ...realm, s3_payloads: "/local" }, "s3_payloads"],
    [{ ...realm, config: "x" }, "config"],
    [{ ...realm, config: { debug: "perhaps" } }, "config.DEBUG"],
    [{ ...realm, config: { pkg_max_payload_size: "20mb" } }, "config.PKG_MAX_PAYLOAD_SIZE"],
    [{ ...realm, config: { x: { nested: 1 } } }, "config.x"],
    [{ ...realm, on_fail: [{}] }, "on_fail.0.action"],
  ])("%p fails on %p", (item, field) => {
    const clean = Object.fromEntries(Object.entries(item).filter(([, v]) => v !== undefined));
    expect(fieldOf(() => parseRealmItem(clean))).toBe(field);
  });
  test("as the worker reads it: required fields only, the original's text", () => {
    expect(parseRealmItem({ ...realm, realm: "a-b", s3_temp: "/local" }, { strict: false }).realm).toBe("a-b");
    expect(recordTextOf(() => parseRealmItem({ realm: "ref" }, { strict: false }))).toBe("Bad realm record: Missing keys: s3_payloads, s3_temp");
  });
});

describe("parseConnectionItem", () => {
  test("enabled defaults to false; type-specific fields kept", () => {
    expect(parseConnectionItem({ conn_id: "c", type: "postgres", host: "h" })).toEqual({ conn_id: "c", type: "postgres", host: "h", enabled: false });
  });
  test.each([[{ type: "x" }, "conn_id"], [{ conn_id: "c" }, "type"], [{ conn_id: "c", type: "x", enabled: "yes" }, "enabled"]])("%p fails on %p", (item, field) => {
    expect(fieldOf(() => parseConnectionItem(item))).toBe(field);
  });
});

describe("parseS3TriggerItem", () => {
  const trig = { trigger_id: "t", bucket: "b", prefix: "in", job_id: "j", enabled: true };
  test("typed result with defaults", () => {
    expect(parseS3TriggerItem({ ...trig, delay: "2m", if_size_gt: "1KB", if_fnmatch: "*.csv" })).toEqual({
      ...trig, job_id: ["j"], parameters: {}, globals: {}, jinja: true, delay: 120, if_size_gt: 1000, if_fnmatch: ["*.csv"],
    });
  });
  test.each([
    [{ ...trig, enabled: undefined }, "enabled"],
    [{ ...trig, job_id: [] }, "job_id"],
    [{ ...trig, job_id: ["a", 2] }, "job_id.1"],
    [{ ...trig, prefix: "in/" }, "prefix"],
    [{ ...trig, delay: "16m" }, "delay"],
    [{ ...trig, colour: "red" }, "colour"],
    [{ ...trig, if_size_gt: "big" }, "if_size_gt"],
    [{ ...trig, jinja: "no" }, "jinja"],
  ])("%p fails on %p", (item, field) => {
    const clean = Object.fromEntries(Object.entries(item).filter(([, v]) => v !== undefined));
    expect(fieldOf(() => parseS3TriggerItem(clean))).toBe(field);
  });
  test("x- keys are allowed", () => {
    expect(() => parseS3TriggerItem({ ...trig, "x-who": "me" })).not.toThrow();
  });
});

test("checkItem returns the id of each kind; non-maps are refused", () => {
  expect(checkItem("job", job)).toBe("r/j");
  expect(checkItem("connection", { conn_id: "c", type: "x" })).toBe("c");
  expect(fieldOf(() => checkItem("job", ["not", "a", "map"]))).toBe("(item)");
});
