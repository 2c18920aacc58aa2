/**
 * Python ints beyond JS's exact integer range. Template ints are JS numbers while they are safe
 * integers; a literal, an int() of text or an int result (+, -, *, //, %, **) that leaves the safe range
 * becomes a PyBigInt holding the exact value, and results that come back into range are numbers again.
 */
import { PyError } from "./errors.ts";
import { type BinOp, NOT_IMPL, PyFloat, PyObject, mkFloat } from "./values.ts";

/** CPython's limit on int → str conversion (sys.get_int_max_str_digits()). */
const MAX_STR_DIGITS = 4300;

export class PyBigInt extends PyObject {
  readonly pyType = "int";
  constructor(readonly n: bigint) {
    super();
  }
  repr(): string {
    const s = this.n.toString();
    if (s.replace("-", "").length > MAX_STR_DIGITS) {
      throw new PyError("ValueError", `Exceeds the limit (${MAX_STR_DIGITS} digits) for integer string conversion; use sys.set_int_max_str_digits() to increase the limit`);
    }
    return s;
  }
  /** The nearest float, where a number is needed (float(), formatting with a float spec). */
  toNumber(): number {
    return Number(this.n);
  }
  override truthy(): boolean {
    return this.n !== 0n;
  }
  override hashKey(): string | number {
    return `\u0000int${this.n}`;
  }
  override eq(other: unknown): boolean {
    const o = bigOf(other);
    if (o !== null) return o === this.n;
    const f = floatOf(other);
    return f !== null && Number.isInteger(f) && BigInt(f) === this.n;
  }
  override cmp(other: unknown): number | undefined {
    const o = bigOf(other);
    if (o !== null) return this.n < o ? -1 : this.n > o ? 1 : 0;
    const f = floatOf(other);
    if (f === null) return undefined;
    if (Number.isNaN(f)) return NaN;
    if (!Number.isFinite(f)) return f > 0 ? -1 : 1;
    const fb = BigInt(Math.floor(f));
    if (this.n !== fb) return this.n < fb ? -1 : 1;
    return Number.isInteger(f) ? 0 : -1;
  }
  override unary(op: "-" | "+"): unknown {
    return op === "-" ? normInt(-this.n) : this;
  }
  override binop(op: BinOp, other: unknown, reflected: boolean): unknown {
    const o = bigOf(other);
    if (o !== null) return reflected ? intOp(op, o, this.n) : intOp(op, this.n, o);
    const f = floatOf(other);
    if (f === null) return NOT_IMPL;
    const [x, y] = reflected ? [f, this.toNumber()] : [this.toNumber(), f];
    return floatOp(op, x, y);
  }
  override format(spec: string): string | undefined {
    const m = /^([<>^=]?)([+\- ]?)(\d*)([,_]?)d?$/.exec(spec);
    if (!m) return undefined;
    const [, align, sign, width, group] = m as unknown as [string, string, string, string, string];
    let digits = (this.n < 0n ? -this.n : this.n).toString();
    if (group) digits = digits.replace(/\B(?=(\d{3})+(?!\d))/g, group);
    const text = (this.n < 0n ? "-" : sign === "+" ? "+" : sign === " " ? " " : "") + digits;
    const w = Number(width || 0);
    if (text.length >= w) return text;
    const pad = " ".repeat(w - text.length);
    return align === "<" ? text + pad : align === "^" ? pad.slice(0, Math.floor(pad.length / 2)) + text + pad.slice(Math.floor(pad.length / 2)) : pad + text;
  }
}

/** A safe integer as a number, anything larger as a PyBigInt. */
export function normInt(n: bigint): number | PyBigInt {
  return n >= -9007199254740991n && n <= 9007199254740991n ? Number(n) : new PyBigInt(n);
}

/** The exact value of an int operand (number, bool, PyBigInt), or null. */
export function bigOf(v: unknown): bigint | null {
  if (v instanceof PyBigInt) return v.n;
  if (typeof v === "boolean") return v ? 1n : 0n;
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  return null;
}

function floatOf(v: unknown): number | null {
  if (v instanceof PyFloat) return v.v;
  if (typeof v === "number" && !Number.isInteger(v)) return v;
  return null;
}

function zero(float: boolean): never {
  throw new PyError("ZeroDivisionError", float ? "float division by zero" : "integer division or modulo by zero");
}

/** Python int arithmetic, exact. */
export function intOp(op: BinOp, a: bigint, b: bigint): unknown {
  switch (op) {
    case "+":
      return normInt(a + b);
    case "-":
      return normInt(a - b);
    case "*":
      return normInt(a * b);
    case "/": {
      if (b === 0n) throw new PyError("ZeroDivisionError", "division by zero");
      const q = a / b;
      return mkFloat(Number(q) + Number(a - q * b) / Number(b));
    }
    case "//": {
      if (b === 0n) zero(false);
      const q = a / b;
      return normInt(a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q);
    }
    case "%": {
      if (b === 0n) zero(false);
      const r = a % b;
      return normInt(r !== 0n && r < 0n !== b < 0n ? r + b : r);
    }
    case "**": {
      if (b < 0n) {
        if (a === 0n) throw new PyError("ZeroDivisionError", "0.0 cannot be raised to a negative power");
        return mkFloat(Number(a) ** Number(b));
      }
      const bits = Number(b) * Math.log2(Math.abs(Number(a)) || 1);
      if (bits > 1e6) throw new PyError("OverflowError", "integer power too large for a template");
      return normInt(a ** b);
    }
  }
}

function floatOp(op: BinOp, x: number, y: number): unknown {
  switch (op) {
    case "+":
      return mkFloat(x + y);
    case "-":
      return mkFloat(x - y);
    case "*":
      return mkFloat(x * y);
    case "/":
      if (y === 0) zero(true);
      return mkFloat(x / y);
    case "//":
      if (y === 0) zero(true);
      return mkFloat(Math.floor(x / y));
    case "%": {
      if (y === 0) zero(true);
      let r = x % y;
      if (r !== 0 && r < 0 !== y < 0) r += y;
      return mkFloat(r);
    }
    case "**":
      return mkFloat(x ** y);
  }
}
