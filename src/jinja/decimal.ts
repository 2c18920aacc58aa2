/**
 * Python's decimal.Decimal under the default context (28 significant digits, ROUND_HALF_EVEN), as
 * boto3 hands every DynamoDB number to lava's templates. A value is sign, BigInt coefficient and
 * exponent (value = ±coef × 10^exp), so `Decimal('1.50')` keeps its trailing zero like Python's.
 * Covered: printing, + - * / // % and integer powers, comparisons and equality with int/float,
 * hashing equal to int/float, and __format__. NaN/Infinity are not representable (DynamoDB has none).
 */
import { PyError, valueError } from "./errors.ts";
import { type BinOp, MISSING, NOT_IMPL, PyFloat, PyFunction, PyObject, isInt, num } from "./values.ts";
import { pad, parseSpec } from "./format.ts";

const PREC = 28;
const TEN = 10n;

const pow10 = (n: number): bigint => TEN ** BigInt(n);
const digitCount = (c: bigint): number => (c === 0n ? 1 : c.toString().length);

function decimalError(kind: "InvalidOperation" | "DivisionByZero" | "DivisionUndefined"): PyError {
  const pyType = kind === "DivisionByZero" ? "DivisionByZero" : "InvalidOperation";
  return new PyError(pyType, `[<class 'decimal.${kind}'>]`);
}

/** Rounds a coefficient to `keep` digits, half-even; returns the new coefficient and how many digits were dropped. */
function roundDigits(coef: bigint, keep: number): [bigint, number] {
  const n = digitCount(coef);
  if (n <= keep) return [coef, 0];
  let drop = n - keep;
  const divisor = pow10(drop);
  let q = coef / divisor;
  const r = coef % divisor;
  const half = divisor / 2n;
  if (r > half || (r === half && q % 2n === 1n)) q += 1n;
  if (digitCount(q) > keep) {
    q /= TEN;
    drop += 1;
  }
  return [q, drop];
}

/** The exact decimal value of a finite double (Python's Decimal.from_float). */
function exactFloat(x: number): PyDecimal {
  if (Number.isInteger(x)) return new PyDecimal(x < 0 || Object.is(x, -0), BigInt(Math.abs(x)), 0);
  let m = Math.abs(x);
  let k = 0;
  while (!Number.isInteger(m)) {
    m *= 2;
    k++;
  }
  return new PyDecimal(x < 0, BigInt(m) * 5n ** BigInt(k), -k);
}

/** Another operand as a Decimal: ints and bools convert exactly; anything else is not supported. */
function coerce(v: unknown): PyDecimal | undefined {
  if (v instanceof PyDecimal) return v;
  if (isInt(v)) return exactFloat(num(v));
  return undefined;
}

export class PyDecimal extends PyObject {
  readonly pyType = "decimal.Decimal";
  constructor(
    readonly neg: boolean,
    /** Magnitude, never negative. */
    readonly coef: bigint,
    readonly exp: number,
  ) {
    super();
  }

  /** Applies the context: at most 28 significant digits, half-even. */
  static fixed(neg: boolean, coef: bigint, exp: number): PyDecimal {
    const [c, drop] = roundDigits(coef, PREC);
    return new PyDecimal(neg, c, exp + drop);
  }

  isZero(): boolean {
    return this.coef === 0n;
  }

  /** Signed coefficient scaled to exponent `e` (e <= this.exp). */
  private scaled(e: number): bigint {
    const c = this.coef * pow10(this.exp - e);
    return this.neg ? -c : c;
  }

  /** The value as a double (Python's float(d)). */
  toNumber(): number {
    return Number(this.sci());
  }

  /** The integer part, truncated toward zero (Python's int(d)). */
  toBigInt(): bigint {
    const c = this.exp >= 0 ? this.coef * pow10(this.exp) : this.coef / pow10(-this.exp);
    return this.neg ? -c : c;
  }

  /** Python's int(d) as a template int. */
  toInt(): number {
    return Number(this.toBigInt());
  }

  isIntegral(): boolean {
    return this.exp >= 0 || this.coef % pow10(-this.exp) === 0n;
  }

  /** Python's to_sci_string (what str() prints). */
  sci(): string {
    const d = this.coef.toString();
    const leftdigits = this.exp + d.length;
    const dotplace = this.exp <= 0 && leftdigits > -6 ? leftdigits : 1;
    let intpart: string;
    let fracpart: string;
    if (dotplace <= 0) {
      intpart = "0";
      fracpart = `.${"0".repeat(-dotplace)}${d}`;
    } else if (dotplace >= d.length) {
      intpart = d + "0".repeat(dotplace - d.length);
      fracpart = "";
    } else {
      intpart = d.slice(0, dotplace);
      fracpart = `.${d.slice(dotplace)}`;
    }
    const e = leftdigits - dotplace;
    const expText = e === 0 ? "" : `E${e > 0 ? "+" : "-"}${Math.abs(e)}`;
    return `${this.neg ? "-" : ""}${intpart}${fracpart}${expText}`;
  }

  override str(): string {
    return this.sci();
  }

  repr(): string {
    return `Decimal('${this.sci()}')`;
  }

  override truthy(): boolean {
    return !this.isZero();
  }

  /** Exact three-way comparison with an int, float or Decimal; undefined for other types. */
  compareTo(other: unknown): number | undefined {
    let o = coerce(other);
    if (!o) {
      if (!(other instanceof PyFloat) && typeof other !== "number") return undefined;
      const x = num(other);
      if (Number.isNaN(x)) return NaN;
      if (!Number.isFinite(x)) return x > 0 ? -1 : 1;
      o = exactFloat(x);
    }
    const e = Math.min(this.exp, o.exp);
    const a = this.scaled(e);
    const b = o.scaled(e);
    return a < b ? -1 : a > b ? 1 : 0;
  }

  override cmp(other: unknown): number | undefined {
    return this.compareTo(other);
  }

  override eq(other: unknown): boolean {
    return this.compareTo(other) === 0;
  }

  /** Equal to the int or float of the same value, as Python's hash(Decimal) is. */
  override hashKey(): string | number {
    if (this.isIntegral()) {
      const n = this.toBigInt();
      if (n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(n);
    }
    const x = this.toNumber();
    if (Number.isFinite(x) && exactFloat(x).compareTo(this) === 0) return x;
    return `\u0000Decimal:${this.normalized()}`;
  }

  private normalized(): string {
    if (this.isZero()) return "0";
    let c = this.coef;
    let e = this.exp;
    while (c % TEN === 0n) {
      c /= TEN;
      e++;
    }
    return `${this.neg ? "-" : ""}${c}e${e}`;
  }

  override binop(op: BinOp, other: unknown, reflected: boolean): unknown {
    const o = coerce(other);
    if (!o) return NOT_IMPL;
    const [a, b] = reflected ? [o, this] : [this, o];
    switch (op) {
      case "+":
        return add(a, b);
      case "-":
        return add(a, negate(b));
      case "*":
        return PyDecimal.fixed(a.neg !== b.neg, a.coef * b.coef, a.exp + b.exp);
      case "/":
        return divide(a, b);
      case "//":
        return divmod(a, b, "//")[0];
      case "%":
        return divmod(a, b, "%")[1];
      case "**":
        return power(a, b);
    }
  }

  override getAttr(name: string): unknown {
    switch (name) {
      case "is_integer":
      case "is_finite":
        return new PyFunction(name, () => (name === "is_finite" ? true : this.isIntegral()));
      case "is_signed":
        return new PyFunction(name, () => this.neg);
      case "is_zero":
        return new PyFunction(name, () => this.isZero());
      case "real":
        return this;
      case "imag":
        return new PyDecimal(false, 0n, 0);
    }
    return MISSING;
  }

  /** Python's round(d, n): quantize to exponent -n, half-even. */
  round(ndigits: number): PyDecimal {
    return this.rescale(-ndigits);
  }

  rescale(exp: number): PyDecimal {
    if (this.exp >= exp) return new PyDecimal(this.neg, this.coef * pow10(this.exp - exp), exp);
    const divisor = pow10(exp - this.exp);
    let q = this.coef / divisor;
    const r = this.coef % divisor;
    const half = divisor / 2n;
    if (r > half || (r === half && q % 2n === 1n)) q += 1n;
    return new PyDecimal(this.neg, q, exp);
  }

  /** Rounds to `digits` significant digits (half-even). */
  roundSignificant(digits: number): PyDecimal {
    const [c, drop] = roundDigits(this.coef, Math.max(1, digits));
    return new PyDecimal(this.neg, c, this.exp + drop);
  }

  /** Python's -d / +d: context-rounded, and a zero result is never negative. */
  override unary(op: "-" | "+"): PyDecimal {
    const neg = this.isZero() ? false : op === "-" ? !this.neg : this.neg;
    return PyDecimal.fixed(neg, this.coef, this.exp);
  }

  abs(): PyDecimal {
    return PyDecimal.fixed(false, this.coef, this.exp);
  }

  override format(spec: string): string {
    return formatDecimal(this, spec);
  }
}

function negate(d: PyDecimal): PyDecimal {
  return new PyDecimal(!d.neg, d.coef, d.exp);
}

function add(a: PyDecimal, b: PyDecimal): PyDecimal {
  const e = Math.min(a.exp, b.exp);
  const sum = a.coef * pow10(a.exp - e) * (a.neg ? -1n : 1n) + b.coef * pow10(b.exp - e) * (b.neg ? -1n : 1n);
  // An exact zero sum is positive unless both operands were negative (round-half-even context).
  const neg = sum === 0n ? a.neg && b.neg : sum < 0n;
  return PyDecimal.fixed(neg, sum < 0n ? -sum : sum, e);
}

function divide(a: PyDecimal, b: PyDecimal): PyDecimal {
  const neg = a.neg !== b.neg;
  if (b.isZero()) throw decimalError(a.isZero() ? "DivisionUndefined" : "DivisionByZero");
  const ideal = a.exp - b.exp;
  if (a.isZero()) return new PyDecimal(neg, 0n, ideal);
  const shift = digitCount(b.coef) - digitCount(a.coef) + PREC + 1;
  let exp = ideal - shift;
  let q: bigint;
  let r: bigint;
  if (shift >= 0) {
    const x = a.coef * pow10(shift);
    q = x / b.coef;
    r = x % b.coef;
  } else {
    const y = b.coef * pow10(-shift);
    q = a.coef / y;
    r = a.coef % y;
  }
  if (r !== 0n) {
    // A sticky digit: an inexact quotient never looks like an exact tie when rounded.
    if (q % 5n === 0n) q += 1n;
  } else {
    while (exp < ideal && q % TEN === 0n) {
      q /= TEN;
      exp++;
    }
  }
  return PyDecimal.fixed(neg, q, exp);
}

/** Decimal's // (truncating toward zero) and % (sign of the dividend). */
function divmod(a: PyDecimal, b: PyDecimal, op: "//" | "%"): [PyDecimal, PyDecimal] {
  if (b.isZero()) {
    if (op === "//" && !a.isZero()) throw decimalError("DivisionByZero");
    throw decimalError("DivisionUndefined");
  }
  const e = Math.min(a.exp, b.exp);
  const x = a.coef * pow10(a.exp - e);
  const y = b.coef * pow10(b.exp - e);
  const q = x / y;
  if (digitCount(q) > PREC) throw decimalError("InvalidOperation");
  return [new PyDecimal(a.neg !== b.neg, q, 0), PyDecimal.fixed(a.neg, x % y, e)];
}

function power(a: PyDecimal, b: PyDecimal): PyDecimal {
  if (!b.isIntegral() || Math.abs(b.toInt()) > 100_000) {
    // Non-integral powers are computed in binary floating point (a documented difference).
    const x = a.toNumber() ** b.toNumber();
    if (Number.isNaN(x)) throw decimalError("InvalidOperation");
    return pyDecimal(Number(x.toPrecision(17)));
  }
  const n = b.toInt();
  if (n === 0) {
    if (a.isZero()) throw decimalError("InvalidOperation");
    return new PyDecimal(false, 1n, 0);
  }
  const neg = a.neg && n % 2 !== 0;
  const exact = new PyDecimal(neg, a.coef ** BigInt(Math.abs(n)), a.exp * Math.abs(n));
  if (n > 0) return PyDecimal.fixed(exact.neg, exact.coef, exact.exp);
  if (a.isZero()) throw decimalError("DivisionByZero");
  return divide(new PyDecimal(false, 1n, 0), exact);
}

const DECIMAL_TEXT = /^\s*([+-])?(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:[eE]([+-]?\d+))?\s*$/;

/** A Decimal from text (exactly as written, like Python's Decimal('1.50')) or from a JS number (its shortest form). */
export function pyDecimal(value: string | number | bigint): PyDecimal {
  if (typeof value === "bigint") return new PyDecimal(value < 0n, value < 0n ? -value : value, 0);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw valueError(`cannot convert ${value} to Decimal`);
    return pyDecimal(Object.is(value, -0) ? "-0" : String(value));
  }
  const m = DECIMAL_TEXT.exec(value.replace(/_/g, ""));
  if (!m) throw new PyError("InvalidOperation", "[<class 'decimal.ConversionSyntax'>]");
  const intPart = m[2] ?? "";
  const frac = m[3] ?? m[4] ?? "";
  const coef = BigInt(`${intPart}${frac}` || "0");
  return new PyDecimal(m[1] === "-", coef, Number(m[5] ?? 0) - frac.length);
}

export function isDecimal(v: unknown): v is PyDecimal {
  return v instanceof PyDecimal;
}

/**
 * DynamoDB data as boto3 gives it to the original: numbers become Decimals, recursively through lists
 * and maps (plain objects stay plain objects); strings, booleans, null, binary and Dates are unchanged.
 */
export function fromDynamo(value: unknown): unknown {
  if (typeof value === "number") return Number.isFinite(value) ? pyDecimal(value) : value;
  if (typeof value === "bigint") return pyDecimal(value);
  if (Array.isArray(value)) return value.map(fromDynamo);
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [k, fromDynamo(v)]));
  if (value instanceof Set) return new Set([...value].map(fromDynamo));
  if (value !== null && typeof value === "object") {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return value;
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, fromDynamo(v)]));
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// __format__

/** Python's Decimal.__format__ (types '', e, E, f, F, g, G, n, %; no trailing-zero stripping). */
function formatDecimal(d: PyDecimal, specText: string): string {
  const spec = parseSpec(specText);
  let type = spec.type;
  if (!"eEfFgGn%".includes(type) && type !== "") throw valueError("Invalid format specifier");
  if (type === "" || type === "n") type = type === "n" ? "g" : "G";
  let v = type === "%" ? new PyDecimal(d.neg, d.coef, d.exp + 2) : d;
  const p = spec.precision;
  if (p !== undefined) {
    if (type === "e" || type === "E") v = v.roundSignificant(p + 1);
    else if ("fF%".includes(type)) v = v.rescale(-p);
    else if (digitCount(v.coef) > p) v = v.roundSignificant(p === 0 ? 1 : p);
  }
  if (v.isZero() && v.exp > 0 && "fF%".includes(type)) v = v.rescale(0);
  const digits = v.coef.toString();
  const leftdigits = v.exp + digits.length;
  let dotplace: number;
  if (type === "e" || type === "E") dotplace = v.isZero() && p !== undefined ? 1 - p : 1;
  else if ("fF%".includes(type)) dotplace = leftdigits;
  else dotplace = v.exp <= 0 && leftdigits > -6 ? leftdigits : 1;
  let intpart: string;
  let fracpart: string;
  if (dotplace < 0) {
    intpart = "0";
    fracpart = "0".repeat(-dotplace) + digits;
  } else if (dotplace > digits.length) {
    intpart = digits + "0".repeat(dotplace - digits.length);
    fracpart = "";
  } else {
    intpart = digits.slice(0, dotplace) || "0";
    fracpart = digits.slice(dotplace);
  }
  const e = leftdigits - dotplace;
  if (fracpart || spec.alt) fracpart = `.${fracpart}`;
  if (e !== 0 || type === "e" || type === "E") {
    const echar = type === "E" || type === "G" ? "E" : "e";
    fracpart += `${echar}${e < 0 ? "-" : "+"}${Math.abs(e)}`;
  }
  if (type === "%") fracpart += "%";
  if (spec.group) intpart = groupDigits(intpart, spec.group);
  const sign = v.neg ? "-" : spec.sign === "+" ? "+" : spec.sign === " " ? " " : "";
  return pad(intpart + fracpart, spec, ">", sign);
}

function groupDigits(intPart: string, sep: string): string {
  let out = "";
  for (let i = intPart.length; i > 0; i -= 3) {
    const chunk = intPart.slice(Math.max(0, i - 3), i);
    out = out ? `${chunk}${sep}${out}` : chunk;
  }
  return out;
}

