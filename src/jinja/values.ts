/**
 * The Python value model templates compute with. See README.md for the mapping:
 * str → string, int → integer-valued number, float → PyFloat or non-integer number, bool → boolean,
 * None → null, list → array, tuple → array tagged with TUPLE, dict → Map (or a plain object supplied
 * by the caller), everything else (datetime, match objects, modules, callables) → PyObject.
 */
import { objectAddress } from "./address.ts";
import { PyError, typeError } from "./errors.ts";

export type Kwargs = Record<string, unknown>;
export type PyDict = Map<unknown, unknown> | Record<string, unknown>;

/** Returned by attribute lookups that found nothing. */
export const MISSING: unique symbol = Symbol("missing");
/** Returned by PyObject.binop when the operation is not supported (Python's NotImplemented). */
export const NOT_IMPL: unique symbol = Symbol("NotImplemented");
const TUPLE: unique symbol = Symbol("tuple");
/** Field names of a named tuple (e.g. groupby's grouper/list), index by name. */
const FIELDS: unique symbol = Symbol("fields");

export type BinOp = "+" | "-" | "*" | "/" | "//" | "%" | "**";

/** Base of every non-primitive Python value. Subclasses override what they support. */
export abstract class PyObject {
  abstract readonly pyType: string;
  getAttr(_name: string): unknown {
    return MISSING;
  }
  str(): string {
    return this.repr();
  }
  abstract repr(): string;
  truthy(): boolean {
    return true;
  }
  eq(other: unknown): boolean {
    return this === other;
  }
  /** Ordering against `other`: negative, zero, positive, or undefined when not orderable. */
  cmp(_other: unknown): number | undefined {
    return undefined;
  }
  binop(_op: BinOp, _other: unknown, _reflected: boolean): unknown {
    return NOT_IMPL;
  }
  /** Unary `-` / `+`, or NOT_IMPL (then `-` falls back to multiplying by -1). */
  unary(_op: "-" | "+"): unknown {
    return NOT_IMPL;
  }
  /** Items when iterated, or undefined when not iterable. */
  iter(): unknown[] | undefined {
    return undefined;
  }
  len(): number | undefined {
    return undefined;
  }
  getItem(_key: unknown): unknown {
    return MISSING;
  }
  /** Python's format(value, spec) (`__format__`), or undefined to use the generic rules. */
  format(_spec: string): string | undefined {
    return undefined;
  }
  /** A key that identifies equal values, for dict keys, `unique` and `groupby` (a number when equal to an int/float). */
  hashKey(): string | number {
    return this.repr();
  }
}

/** A Python callable: functions, bound methods, classes, macros. */
export class PyFunction extends PyObject {
  readonly pyType: string;
  constructor(
    readonly name: string,
    readonly fn: (args: unknown[], kwargs: Kwargs) => unknown,
    readonly attrs: Record<string, unknown> = {},
    pyType = "builtin_function_or_method",
  ) {
    super();
    this.pyType = pyType;
  }
  /** The type name of the object a built-in method is bound to (`'abc'.upper`), for its repr. */
  private owner: string | null = null;
  /** Marks this function as a method bound to `self`: it prints as `<built-in method f of str object at 0x...>`. */
  boundTo(self: unknown): this {
    this.owner = typeName(self);
    return this;
  }
  override getAttr(name: string): unknown {
    if (Object.hasOwn(this.attrs, name)) return this.attrs[name];
    if (name === "__name__") return this.name;
    return MISSING;
  }
  repr(): string {
    if (this.pyType === "type") return `<class '${this.name}'>`;
    if (this.owner !== null) return `<built-in method ${this.name} of ${this.owner} object at ${objectAddress(this)}>`;
    return this.pyType === "function" ? `<function ${this.name} at ${objectAddress(this)}>` : `<built-in function ${this.name}>`;
  }
  call(args: unknown[], kwargs: Kwargs): unknown {
    return this.fn(args, kwargs);
  }
}

/** A module or namespace object (`utils.path`, `utils.dateutil`, Jinja's namespace()). */
export class PyNamespace extends PyObject {
  constructor(
    readonly pyType: string,
    readonly label: string,
    readonly attrs: Record<string, unknown>,
    readonly mutable = false,
  ) {
    super();
  }
  override getAttr(name: string): unknown {
    return Object.hasOwn(this.attrs, name) ? this.attrs[name] : MISSING;
  }
  repr(): string {
    return this.label;
  }
}

/**
 * Jinja's Undefined: prints empty, iterates empty, fails on attribute access, calls and arithmetic.
 * An unsafe attribute (see ops.ts) is an Undefined that fails with SecurityError, as in Jinja2's sandbox.
 */
export class Undefined {
  constructor(
    readonly hint: string,
    readonly failsWith: "UndefinedError" | "SecurityError" = "UndefinedError",
  ) {}
  fail(): never {
    throw new PyError(this.failsWith, this.hint);
  }
}

export const undefinedName = (name: string): Undefined => new Undefined(`'${name}' is undefined`);
export function undefinedAttr(obj: unknown, name: string): Undefined {
  return new Undefined(`${objectDescription(obj)} has no attribute '${name}'`);
}
export function undefinedItem(obj: unknown, key: unknown): Undefined {
  return new Undefined(`${objectDescription(obj)} has no element ${repr(key)}`);
}
/** Jinja2's SandboxedEnvironment.unsafe_undefined: the attribute exists or not, the template may not have it. */
export function unsafeAttr(obj: unknown, name: string): Undefined {
  const type = typeName(obj).replace(/^.*\./, "");
  return new Undefined(`access to attribute '${name}' of '${type}' object is unsafe.`, "SecurityError");
}
function objectDescription(obj: unknown): string {
  return `'${typeName(obj)} object'`;
}

/** A string marked safe for HTML (MarkupSafe's Markup); a str subclass in Python. */
export class Markup {
  constructor(readonly s: string) {}
  toString(): string {
    return this.s;
  }
}

/** A float, kept distinct from int so that `1.0` prints as `1.0`. */
export class PyFloat {
  constructor(readonly v: number) {}
}

/** Converts host values templates may meet (JS Date) into Python values; installed by index.ts. */
let hostAdapter: (v: object) => unknown = (v) => v;
export function setHostAdapter(fn: (v: object) => unknown): void {
  hostAdapter = fn;
}
export function adaptHost(v: object): unknown {
  return hostAdapter(v);
}

// ---------------------------------------------------------------------------------------------
// Constructors and predicates

export function mkFloat(v: number): PyFloat | number {
  return Number.isInteger(v) ? new PyFloat(v) : v;
}

export function tuple<T>(items: T[]): T[] {
  (items as unknown as Record<symbol, boolean>)[TUPLE] = true;
  return items;
}

export function namedTuple(items: unknown[], fields: string[]): unknown[] {
  tuple(items);
  (items as unknown as Record<symbol, string[]>)[FIELDS] = fields;
  return items;
}

export function isTuple(v: unknown): v is unknown[] {
  return Array.isArray(v) && (v as unknown as Record<symbol, unknown>)[TUPLE] === true;
}

export function tupleField(v: unknown[], name: string): unknown {
  const fields = (v as unknown as Record<symbol, string[] | undefined>)[FIELDS];
  const i = fields?.indexOf(name) ?? -1;
  return i >= 0 ? v[i] : MISSING;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object") return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function isDict(v: unknown): v is PyDict {
  return v instanceof Map || isPlainObject(v);
}

export function isUndefined(v: unknown): v is Undefined | undefined {
  return v === undefined || v instanceof Undefined;
}

/** Python int (bools count, as in Python). */
export function isInt(v: unknown): v is number | boolean {
  return (typeof v === "number" && Number.isInteger(v)) || typeof v === "boolean";
}

export function isFloat(v: unknown): boolean {
  return v instanceof PyFloat || (typeof v === "number" && !Number.isInteger(v));
}

export function isNumber(v: unknown): boolean {
  return typeof v === "number" || typeof v === "boolean" || v instanceof PyFloat;
}

export function isString(v: unknown): v is string | Markup {
  return typeof v === "string" || v instanceof Markup;
}

/** The numeric value of an int, bool or float. */
export function num(v: unknown): number {
  if (typeof v === "number") return v;
  if (v instanceof PyFloat) return v.v;
  if (typeof v === "boolean") return v ? 1 : 0;
  // A PyBigInt (bigint.ts) where only a number will do: its nearest float.
  if (v instanceof PyObject && v.pyType === "int") return (v as PyObject & { toNumber(): number }).toNumber();
  throw typeError(`expected a number, got '${typeName(v)}'`);
}

export function strValue(v: string | Markup): string {
  return typeof v === "string" ? v : v.s;
}

/** Only model callables: a raw JS function is never called from a template (see ops.call). */
export function isCallable(v: unknown): boolean {
  return v instanceof PyFunction;
}

// ---------------------------------------------------------------------------------------------
// Dicts: Maps made by templates and JSON, plain objects supplied by callers.

export function dictGet(d: PyDict, key: unknown): unknown {
  if (d instanceof Map) {
    const v = d.get(dictKey(key));
    return v === undefined && !d.has(dictKey(key)) ? MISSING : v;
  }
  if (typeof key !== "string" || !Object.hasOwn(d, key)) return MISSING;
  return d[key];
}

export function dictHas(d: PyDict, key: unknown): boolean {
  return d instanceof Map ? d.has(dictKey(key)) : typeof key === "string" && Object.hasOwn(d, key);
}

/**
 * The key objects as written (a tuple, `True`, a date, `-0.0`) for Map entries whose lookup key is a
 * normalised form: keys, items and reprs give them back, as Python keeps the first key inserted.
 */
const writtenKeys = new WeakMap<Map<unknown, unknown>, Map<unknown, unknown>>();

function rememberKey(d: Map<unknown, unknown>, key: unknown, norm: unknown): void {
  if (d.has(norm)) return;
  const written = writtenKeys.get(d);
  if (Object.is(norm, key)) written?.delete(norm);
  else if (written) written.set(norm, key);
  else writtenKeys.set(d, new Map([[norm, key]]));
}

function writtenKey(d: Map<unknown, unknown>, norm: unknown): unknown {
  const written = writtenKeys.get(d);
  return written?.has(norm) ? written.get(norm) : norm;
}

export function dictKeys(d: PyDict): unknown[] {
  return d instanceof Map ? [...d.keys()].map((k) => writtenKey(d, k)) : Object.keys(d);
}

export function dictValues(d: PyDict): unknown[] {
  return d instanceof Map ? [...d.values()] : Object.values(d);
}

export function dictEntries(d: PyDict): [unknown, unknown][] {
  return d instanceof Map ? [...d.entries()].map(([k, v]) => [writtenKey(d, k), v]) : Object.entries(d);
}

export function dictSize(d: PyDict): number {
  return d instanceof Map ? d.size : Object.keys(d).length;
}

export function dictSet(d: PyDict, key: unknown, value: unknown): void {
  if (d instanceof Map) {
    const norm = dictKey(key);
    rememberKey(d, key, norm);
    d.set(norm, value);
  } else setOwn(d, typeof key === "string" ? key : str(key), value);
}

/**
 * `obj[key] = value` as an own data property, whatever the key: `__proto__` (or a setter up the chain)
 * never changes an object's prototype or runs code.
 */
export function setOwn(obj: object, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

export function dictDelete(d: PyDict, key: unknown): void {
  if (d instanceof Map) {
    const norm = dictKey(key);
    writtenKeys.get(d)?.delete(norm);
    d.delete(norm);
  } else if (typeof key === "string") delete d[key];
}

/** Normalises keys so that equal Python values find the same Map entry. */
export function dictKey(key: unknown): unknown {
  if (key instanceof PyFloat) return key.v;
  if (key instanceof Markup) return key.s;
  if (typeof key === "boolean") return key ? 1 : 0;
  if (key instanceof PyObject) return key.hashKey();
  if (Array.isArray(key)) {
    if (!isTuple(key)) throw typeError("unhashable type: 'list'");
    return `\u0000tuple${repr(key)}`;
  }
  if (isDict(key)) throw typeError("unhashable type: 'dict'");
  return key;
}

export function newDict(entries: Iterable<[unknown, unknown]> = []): Map<unknown, unknown> {
  const m = new Map<unknown, unknown>();
  for (const [k, v] of entries) dictSet(m, k, v);
  return m;
}

// ---------------------------------------------------------------------------------------------
// Type names, truthiness, iteration

export function typeName(v: unknown): string {
  if (v === null) return "NoneType";
  if (v instanceof Undefined || v === undefined) return "Undefined";
  switch (typeof v) {
    case "string":
      return "str";
    case "boolean":
      return "bool";
    case "number":
      return Number.isInteger(v) ? "int" : "float";
    case "bigint":
      return "int";
    case "function":
      return "function";
  }
  if (v instanceof PyFloat) return "float";
  if (v instanceof Markup) return "Markup";
  if (Array.isArray(v)) return isTuple(v) ? "tuple" : "list";
  if (isDict(v)) return "dict";
  if (v instanceof PyObject) return v.pyType;
  if (v instanceof Date) return "datetime";
  return "object";
}

export function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === "" || v === 0) return false;
  if (v === true || typeof v === "string" || typeof v === "number") return true;
  if (v instanceof Undefined) return false;
  if (v instanceof PyFloat) return v.v !== 0;
  if (v instanceof Markup) return v.s !== "";
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  if (v instanceof PyObject) return v.truthy();
  if (isPlainObject(v)) return Object.keys(v).length > 0;
  return true;
}

/** Python iter(): the items a for loop sees. */
export function iterate(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === "string") return Array.from(v);
  if (v instanceof Markup) return Array.from(v.s);
  if (v instanceof Map) return dictKeys(v);
  if (isUndefined(v)) return [];
  if (v instanceof PyObject) {
    const items = v.iter();
    if (items) return items;
  } else if (isPlainObject(v)) {
    return Object.keys(v);
  } else if (v instanceof Set) {
    return [...v];
  }
  throw typeError(`'${typeName(v)}' object is not iterable`);
}

/** Python len(). */
export function len(v: unknown): number {
  if (typeof v === "string") return [...v].length;
  if (v instanceof Markup) return [...v.s].length;
  if (Array.isArray(v)) return v.length;
  if (isDict(v)) return dictSize(v);
  if (v instanceof Undefined) return 0;
  if (v instanceof PyObject) {
    const n = v.len();
    if (n !== undefined) return n;
  }
  throw typeError(`object of type '${typeName(v)}' has no len()`);
}

// ---------------------------------------------------------------------------------------------
// Printing: str() and repr()

export function str(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "number") return Number.isInteger(v) ? intStr(v) : floatRepr(v);
  if (v === null) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (v === undefined || v instanceof Undefined) return "";
  if (v instanceof Markup) return v.s;
  if (v instanceof PyFloat) return floatRepr(v.v);
  if (v instanceof PyObject) return v.str();
  if (v instanceof Date) return str(adaptHost(v));
  return repr(v);
}

export function repr(v: unknown): string {
  if (typeof v === "string") return strRepr(v);
  if (v instanceof Markup) return `Markup(${strRepr(v.s)})`;
  if (v instanceof Undefined || v === undefined) return "Undefined";
  if (Array.isArray(v)) {
    const inner = v.map(repr).join(", ");
    if (!isTuple(v)) return `[${inner}]`;
    return v.length === 1 ? `(${inner},)` : `(${inner})`;
  }
  if (isDict(v)) {
    return `{${dictEntries(v)
      .map(([k, x]) => `${repr(k)}: ${repr(x)}`)
      .join(", ")}}`;
  }
  if (v instanceof PyObject) return v.repr();
  if (v instanceof Date) return repr(adaptHost(v));
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "function") return `<function ${v.name || "<lambda>"}>`;
  if (v instanceof Set) return v.size ? `{${[...v].map(repr).join(", ")}}` : "set()";
  if (typeof v === "number" || typeof v === "boolean" || v === null || v instanceof PyFloat) return str(v);
  return `<${typeName(v)} object>`;
}

export function intStr(v: number): string {
  return Number.isSafeInteger(v) ? String(v) : BigInt(v).toString();
}

/** Python's repr(float): shortest round-trip digits, exponent below 1e-4 and from 1e16. */
export function floatRepr(v: number): string {
  if (Number.isNaN(v)) return "nan";
  if (v === Infinity) return "inf";
  if (v === -Infinity) return "-inf";
  if (v === 0) return Object.is(v, -0) ? "-0.0" : "0.0";
  const [mantissa, expPart] = v.toExponential().split("e") as [string, string];
  const exp = Number(expPart);
  const neg = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  let out: string;
  if (exp >= 16 || exp < -4) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    out = `${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  } else if (exp < 0) {
    out = `0.${"0".repeat(-exp - 1)}${digits}`;
  } else if (digits.length <= exp + 1) {
    out = `${digits}${"0".repeat(exp + 1 - digits.length)}.0`;
  } else {
    out = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  }
  return neg ? `-${out}` : out;
}

/** Python's repr(str): single quotes unless the text has ' and no ". */
export function strRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === quote || ch === "\\") out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, "0")}`;
    else if (c >= 0x80 && !isPrintable(ch)) {
      if (c <= 0xff) out += `\\x${c.toString(16).padStart(2, "0")}`;
      else if (c <= 0xffff) out += `\\u${c.toString(16).padStart(4, "0")}`;
      else out += `\\U${c.toString(16).padStart(8, "0")}`;
    } else out += ch;
  }
  return out + quote;
}

const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;
function isPrintable(ch: string): boolean {
  return ch === " " || !NON_PRINTABLE.test(ch);
}

/** HTML-escapes like MarkupSafe. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>'"]/g, (c) => HTML_ESCAPES[c] ?? c);
}
const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  "'": "&#39;",
  '"': "&#34;",
};

export function escape(v: unknown): Markup {
  if (v instanceof Markup) return v;
  return new Markup(escapeHtml(str(v)));
}

// ---------------------------------------------------------------------------------------------
// Argument binding for Python-style callables

export const REQUIRED: unique symbol = Symbol("required");

/**
 * Binds positional and keyword arguments to named parameters, Python style. `params` lists
 * `[name, default]`; a default of REQUIRED makes the parameter mandatory.
 */
export function bindArgs(
  fname: string,
  params: readonly (readonly [string, unknown])[],
  args: unknown[],
  kwargs: Kwargs,
): unknown[] {
  if (args.length > params.length) {
    throw typeError(`${fname}() takes at most ${params.length} arguments (${args.length} given)`);
  }
  const out = new Array<unknown>(params.length);
  for (let i = 0; i < params.length; i++) {
    const [pname, dflt] = params[i] as readonly [string, unknown];
    if (i < args.length) {
      if (Object.hasOwn(kwargs, pname)) throw typeError(`${fname}() got multiple values for argument '${pname}'`);
      out[i] = args[i];
    } else if (Object.hasOwn(kwargs, pname)) out[i] = kwargs[pname];
    else if (dflt === REQUIRED) throw typeError(`${fname}() missing required argument: '${pname}'`);
    else out[i] = dflt;
  }
  for (const k of Object.keys(kwargs)) {
    if (!params.some(([p]) => p === k)) throw typeError(`${fname}() got an unexpected keyword argument '${k}'`);
  }
  return out;
}

/** Own-property lookup in a method table (never Object.prototype members such as `constructor`). */
export function own<T>(table: Record<string, T>, name: string): T | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

export const EMPTY_KWARGS: Kwargs = Object.freeze(Object.create(null)) as Kwargs;

/** A bound method or builtin function with Python-style argument binding. */
export function pyfn(
  name: string,
  params: readonly (readonly [string, unknown])[],
  body: (...bound: unknown[]) => unknown,
): PyFunction {
  return new PyFunction(name, (args, kwargs) => body(...bindArgs(name, params, args, kwargs)));
}
