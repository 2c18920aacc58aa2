/** The one retry policy: what it retries, how long it waits, when it stops. */
import { describe, expect, test } from "bun:test";
import { backoffMs, POLICIES, retry, retryingPorts, unretried, type RetryPolicy } from "../../src/core/retry.ts";
import {
  AccessDeniedError,
  ConditionFailedError,
  isRetryable,
  NotFoundError,
  PortError,
  ThrottledError,
  UnavailableError,
  ValidationError,
  type Ports,
} from "../../src/ports/index.ts";

const FAST: RetryPolicy = { attempts: 4, baseMs: 1, capMs: 2, totalMs: 10_000 };

function failing(errors: unknown[], value = "ok") {
  let calls = 0;
  return {
    fn: async () => {
      const err = errors[calls++];
      if (err) throw err;
      return value;
    },
    calls: () => calls,
  };
}

describe("classification", () => {
  test("throttling and unavailability are retryable; not found, access denied, validation, conditions and others are not", () => {
    expect(isRetryable(new ThrottledError("t"))).toBe(true);
    expect(isRetryable(new UnavailableError("u"))).toBe(true);
    for (const err of [
      new NotFoundError("n", { kind: "table", name: "t" }),
      new AccessDeniedError("a"),
      new ValidationError("v"),
      new ConditionFailedError("c"),
      new PortError("p"),
      new TypeError("bug"),
    ]) {
      expect(isRetryable(err)).toBe(false);
    }
  });
});

describe("retry", () => {
  test("a retryable error is tried again until it succeeds", async () => {
    const f = failing([new ThrottledError("t"), new UnavailableError("u")]);
    expect(await retry(f.fn, FAST)).toBe("ok");
    expect(f.calls()).toBe(3);
  });

  test("a permanent error is thrown at once", async () => {
    const err = new ValidationError("key too long");
    const f = failing([err]);
    expect(await retry(f.fn, FAST).catch((e: unknown) => e)).toBe(err);
    expect(f.calls()).toBe(1);
  });

  test("attempts are bounded: the last error is thrown", async () => {
    const last = new ThrottledError("4");
    const f = failing([new ThrottledError("1"), new ThrottledError("2"), new ThrottledError("3"), last, undefined]);
    expect(await retry(f.fn, FAST).catch((e: unknown) => e)).toBe(last);
    expect(f.calls()).toBe(4);
  });

  test("total time is bounded: no attempt starts past totalMs", async () => {
    const f = failing(Array.from({ length: 100 }, () => new ThrottledError("t")));
    const started = Date.now();
    await retry(f.fn, { attempts: Infinity, baseMs: 20, capMs: 20, totalMs: 100 }, { random: () => 0.99 }).catch(() => {});
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(f.calls()).toBeLessThanOrEqual(6);
  });

  test("a stop ends the back-off at once and throws the last error", async () => {
    const stop = new AbortController();
    const err = new UnavailableError("down");
    const f = failing(Array.from({ length: 100 }, () => err));
    setTimeout(() => stop.abort(), 30);
    const started = Date.now();
    const thrown = await retry(f.fn, POLICIES.eventWrite, { signal: stop.signal, random: () => 0.99 }).catch((e: unknown) => e);
    expect(thrown).toBe(err);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  test("back-off is full jitter under a doubling ceiling, capped", () => {
    const policy: RetryPolicy = { attempts: 10, baseMs: 100, capMs: 1_000, totalMs: Infinity };
    expect(backoffMs(policy, 1, () => 0.999)).toBe(99);
    expect(backoffMs(policy, 3, () => 0.999)).toBe(399);
    expect(backoffMs(policy, 8, () => 0.999)).toBe(999);
    expect(backoffMs(policy, 8, () => 0)).toBe(0);
  });

  test("onRetry is told each failed attempt before its back-off", async () => {
    const seen: number[] = [];
    await retry(failing([new ThrottledError("a"), new ThrottledError("b")]).fn, FAST, { onRetry: (_e, attempt) => seen.push(attempt) });
    expect(seen).toEqual([1, 2]);
  });
});

describe("retryingPorts", () => {
  function countingPorts() {
    let gets = 0;
    const ports = {
      backend: "local",
      tables: {
        async get() {
          gets++;
          throw new ThrottledError("slow down");
        },
      },
      queues: {},
      close: async () => {},
    } as unknown as Ports;
    return { ports, gets: () => gets };
  }

  test("table calls are retried under the policy; wrapping twice does not stack a second policy", async () => {
    const c = countingPorts();
    const once = retryingPorts(c.ports, { policy: FAST });
    const twice = retryingPorts(once, { policy: FAST });
    expect(unretried(twice)).toBe(c.ports);
    await twice.tables.get("t", { id: "x" }).catch(() => {});
    expect(c.gets()).toBe(FAST.attempts);
    expect(twice.backend).toBe("local");
  });
});
