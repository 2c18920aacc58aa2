/**
 * Python operators on template values: equality, ordering, arithmetic, membership, attribute and
 * item access, slicing and calls, with Jinja2's lookup rules on top.
 */
import { intOp } from "./bigint.ts";
import { PyError, typeError } from "./errors.ts";
import { builtinAttr } from "./methods.ts";
import { percentFormat } from "./format.ts";
import {
  type BinOp,
  type Kwargs,
  EMPTY_KWARGS,
  MISSING,
  Markup,
  NOT_IMPL,
  PyFloat,
  PyFunction,
  PyObject,
  Undefined,
  adaptHost,
  dictGet,
  dictHas,
  dictKeys,
  dictSize,
  escapeHtml,
  isDict,
  isInt,
  isNumber,
  isString,
  isTuple,
  mkFloat,
  num,
  strValue,
  tuple,
  tupleField,
  typeName,
  undefinedAttr,
  undefinedItem,
  unsafeAttr,
} from "./values.ts";

export { setHostAdapter } from "./values.ts";
/** Converts host values that templates may meet (JS Date) into their Python counterparts. */
export function adapt(v: unknown): unknown {
  return v instanceof Date ? adaptHost(v) : v;
}

// ---------------------------------------------------------------------------------------------
// Equality and ordering

export function eq(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === "string" && typeof b === "string") return false;
  if (isNumber(a) && isNumber(b)) return num(a) === num(b);
  if (isString(a) && isString(b)) return strValue(a) === strValue(b);
  if (a === null || b === null) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (isTuple(a) !== isTuple(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!eq(a[i], b[i])) return false;
    return true;
  }
  if (isDict(a) && isDict(b)) {
    if (dictSize(a) !== dictSize(b)) return false;
    for (const k of dictKeys(a)) {
      if (!dictHas(b, k) || !eq(dictGet(a, k), dictGet(b, k))) return false;
    }
    return true;
  }
  if (a instanceof Undefined || a === undefined) return b instanceof Undefined || b === undefined;
  if (a instanceof PyObject && a.eq(b)) return true;
  if (b instanceof PyObject && b.eq(a)) return true;
  return false;
}

const CMP_OPS = { "<": 1, "<=": 1, ">": 1, ">=": 1 } as const;
export type CmpOp = keyof typeof CMP_OPS;

/** `a op b` for an ordering operator. */
export function compare(op: CmpOp, a: unknown, b: unknown): boolean {
  const c = order(op, a, b);
  if (Number.isNaN(c)) return false;
  switch (op) {
    case "<":
      return c < 0;
    case "<=":
      return c <= 0;
    case ">":
      return c > 0;
    case ">=":
      return c >= 0;
  }
}

/** Three-way comparison; NaN when unordered (a float NaN is involved). Throws TypeError when not comparable. */
export function order(op: string, a: unknown, b: unknown): number {
  if (isNumber(a) && isNumber(b)) {
    const x = num(a);
    const y = num(b);
    return x < y ? -1 : x > y ? 1 : x === y ? 0 : NaN;
  }
  if (isString(a) && isString(b)) {
    const x = strValue(a);
    const y = strValue(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (Array.isArray(a) && Array.isArray(b) && isTuple(a) === isTuple(b)) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      if (!eq(a[i], b[i])) return order(op, a[i], b[i]);
    }
    return a.length - b.length;
  }
  if (a instanceof Undefined) a.fail();
  if (b instanceof Undefined) b.fail();
  if (a instanceof PyObject) {
    const c = a.cmp(b);
    if (c !== undefined) return c;
  }
  if (b instanceof PyObject) {
    const c = b.cmp(a);
    if (c !== undefined) return -c;
  }
  throw typeError(`'${op}' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`);
}

// ---------------------------------------------------------------------------------------------
// Arithmetic

export function binop(op: BinOp, a: unknown, b: unknown): unknown {
  if (a instanceof Undefined) a.fail();
  if (b instanceof Undefined) b.fail();
  if (isNumber(a) && isNumber(b)) return numeric(op, a, b);
  if (a instanceof PyObject) {
    const r = a.binop(op, b, false);
    if (r !== NOT_IMPL) return r;
  }
  if (b instanceof PyObject) {
    const r = b.binop(op, a, true);
    if (r !== NOT_IMPL) return r;
  }
  switch (op) {
    case "+":
      if (isString(a) && isString(b)) return concat(a, b);
      if (Array.isArray(a) && Array.isArray(b) && isTuple(a) === isTuple(b)) {
        const joined = [...a, ...b];
        return isTuple(a) ? tuple(joined) : joined;
      }
      if (typeof a === "string") throw typeError(`can only concatenate str (not "${typeName(b)}") to str`);
      if (Array.isArray(a) && !isTuple(a)) {
        throw typeError(`can only concatenate list (not "${typeName(b)}") to list`);
      }
      break;
    case "*": {
      const r = repeat(a, b) ?? repeat(b, a);
      if (r !== undefined) return r;
      break;
    }
    case "%":
      if (isString(a)) {
        if (a instanceof Markup) return new Markup(percentFormat(a.s, escapeArgs(b)));
        return percentFormat(a, b);
      }
      break;
  }
  throw typeError(`unsupported operand type(s) for ${op}: '${typeName(a)}' and '${typeName(b)}'`);
}

function escapeArgs(b: unknown): unknown {
  if (Array.isArray(b)) return tuple(b.map((x) => (isString(x) || !isNumber(x) ? wrapEscaped(x) : x)));
  return isNumber(b) ? b : wrapEscaped(b);
}
function wrapEscaped(x: unknown): unknown {
  if (x instanceof Markup || isDict(x)) return x;
  return typeof x === "string" ? new Markup(escapeHtml(x)) : x;
}

function concat(a: string | Markup, b: string | Markup): string | Markup {
  if (a instanceof Markup || b instanceof Markup) {
    const x = a instanceof Markup ? a.s : escapeHtml(a);
    const y = b instanceof Markup ? b.s : escapeHtml(b);
    return new Markup(x + y);
  }
  return a + b;
}

function repeat(seq: unknown, times: unknown): unknown {
  if (!isInt(times)) return undefined;
  const n = Math.max(0, num(times));
  if (typeof seq === "string") return seq.repeat(n);
  if (seq instanceof Markup) return new Markup(seq.s.repeat(n));
  if (Array.isArray(seq)) {
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) out.push(...seq);
    return isTuple(seq) ? tuple(out) : out;
  }
  return undefined;
}

function numeric(op: BinOp, a: unknown, b: unknown): unknown {
  const ints = isInt(a) && isInt(b);
  const x = num(a);
  const y = num(b);
  // An int result beyond 2^53 is recomputed exactly (Python ints are unbounded).
  const wrap = (v: number): unknown => (!ints ? mkFloat(v) : Number.isSafeInteger(v) ? v : intOp(op, BigInt(x), BigInt(y)));
  switch (op) {
    case "+":
      return wrap(x + y);
    case "-":
      return wrap(x - y);
    case "*":
      return wrap(x * y);
    case "/":
      if (y === 0) throw new PyError("ZeroDivisionError", ints ? "division by zero" : "float division by zero");
      return mkFloat(x / y);
    case "//":
      if (y === 0) {
        throw new PyError("ZeroDivisionError", ints ? "integer division or modulo by zero" : "float floor division by zero");
      }
      return ints ? Math.floor(x / y) : mkFloat(floatFloorDiv(x, y));
    case "%": {
      if (y === 0) throw new PyError("ZeroDivisionError", ints ? "integer division or modulo by zero" : "float modulo");
      let r = x % y;
      if (r !== 0 && r < 0 !== y < 0) r += y;
      if (r === 0 && !ints) r = y < 0 ? -0 : 0;
      return wrap(r);
    }
    case "**":
      if (ints && y >= 0) return wrap(x ** y);
      if (x === 0 && y < 0) throw new PyError("ZeroDivisionError", "0.0 cannot be raised to a negative power");
      if (x < 0 && !Number.isInteger(y)) throw new PyError("ValueError", "negative number raised to a fractional power gives a complex result, which templates do not support");
      return mkFloat(Number.isInteger(y) && Math.abs(y) <= 1024 ? intPow(x, y) : x ** y);
  }
}

// Double-double arithmetic, so float ** int rounds like C's pow (JS engines multiply naively).
function twoProd(a: number, b: number): [number, number] {
  const p = a * b;
  const A = 134217729 * a;
  const ah = A - (A - a);
  const al = a - ah;
  const B = 134217729 * b;
  const bh = B - (B - b);
  const bl = b - bh;
  return [p, ah * bh - p + ah * bl + al * bh + al * bl];
}

function ddMul(x: [number, number], y: [number, number]): [number, number] {
  const [p, e] = twoProd(x[0], y[0]);
  const e2 = e + (x[0] * y[1] + x[1] * y[0]);
  const s = p + e2;
  return [s, e2 - (s - p)];
}

function intPow(base: number, n: number): number {
  let r: [number, number] = [1, 0];
  let x: [number, number] = [base, 0];
  let m = Math.abs(n);
  while (m) {
    if (m & 1) r = ddMul(r, x);
    x = ddMul(x, x);
    m >>= 1;
  }
  if (!Number.isFinite(r[0])) return n < 0 ? 0 : r[0];
  if (n >= 0) return r[0] + r[1];
  const q = 1 / r[0];
  const [p, e] = twoProd(q, r[0]);
  const corr = (1 - p - e - q * r[1]) / r[0];
  return q + corr;
}

/** CPython's float floor division (from fmod, so 1 // 0.1 is 9.0 as in Python). */
function floatFloorDiv(x: number, y: number): number {
  const mod = x % y;
  let div = (x - mod) / y;
  if (mod && y < 0 !== mod < 0) div -= 1;
  if (!div) return Object.is(x / y, -0) || x / y < 0 ? -0 : 0;
  let floordiv = Math.floor(div);
  if (div - floordiv > 0.5) floordiv += 1;
  return floordiv;
}

export function negate(a: unknown): unknown {
  if (a instanceof Undefined) a.fail();
  if (typeof a === "number") return -a;
  if (typeof a === "boolean") return a ? -1 : 0;
  if (a instanceof PyFloat) return mkFloat(-a.v);
  if (a instanceof PyObject) {
    const u = a.unary("-");
    if (u !== NOT_IMPL) return u;
    const r = a.binop("*", -1, true);
    if (r !== NOT_IMPL) return r;
  }
  throw typeError(`bad operand type for unary -: '${typeName(a)}'`);
}

export function plus(a: unknown): unknown {
  if (a instanceof Undefined) a.fail();
  if (typeof a === "boolean") return a ? 1 : 0;
  if (a instanceof PyObject) {
    const u = a.unary("+");
    return u === NOT_IMPL ? a : u;
  }
  if (isNumber(a)) return a;
  throw typeError(`bad operand type for unary +: '${typeName(a)}'`);
}

// ---------------------------------------------------------------------------------------------
// Membership

export function contains(container: unknown, item: unknown): boolean {
  if (isString(container)) {
    if (!isString(item)) {
      throw typeError(`'in <string>' requires string as left operand, not ${typeName(item)}`);
    }
    return strValue(container).includes(strValue(item));
  }
  if (Array.isArray(container)) return container.some((x) => eq(x, item));
  if (isDict(container)) return dictHas(container, item);
  if (container instanceof Undefined || container === undefined) return false;
  if (container instanceof PyObject) {
    const items = container.iter();
    if (items) return items.some((x) => eq(x, item));
  }
  throw typeError(`argument of type '${typeName(container)}' is not iterable`);
}

// ---------------------------------------------------------------------------------------------
// Attribute and item access (Jinja's Environment.getattr / getitem) and the sandbox rule
//
// Attributes come only from the value model: a PyObject's getAttr, the method tables of str, list,
// tuple, dict and numbers (methods.ts) and named-tuple fields. Nothing falls back to the JS properties
// of a host value, so `constructor`, `__proto__` and the like name nothing a template can reach.
// On top, Jinja2's SandboxedEnvironment rule: an attribute named `_...` (and a type's `mro`, a
// generator's frame and code) is unsafe and resolves to an Undefined that raises SecurityError when
// used; items (dict keys) are data and are never refused.

const UNSAFE_GENERATOR_ATTRIBUTES = new Set(["gi_frame", "gi_code"]);

/** Jinja2's `not is_safe_attribute(obj, name)`. */
export function isUnsafeAttribute(obj: unknown, name: string): boolean {
  if (name.startsWith("_")) return true;
  if (obj instanceof PyFunction && obj.pyType === "type") return name === "mro";
  return typeName(obj) === "generator" && UNSAFE_GENERATOR_ATTRIBUTES.has(name);
}

/** `obj.name`: the attribute first, then the item. */
export function getattr(obj: unknown, name: string): unknown {
  if (obj instanceof Undefined || obj === undefined) return (obj ?? new Undefined("undefined value")).fail();
  const target = adapt(obj);
  if (isUnsafeAttribute(target, name)) {
    // `d._private` still reads the key, as in Jinja2's sandbox (dicts have no such attribute).
    const item = rawItem(target, name);
    return item === MISSING ? unsafeAttr(target, name) : adapt(item);
  }
  const attr = rawAttr(target, name);
  if (attr !== MISSING) return adapt(attr);
  const item = lenientItem(target, name);
  return item === MISSING ? undefinedAttr(target, name) : adapt(item);
}

/** `obj[key]`: the item first, then (for string keys) the attribute. */
export function getitem(obj: unknown, key: unknown): unknown {
  if (obj instanceof Undefined || obj === undefined) return (obj ?? new Undefined("undefined value")).fail();
  const target = adapt(obj);
  const item = lenientItem(target, key);
  if (item !== MISSING) return adapt(item);
  if (typeof key === "string") {
    if (isUnsafeAttribute(target, key)) return unsafeAttr(target, key);
    const attr = rawAttr(target, key);
    if (attr !== MISSING) return adapt(attr);
  }
  return undefinedItem(target, key);
}

/** Attribute lookup only (the `attr` filter, format-string fields). */
export function attrOnly(obj: unknown, name: string): unknown {
  if (obj instanceof Undefined || obj === undefined) return (obj ?? new Undefined("undefined value")).fail();
  const target = adapt(obj);
  if (isUnsafeAttribute(target, name)) return unsafeAttr(target, name);
  const attr = rawAttr(target, name);
  return attr === MISSING ? undefinedAttr(target, name) : adapt(attr);
}

/** The attribute as the value model defines it, or MISSING: never a JS property of a host value. */
function rawAttr(obj: unknown, name: string): unknown {
  if (obj instanceof PyObject) return obj.getAttr(name);
  if (Array.isArray(obj) && isTuple(obj)) {
    const field = tupleField(obj, name);
    if (field !== MISSING) return field;
  }
  return builtinAttr(obj, name);
}

/** Jinja's environment.getitem/getattr: a subscript failing with TypeError or LookupError falls through. */
function lenientItem(obj: unknown, key: unknown): unknown {
  try {
    return rawItem(obj, key);
  } catch (e) {
    if (e instanceof PyError && (e.pyType === "TypeError" || e.pyType === "IndexError" || e.pyType === "KeyError")) return MISSING;
    throw e;
  }
}

function rawItem(obj: unknown, key: unknown): unknown {
  if (isDict(obj)) return dictGet(obj, key);
  if (Array.isArray(obj) || isString(obj)) {
    if (!isInt(key)) return MISSING;
    return indexSeq(obj, num(key));
  }
  if (obj instanceof PyObject) return obj.getItem(key);
  return MISSING;
}

function indexSeq(seq: unknown[] | string | Markup, i: number): unknown {
  if (Array.isArray(seq)) {
    const j = i < 0 ? seq.length + i : i;
    return j >= 0 && j < seq.length ? seq[j] : MISSING;
  }
  const s = strValue(seq);
  const chars = hasSurrogates(s) ? Array.from(s) : s;
  const j = i < 0 ? chars.length + i : i;
  return j >= 0 && j < chars.length ? (chars[j] as string) : MISSING;
}

export function hasSurrogates(s: string): boolean {
  return /[\uD800-\uDFFF]/.test(s);
}

/** Python slicing `seq[start:stop:step]` (None for omitted bounds). */
export function slice(seq: unknown, start: unknown, stop: unknown, step: unknown): unknown {
  if (seq instanceof Undefined || seq === undefined) return (seq ?? new Undefined("undefined value")).fail();
  const st = step === null || step === undefined ? 1 : sliceIndex(step);
  if (st === 0) throw new PyError("ValueError", "slice step cannot be zero");
  if (seq instanceof PyObject && isRangeLike(seq)) {
    // A range sliced stays a range (Python computes slice.indices(len) and scales by the step).
    const n = seq.len() ?? 0;
    const clamp = (v: unknown, dflt: number, lo: number, hi: number): number => {
      if (v === null || v === undefined) return dflt;
      const i = sliceIndex(v);
      return Math.min(Math.max(i < 0 ? i + n : i, lo), hi);
    };
    return st > 0 ? seq.sliced(clamp(start, 0, 0, n), clamp(stop, n, 0, n), st) : seq.sliced(clamp(start, n - 1, -1, n - 1), clamp(stop, -1, -1, n - 1), st);
  }
  let items: unknown[] | string[];
  if (Array.isArray(seq)) items = seq;
  else if (isString(seq)) items = Array.from(strValue(seq));
  else if (seq instanceof PyObject && seq.iter() !== undefined && seq.len() !== undefined) items = seq.iter() ?? [];
  else throw typeError(`'${typeName(seq)}' object is not subscriptable`);
  const n = items.length;
  const norm = (v: unknown, dflt: number, lo: number, hi: number): number => {
    if (v === null || v === undefined) return dflt;
    let i = sliceIndex(v);
    if (i < 0) i += n;
    return Math.min(Math.max(i, lo), hi);
  };
  const out: unknown[] = [];
  if (st > 0) {
    const a = norm(start, 0, 0, n);
    const b = norm(stop, n, 0, n);
    for (let i = a; i < b; i += st) out.push(items[i]);
  } else {
    const a = norm(start, n - 1, -1, n - 1);
    const b = norm(stop, -1, -1, n - 1);
    for (let i = a; i > b; i += st) out.push(items[i]);
  }
  if (typeof seq === "string") return out.join("");
  if (seq instanceof Markup) return new Markup(out.join(""));
  return Array.isArray(seq) && isTuple(seq) ? tuple(out) : out;
}

/** A sequence whose slices are computed, not materialised (Python's range). */
interface RangeLike {
  len(): number | undefined;
  sliced(from: number, to: number, step: number): unknown;
}
function isRangeLike(v: PyObject): v is PyObject & RangeLike {
  return typeof (v as Partial<RangeLike>).sliced === "function";
}

function sliceIndex(v: unknown): number {
  if (!isInt(v)) throw typeError("slice indices must be integers or None or have an __index__ method");
  return num(v);
}

// ---------------------------------------------------------------------------------------------
// Calls

/** Calls a model callable. A raw JS function (which a caller might put in a context) is not one. */
export function call(fn: unknown, args: unknown[], kwargs: Kwargs = EMPTY_KWARGS): unknown {
  if (fn instanceof PyFunction) return adapt(fn.call(args, kwargs));
  if (fn instanceof Undefined || fn === undefined) return (fn ?? new Undefined("undefined value")).fail();
  if (fn instanceof PyObject && isCallableObject(fn)) return adapt(fn.call(args, kwargs));
  throw typeError(`'${typeName(fn)}' object is not callable`);
}

interface CallableObject {
  call(args: unknown[], kwargs: Kwargs): unknown;
}
export function isCallableObject(v: PyObject): v is PyObject & CallableObject {
  return typeof (v as unknown as Partial<CallableObject>).call === "function";
}
