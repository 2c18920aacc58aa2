import { expect, test } from "bun:test";
import { isoLocal, pyJsonDumps } from "../../src/core/pyformat.ts";
import { Ticker } from "../../src/core/worker/ticker.ts";

test("pyJsonDumps writes what Python's json.dumps writes", () => {
  expect(pyJsonDumps({ a: 1, b: [true, null, "é"], c: {}, d: [] })).toBe('{"a": 1, "b": [true, null, "\\u00e9"], "c": {}, "d": []}');
  // Python float repr: exponent below 1e-4 with two exponent digits.
  expect(pyJsonDumps([2.5, 1e-5, -0.0001])).toBe("[2.5, 1e-05, -0.0001]");
  expect(pyJsonDumps({ a: [1] }, 1)).toBe('{\n "a": [\n  1\n ]\n}');
  expect(pyJsonDumps({ gone: undefined, kept: 0 })).toBe('{"kept": 0}');
  expect(pyJsonDumps({ t: { isoformat: () => "2026-01-02T03:04:05+00:00" } })).toBe('{"t": "2026-01-02T03:04:05+00:00"}');
  expect(() => pyJsonDumps({ b: new Uint8Array(1) })).toThrow("Object of type bytes is not JSON serializable");
});

test("isoLocal is Python's isoformat(): microseconds only when non-zero, zone offset always", () => {
  const tz = process.env.TZ;
  process.env.TZ = "UTC";
  try {
    expect(isoLocal(new Date("2026-11-27T17:42:06Z"))).toBe("2026-11-27T17:42:06+00:00");
    expect(isoLocal(new Date("2026-11-27T17:42:06.25Z"))).toBe("2026-11-27T17:42:06.250000+00:00");
    expect(pyJsonDumps([new Date("2026-11-27T17:42:06Z")])).toBe('["2026-11-27T17:42:06+00:00"]');
  } finally {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  }
});

test("Ticker: ticks until its task says stop; a stop() during a tick is not undone", async () => {
  let n = 0;
  await new Promise<void>((resolve) => {
    const t = new Ticker(1, async () => {
      n++;
      if (n === 3) resolve();
      return n < 3;
    });
    t.start();
  });
  await Bun.sleep(20);
  expect(n).toBe(3);

  let m = 0;
  const t2: Ticker = new Ticker(1, async () => {
    m++;
    t2.stop();
    return true;
  });
  t2.start();
  await Bun.sleep(30);
  expect(m).toBe(1);
});
