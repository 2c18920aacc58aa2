/** Pure parts of the s3trigger lambda: record extraction, prefix walk, conditions, trigger validation. */
import { describe, expect, test } from "bun:test";
import { TtlCache, extractRecords, failedCondition, prefixWalk, unquotePlus, validateTrigger } from "../../src/lambdas/s3trigger-records.ts";
import { fnmatch } from "../../src/core/fnmatch.ts";

const notification = {
  eventSource: "aws:s3",
  eventTime: "2024-01-02T03:04:05.000Z",
  eventName: "ObjectCreated:Put",
  awsRegion: "ap-southeast-2",
  requestParameters: { sourceIPAddress: "10.1.2.3" },
  s3: { bucket: { name: "inbox" }, object: { key: "data/2024/a+b%2Cc.csv", size: 2048 } },
};

describe("record extraction", () => {
  test("notification records, also wrapped in SNS and SQS; keys are URL-decoded", () => {
    const sns = { Records: [{ EventSource: "aws:sns", Sns: { Message: JSON.stringify({ Records: [notification] }) } }] };
    const sqs = { Records: [{ eventSource: "aws:sqs", body: JSON.stringify(sns) }] };
    for (const event of [{ Records: [notification] }, sns, sqs]) {
      const [rec] = extractRecords(event);
      expect(rec!.info).toEqual({
        bucket: "inbox",
        key: "data/2024/a b,c.csv",
        size: 2048,
        source_ip: "10.1.2.3",
        event_time: new Date("2024-01-02T03:04:05.000Z"),
        event_type: "ObjectCreated:Put",
        aws_region: "ap-southeast-2",
      });
    }
  });

  test("EventBridge records: key as is, event type from detail-type and reason", () => {
    const [rec] = extractRecords({
      "detail-type": "Object Created",
      time: "2024-01-02T03:04:05Z",
      region: "us-east-1",
      detail: { bucket: { name: "inbox" }, object: { key: "a+b.csv", size: 5 }, reason: "PutObject", "source-ip-address": "bad" },
    });
    expect(rec!.info).toMatchObject({ key: "a+b.csv", event_type: "ObjectCreated:PutObject", source_ip: null, size: 5 });
  });

  test("test events are ignored; unknown shapes are errors", () => {
    expect(extractRecords({ Event: "s3:TestEvent" })).toEqual([]);
    expect(() => extractRecords({ Records: [{ eventSource: "aws:kinesis" }] })).toThrow("Unexpected event source");
    expect(() => extractRecords({ foo: 1 })).toThrow("Cannot determine event format");
  });

  test("unquote_plus", () => {
    expect(unquotePlus("a+b%20c%zz")).toBe("a b c%zz");
  });
});

describe("triggers", () => {
  test("prefix walk: the key, its parents, then *", () => {
    expect(prefixWalk("a/b/c.csv")).toEqual(["a/b/c.csv", "a/b", "a", "*"]);
  });

  test("fnmatch as Python's", () => {
    expect(fnmatch("data/x.csv", "*.csv")).toBe(true);
    expect(fnmatch("data/x.csv", "data/?.csv")).toBe(true);
    expect(fnmatch("x.CSV", "*.csv")).toBe(false);
    expect(fnmatch("b.txt", "[!a]*.txt")).toBe(true);
    expect(fnmatch("a.txt", "[!a]*.txt")).toBe(false);
  });

  const base = { trigger_id: "t1", bucket: "inbox", prefix: "data", job_id: "j", enabled: true };

  test("validation: defaults, unknown keys, delay range", () => {
    expect(validateTrigger({ ...base, "x-note": 1 }, 15)).toMatchObject({ jinja: true, delaySeconds: 0, conditions: [] });
    expect(() => validateTrigger({ ...base, colour: "red" }, 15)).toThrow("Unexpected keys: colour");
    expect(() => validateTrigger({ bucket: "b", prefix: "p" }, 15)).toThrow("Missing keys: enabled, job_id, trigger_id");
    expect(() => validateTrigger({ ...base, delay: "20m" }, 15)).toThrow("must be between 0 and 15 minutes");
  });

  test("conditions: globs, size, event type and their negations", () => {
    const [rec] = extractRecords({ Records: [notification] });
    const check = (extra: Record<string, unknown>) => failedCondition(validateTrigger({ ...base, ...extra }, 15), rec!.info);
    expect(check({ if_fnmatch: ["*.txt", "*.csv"], if_size_gt: "1K", if_event_type: "ObjectCreated:*" })).toBeUndefined();
    expect(check({ if_not_fnmatch: "*.csv" })).toBe("if_not_fnmatch");
    expect(check({ if_size_gt: "1MB" })).toBe("if_size_gt");
    expect(check({ if_not_event_type: "ObjectRemoved:*" })).toBeUndefined();
    expect(() => validateTrigger({ ...base, if_colour: "red" }, 15)).toThrow("Unexpected keys: if_colour");
  });

  test("TTL cache expires entries and honours size 0", () => {
    let now = 0;
    const cache = new TtlCache<number>(2, 1000, () => now);
    cache.set("a", 1);
    expect(cache.get("a")).toBe(1);
    now = 1000;
    expect(cache.get("a")).toBeUndefined();
    const off = new TtlCache<number>(0, 1000, () => now);
    off.set("a", 1);
    expect(off.get("a")).toBeUndefined();
  });
});
