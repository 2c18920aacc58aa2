import { describe, expect, test } from "bun:test";
import { workerOptions } from "../../src/cli/commands/worker.ts";
import { UsageError } from "../../src/core/errors.ts";

const base = { realm: "r", worker: "w" };

describe("worker poll defaults", () => {
  test("an idle worker keeps one long poll open: wait 20, no sleep after an empty poll", () => {
    const opts = workerOptions(base);
    expect(opts.waitSeconds).toBe(20);
    expect(opts.sleepSeconds).toBe(0);
  });

  test("--batch listens the original's 10 s before deciding the queue is empty", () => {
    expect(workerOptions({ ...base, batch: true }).waitSeconds).toBe(10);
  });

  test("short polls (--wait 0) sleep the original's 10 s between empty polls rather than spin", () => {
    const opts = workerOptions({ ...base, wait: "0" });
    expect(opts.waitSeconds).toBe(0);
    expect(opts.sleepSeconds).toBe(10);
  });

  test("explicit --wait and --sleep win", () => {
    const opts = workerOptions({ ...base, wait: "5", sleep: "3" });
    expect([opts.waitSeconds, opts.sleepSeconds]).toEqual([5, 3]);
    expect(workerOptions({ ...base, wait: "0", sleep: "0" }).sleepSeconds).toBe(0);
  });

  test("--wait beyond SQS's 20 s is a usage error", () => {
    expect(() => workerOptions({ ...base, wait: "21" })).toThrow(UsageError);
  });
});
