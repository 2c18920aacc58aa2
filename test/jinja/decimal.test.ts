/** fromDynamo / pyDecimal: table data as boto3 gives it to the original's templates. */
import { describe, expect, test } from "bun:test";
import { PyDecimal, fromDynamo, pyDecimal, pyRepr, renderTemplate } from "../../src/jinja/index.ts";

describe("fromDynamo", () => {
  test("numbers become Decimals through lists and maps; other values are unchanged", () => {
    const bin = new Uint8Array([1, 2]);
    const when = new Date(0);
    const out = fromDynamo({ n: 5, f: 1.5, s: "5", b: true, z: null, bin, when, xs: [1, { y: 2 }] }) as Record<string, unknown>;
    expect(pyRepr(out.n)).toBe("Decimal('5')");
    expect(pyRepr(out.f)).toBe("Decimal('1.5')");
    expect([out.s, out.b, out.z, out.bin, out.when]).toEqual(["5", true, null, bin, when]);
    expect(out.bin).toBe(bin);
    expect(pyRepr(out.xs)).toBe("[Decimal('1'), {'y': Decimal('2')}]");
  });

  test("pyDecimal keeps the written exponent; a JS number uses its shortest form", () => {
    expect(pyDecimal("1.50").str()).toBe("1.50");
    expect(pyDecimal(1.5).str()).toBe("1.5");
    expect(pyDecimal(1e21).str()).toBe("1E+21");
    expect(pyDecimal("-0").repr()).toBe("Decimal('-0')");
    expect(() => pyDecimal("abc")).toThrow();
    expect(pyDecimal(5)).toBeInstanceOf(PyDecimal);
  });

  test("a Decimal key finds the equal int key, as Python's hash does", () => {
    expect(renderTemplate("{{ m[k] }} {{ {k: 1}[5] }}", { m: new Map([[5, "five"]]), k: pyDecimal("5.0") })).toBe("five 1");
  });
});
