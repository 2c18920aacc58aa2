/**
 * Jinja2's built-in filters and tests, with Jinja2's argument names, defaults and edge behaviour.
 */
import { PyError, typeError } from "./errors.ts";
import { percentFormat, toFixed } from "./format.ts";
import { htmlSafeJson } from "./json.ts";
import { pyCapitalize, pyCenter, replaceN } from "./methods.ts";
import { adapt, attrOnly, binop, call, compare, contains, eq, getattr, getitem, order } from "./ops.ts";
import {
  type Kwargs,
  MISSING,
  Markup,
  PyFloat,
  PyObject,
  REQUIRED,
  Undefined,
  bindArgs,
  dictEntries,
  escape,
  escapeHtml,
  isCallable,
  isDict,
  isFloat,
  isInt,
  isNumber,
  isTuple as isTupleValue,
  isString,
  isUndefined,
  iterate,
  len,
  mkFloat,
  namedTuple,
  newDict,
  num,
  repr,
  str,
  strValue,
  truthy,
  tuple,
  typeName,
} from "./values.ts";
import { dictKey } from "./values.ts";
import { roundHalfEven } from "./datetime.ts";
import { PyDecimal } from "./decimal.ts";
import { objectAddress } from "./address.ts";
import { PyBigInt, normInt } from "./bigint.ts";

export interface EvalEnv {
  autoescape: boolean;
}

export type Filter = (env: EvalEnv, value: unknown, args: unknown[], kwargs: Kwargs) => unknown;
export type Test = (env: EvalEnv, value: unknown, args: unknown[], kwargs: Kwargs) => boolean;
type Params = readonly (readonly [string, unknown])[];

function f(name: string, params: Params, body: (env: EvalEnv, value: unknown, ...bound: unknown[]) => unknown): Filter {
  return (env, value, args, kwargs) => body(env, value, ...bindArgs(name, params, args, kwargs));
}

/** A generator result: prints like Python's generator object, iterates once to a list. */
export class PyGenerator extends PyObject {
  readonly pyType = "generator";
  constructor(
    private readonly items: unknown[],
    private readonly label: string,
  ) {
    super();
  }
  override iter(): unknown[] {
    return this.items;
  }
  repr(): string {
    const label = this.label.startsWith("generator object ") ? this.label : `${this.label} object`;
    return `<${label} at ${objectAddress(this)}>`;
  }
}

const softStr = (v: unknown): string | Markup => (v instanceof Markup ? v : str(v));
const keepMarkup = (v: unknown, s: string): string | Markup => (v instanceof Markup ? new Markup(s) : s);

/** Jinja's attribute path lookup for `attribute=` arguments: dotted names, integer parts as indexes. */
function attrGetter(attribute: unknown, postprocess?: (v: unknown) => unknown, dflt: unknown = MISSING): (item: unknown) => unknown {
  const parts = typeof attribute === "string" ? attribute.split(".").map((p) => (/^\d+$/.test(p) ? Number(p) : p)) : [attribute];
  return (item) => {
    let v = item;
    for (const p of parts) {
      v = getitem(v, p);
      if (dflt !== MISSING && v instanceof Undefined) v = dflt;
    }
    return postprocess ? postprocess(v) : v;
  };
}

function ignoreCase(v: unknown): unknown {
  return isString(v) ? strValue(v).toLowerCase() : v;
}

function sortKey(caseSensitive: unknown, attribute: unknown): (v: unknown) => unknown {
  const post = truthy(caseSensitive) ? undefined : ignoreCase;
  if (attribute === null || attribute === undefined) return post ?? ((v) => v);
  if (typeof attribute === "string" && attribute.includes(",")) {
    const getters = attribute.split(",").map((a) => attrGetter(a.trim(), post));
    return (v) => tuple(getters.map((g) => g(v)));
  }
  return attrGetter(attribute, post);
}

/** Stable sort by key; reverse keeps equal items in their original order, as Python's sorted. */
function sortBy(items: unknown[], key: (v: unknown) => unknown, reverse: boolean): unknown[] {
  const keyed = items.map((v) => [key(v), v] as const);
  const sign = reverse ? -1 : 1;
  keyed.sort((a, b) => sign * (order("<", a[0], b[0]) || 0));
  return keyed.map((k) => k[1]);
}

/** int()/float() of Jinja's Undefined raise (its __int__/__float__ fail) rather than fall back to the default. */
function failIfUndefined(value: unknown): void {
  if (value instanceof Undefined) value.fail();
  if (value === undefined) new Undefined("undefined value").fail();
}

function toInt(value: unknown, dflt: unknown, base: unknown): unknown {
  failIfUndefined(value);
  if (value instanceof PyDecimal) return normInt(value.toBigInt());
  if (value instanceof PyBigInt) return value;
  const b = num(base);
  if (isString(value)) {
    const s = asciiDigits(strValue(value));
    const n = parseIntText(s, b);
    if (n !== null) return n;
    const fl = pyFloat(s);
    if (fl === null || !Number.isFinite(fl)) return dflt;
    return Math.trunc(fl);
  }
  if (isNumber(value)) {
    const x = num(value);
    return Number.isFinite(x) ? Math.trunc(x) : dflt;
  }
  return dflt;
}

/** Decimal digits of any script (`١٢٣`) as ASCII, as Python's int() and float() read them. */
function asciiDigits(s: string): string {
  return s.replace(/\p{Nd}/gu, (c) => {
    // Unicode lays decimal digits out in runs of ten from zero: the value is the distance from the run start.
    let cp = c.codePointAt(0) as number;
    let steps = 0;
    while (/\p{Nd}/u.test(String.fromCodePoint(cp - 1))) {
      cp--;
      steps++;
    }
    return String(steps % 10);
  });
}

const BASE_PREFIX: Record<string, number> = { x: 16, o: 8, b: 2 };

/** Python int(text, base), or null where it raises ValueError (prefixes, `_` between digits, base 0). */
function parseIntText(text: string, base: number): number | PyBigInt | null {
  if (base !== 0 && (base < 2 || base > 36)) return null;
  const m = /^([+-]?)(0[xXoObB])?(.*)$/s.exec(text.trim()) as RegExpExecArray;
  const [, sign, prefix, rest] = m as unknown as [string, string, string | undefined, string];
  let b = base;
  let digits = rest;
  if (prefix) {
    const pb = BASE_PREFIX[(prefix[1] as string).toLowerCase()] as number;
    if (b === 0 || b === pb) {
      b = pb;
      digits = digits.replace(/^_/, "");
    } else digits = prefix + digits;
  } else if (b === 0) {
    b = 10;
    if (/^0+_?[1-9]/.test(digits.replace(/_/g, "")) || /^0[0-9_]*[1-9]/.test(digits)) return null;
  }
  if (!/^[0-9a-zA-Z]+(_[0-9a-zA-Z]+)*$/.test(digits)) return null;
  let n = 0n;
  for (const c of digits.replace(/_/g, "").toLowerCase()) {
    const d = parseInt(c, 36);
    if (d >= b) return null;
    n = n * BigInt(b) + BigInt(d);
  }
  return normInt(sign === "-" ? -n : n);
}

/** Python float(str), or null when it would raise. */
function pyFloat(s: string): number | null {
  const t = s.trim().replace(/_/g, "").toLowerCase();
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) return Number(t);
  if (/^[+-]?(inf|infinity)$/.test(t)) return t.startsWith("-") ? -Infinity : Infinity;
  if (/^[+-]?nan$/.test(t)) return NaN;
  return null;
}

/** Python's round(int, ndigits): an int; a negative ndigits rounds half to even at that power of ten. */
function roundInt(x: number, precision: number): number {
  if (precision >= 0) return x;
  const factor = 10 ** -precision;
  const q = Math.floor(x / factor);
  const r = x - q * factor;
  const up = r * 2 > factor || (r * 2 === factor && q % 2 !== 0);
  return (up ? q + 1 : q) * factor;
}

function pyRound(x: number, precision: number, method: string): unknown {
  if (method === "common") {
    if (precision >= 0) {
      const r = Number(toFixed(x, precision));
      return mkFloat(r === 0 && (x < 0 || Object.is(x, -0)) ? -0 : r);
    }
    const factor = 10 ** -precision;
    return mkFloat(roundHalfEven(x / factor) * factor);
  }
  const factor = 10 ** precision;
  const fn = method === "ceil" ? Math.ceil : Math.floor;
  return mkFloat(fn(x * factor) / factor);
}

/** Jinja's round on a Decimal: round(d, p) stays Decimal; ceil/floor go through math.ceil/floor to int, then int / int. */
function decimalRound(d: PyDecimal, precision: unknown, method: string): unknown {
  if (!isInt(precision)) throw typeError(`'${typeName(precision)}' object cannot be interpreted as an integer`);
  const p = num(precision);
  if (method === "common") return d.round(p);
  if (p < 0) throw typeError("unsupported operand type(s) for *: 'decimal.Decimal' and 'float'");
  const scaled = binop("*", d, 10 ** p) as PyDecimal;
  let n = scaled.toBigInt();
  if (!scaled.isIntegral()) {
    if (method === "ceil" && !scaled.neg) n += 1n;
    if (method === "floor" && scaled.neg) n -= 1n;
  }
  return mkFloat(Number(n) / 10 ** p);
}

/** Python's isinstance(v, Iterable) for template values (Undefined iterates empty). */
function isIterable(v: unknown): boolean {
  if (isUndefined(v)) return true;
  try {
    iterate(v);
    return true;
  } catch (e) {
    if (e instanceof PyError && e.pyType === "TypeError") return false;
    throw e;
  }
}

/** Python's urllib.parse.quote with the given safe characters. */
function urlQuote(s: string, safe: string): string {
  const bytes = new TextEncoder().encode(s);
  let out = "";
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9_.\-~]/.test(c) || (b < 128 && safe.includes(c))) out += c;
    else out += `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

function urlencodeValue(v: unknown, forQs: boolean): string {
  const s = isString(v) ? strValue(v) : str(v);
  const q = urlQuote(s, forQs ? "" : "/");
  return forQs ? q.replace(/%20/g, "+") : q;
}

function doIndent(s: string, width: unknown, first: boolean, blank: boolean): string {
  const ind = isString(width) ? strValue(width) : " ".repeat(num(width));
  const text = `${s}\n`;
  const lines = text.split("\n");
  lines.pop();
  let rv: string;
  if (blank) rv = lines.join(`\n${ind}`);
  else {
    const [head, ...rest] = lines;
    rv = [head ?? "", ...rest.map((l) => (l ? ind + l : l))].join("\n");
  }
  if (first) rv = ind + rv;
  return rv;
}

/** A simplified textwrap.wrap (no hyphen splitting inside words unless break_on_hyphens). */
function wrapLine(line: string, width: number, breakLong: boolean, breakOnHyphens: boolean): string[] {
  const chunks = line.split(breakOnHyphens ? /(\s+|(?<=[^\s-]-)(?=[^\s-]))/ : /(\s+)/).filter((c) => c !== "" && c !== undefined);
  const lines: string[] = [];
  let cur: string[] = [];
  let curLen = 0;
  while (chunks.length) {
    if (cur.length === 0 && /^\s+$/.test(chunks[0] as string) && lines.length) {
      chunks.shift();
      continue;
    }
    const chunk = chunks[0] as string;
    if (curLen + chunk.length <= width) {
      cur.push(chunk);
      curLen += chunk.length;
      chunks.shift();
      continue;
    }
    if (chunk.length > width && breakLong) {
      const room = Math.max(1, width - curLen);
      cur.push(chunk.slice(0, room));
      chunks[0] = chunk.slice(room);
      curLen += room;
    } else if (cur.length === 0) {
      cur.push(chunk);
      chunks.shift();
    }
    while (cur.length && /^\s+$/.test(cur[cur.length - 1] as string)) cur.pop();
    if (cur.length) lines.push(cur.join(""));
    cur = [];
    curLen = 0;
  }
  while (cur.length && /^\s+$/.test(cur[cur.length - 1] as string)) cur.pop();
  if (cur.length) lines.push(cur.join(""));
  return lines;
}

function prepareMap(env: EvalEnv, args: unknown[], kwargs: Kwargs): (v: unknown) => unknown {
  if (args.length === 0 && Object.hasOwn(kwargs, "attribute")) {
    const { attribute, default: dflt, ...rest } = kwargs;
    if (Object.keys(rest).length) throw new PyError("FilterArgumentError", "Unexpected keyword argument " + repr(Object.keys(rest)[0]));
    return attrGetter(attribute, undefined, dflt === undefined ? MISSING : dflt);
  }
  const [name, ...rest] = args;
  if (typeof name !== "string") throw new PyError("FilterArgumentError", "map requires a filter argument");
  const filter = lookupFilter(name);
  return (v) => filter(env, v, rest, kwargs);
}

function prepareSelect(env: EvalEnv, args: unknown[], kwargs: Kwargs, lookupAttr: boolean): (v: unknown) => boolean {
  let rest = args;
  let getter: (v: unknown) => unknown = (v) => v;
  if (lookupAttr) {
    const [attr, ...more] = args;
    if (attr === undefined) throw new PyError("FilterArgumentError", "Missing parameter for attribute name");
    getter = attrGetter(attr);
    rest = more;
  }
  if (rest.length === 0) return (v) => truthy(getter(v));
  const [name, ...testArgs] = rest;
  const test = lookupTest(String(name));
  return (v) => test(env, getter(v), testArgs, kwargs);
}

function selectOrReject(env: EvalEnv, value: unknown, args: unknown[], kwargs: Kwargs, attr: boolean, want: boolean, label: string): PyGenerator {
  const pred = prepareSelect(env, args, kwargs, attr);
  return new PyGenerator(
    truthy(value) ? iterate(value).filter((v) => pred(v) === want) : [],
    label,
  );
}

/** pprint.pformat for values that fit on one line: repr with dict keys sorted. */
function pformat(v: unknown): string {
  if (isDict(v)) {
    const entries = [...dictEntries(v)].sort((a, b) => order("<", a[0], b[0]) || 0);
    return `{${entries.map(([k, x]) => `${pformat(k)}: ${pformat(x)}`).join(", ")}}`;
  }
  if (Array.isArray(v)) {
    const inner = v.map(pformat).join(", ");
    if (!isTupleValue(v)) return `[${inner}]`;
    return v.length === 1 ? `(${inner},)` : `(${inner})`;
  }
  return repr(v);
}

function lookupFilter(name: string): Filter {
  const fl = Object.hasOwn(FILTERS, name) ? FILTERS[name] : undefined;
  if (!fl) throw new PyError("TemplateRuntimeError", `No filter named '${name}' found.`);
  return fl;
}

function lookupTest(name: string): Test {
  const t = Object.hasOwn(TESTS, name) ? TESTS[name] : undefined;
  if (!t) throw new PyError("TemplateRuntimeError", `No test named '${name}' found.`);
  return t;
}

function minMax(value: unknown, caseSensitive: unknown, attribute: unknown, sign: number): unknown {
  const items = iterate(value);
  if (items.length === 0) return new Undefined("No aggregated item, sequence was empty.");
  const key = sortKey(caseSensitive, attribute);
  let best = items[0];
  let bestKey = key(best);
  for (const v of items.slice(1)) {
    const k = key(v);
    if (order("<", k, bestKey) * sign < 0) {
      best = v;
      bestKey = k;
    }
  }
  return best;
}

function groupBy(value: unknown, attribute: unknown, dflt: unknown, caseSensitive: unknown): unknown[] {
  const getter = attrGetter(attribute, truthy(caseSensitive) ? undefined : ignoreCase, dflt === null ? MISSING : dflt);
  const rawGetter = attrGetter(attribute, undefined, dflt === null ? MISSING : dflt);
  const sorted = sortBy(iterate(value), getter, false);
  const groups: unknown[] = [];
  let curKey: unknown = MISSING;
  let cur: unknown[] = [];
  let grouper: unknown = null;
  for (const item of sorted) {
    const k = getter(item);
    if (curKey === MISSING || !eq(k, curKey)) {
      if (curKey !== MISSING) groups.push(namedTuple([grouper, cur], ["grouper", "list"]));
      curKey = k;
      grouper = truthy(caseSensitive) ? k : rawGetter(item);
      cur = [];
    }
    cur.push(item);
  }
  if (curKey !== MISSING) groups.push(namedTuple([grouper, cur], ["grouper", "list"]));
  return groups;
}

function sumOf(value: unknown, attribute: unknown, start: unknown): unknown {
  let total = start;
  const items = iterate(value);
  const get = attribute === null ? (v: unknown) => v : attrGetter(attribute);
  for (const v of items) total = binAdd(total, get(v));
  return total;
}

const binAdd = (a: unknown, b: unknown): unknown => binop("+", a, b);

function truncate(s: string, length: number, killwords: boolean, end: string, leeway: number): string {
  const endLength = Array.from(end).length;
  if (length < endLength) throw new PyError("AssertionError", `expected length >= ${endLength}, got ${length}`);
  if (leeway < 0) throw new PyError("AssertionError", `expected leeway >= 0, got ${leeway}`);
  const chars = Array.from(s);
  if (chars.length <= length + leeway) return s;
  if (killwords) return chars.slice(0, length - end.length).join("") + end;
  const head = chars.slice(0, length - end.length).join("");
  const idx = head.lastIndexOf(" ");
  return (idx >= 0 ? head.slice(0, idx) : head) + end;
}

export const FILTERS: Record<string, Filter> = {
  abs: f("abs", [], (_e, v) => {
    if (typeof v === "boolean") return v ? 1 : 0;
    if (v instanceof PyDecimal) return v.abs();
    if (v instanceof PyFloat) return new PyFloat(Math.abs(v.v));
    if (typeof v === "number") return Math.abs(v);
    if (v instanceof PyObject) {
      const negated = v.binop("*", -1, true);
      return order("<", v, negated) < 0 ? negated : v;
    }
    throw typeError(`bad operand type for abs(): '${typeName(v)}'`);
  }),
  attr: f("attr", [["name", REQUIRED]], (_e, v, name) => attrOnly(v, String(name))),
  batch: f("batch", [["linecount", REQUIRED], ["fill_with", null]], (_e, v, n, fill) => {
    const size = num(n);
    const out: unknown[][] = [];
    let cur: unknown[] = [];
    for (const item of iterate(v)) {
      if (cur.length === size) {
        out.push(cur);
        cur = [];
      }
      cur.push(item);
    }
    if (cur.length) {
      if (fill !== null && cur.length < size) while (cur.length < size) cur.push(fill);
      out.push(cur);
    }
    return new PyGenerator(out, "generator object do_batch");
  }),
  capitalize: f("capitalize", [], (_e, v) => {
    return keepMarkup(v, pyCapitalize(strValue(softStr(v))));
  }),
  center: f("center", [["width", 80]], (_e, v, w) => pyCenter(str(v), num(w))),
  count: (e, v, a, k) => FILTERS.length?.(e, v, a, k),
  d: (e, v, a, k) => FILTERS.default?.(e, v, a, k),
  default: f("default", [["default_value", ""], ["boolean", false]], (_e, v, dflt, boolean) => {
    if (isUndefined(v) || (truthy(boolean) && !truthy(v))) return dflt;
    return v;
  }),
  dictsort: f("dictsort", [["case_sensitive", false], ["by", "key"], ["reverse", false]], (_e, v, cs, by, rev) => {
    if (!isDict(v)) throw typeError("dictsort filter requires a dict");
    const pos = by === "key" ? 0 : by === "value" ? 1 : -1;
    if (pos < 0) throw new PyError("FilterArgumentError", 'You can only sort by either "key" or "value"');
    const items = dictEntries(v).map(([k, x]) => tuple([k, x]));
    return sortBy(items, (item) => {
      const x = (item as unknown[])[pos];
      return truthy(cs) ? x : ignoreCase(x);
    }, truthy(rev));
  }),
  e: (e, v, a, k) => FILTERS.escape?.(e, v, a, k),
  escape: f("escape", [], (_e, v) => escape(v)),
  filesizeformat: f("filesizeformat", [["binary", false]], (_e, v, binary) => {
    failIfUndefined(v);
    const bytes = v instanceof PyDecimal ? v.toNumber() : num(isString(v) ? Number(strValue(v)) : v);
    const base = truthy(binary) ? 1024 : 1000;
    const prefixes = truthy(binary) ? ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"] : ["kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    if (bytes === 1) return "1 Byte";
    if (bytes < base) return `${Math.trunc(bytes)} Bytes`;
    let unit = base;
    let prefix = prefixes[0] as string;
    for (let i = 0; i < prefixes.length; i++) {
      unit = base ** (i + 2);
      prefix = prefixes[i] as string;
      if (bytes < unit) break;
    }
    return `${toFixed((base * bytes) / unit, 1)} ${prefix}`;
  }),
  first: f("first", [], (_e, v) => {
    const items = iterate(v);
    return items.length ? items[0] : new Undefined("No first item, sequence was empty.");
  }),
  float: f("float", [["default", new PyFloat(0)]], (_e, v, dflt) => {
    failIfUndefined(v);
    if (v instanceof PyDecimal || v instanceof PyBigInt) return mkFloat(v.toNumber());
    if (isString(v)) {
      const x = pyFloat(strValue(v));
      return x === null ? dflt : mkFloat(x);
    }
    if (isNumber(v)) return mkFloat(num(v));
    return dflt;
  }),
  forceescape: f("forceescape", [], (_e, v) => new Markup(escapeHtml(strValue(softStr(v))))),
  format: (_e, v, args, kwargs) => {
    if (args.length && Object.keys(kwargs).length) throw new PyError("FilterArgumentError", "can't handle positional and keyword arguments at the same time");
    const values = Object.keys(kwargs).length ? newDict(Object.entries(kwargs)) : tuple(args);
    const s = softStr(v);
    return s instanceof Markup ? new Markup(percentFormat(s.s, values)) : percentFormat(s, values);
  },
  groupby: f("groupby", [["attribute", REQUIRED], ["default", null], ["case_sensitive", false]], (_e, v, a, d, cs) => groupBy(v, a, d, cs)),
  indent: f("indent", [["width", 4], ["first", false], ["blank", false]], (_e, v, w, first, blank) =>
    keepMarkup(v, doIndent(strValue(softStr(v)), w, truthy(first), truthy(blank))),
  ),
  int: f("int", [["default", 0], ["base", 10]], (_e, v, dflt, base) => toInt(v, dflt, base)),
  items: f("items", [], (_e, v) => {
    if (isUndefined(v)) return new PyGenerator([], "generator object do_items");
    if (!isDict(v)) throw typeError(`Can only get item pairs from a mapping.`);
    return new PyGenerator(
      dictEntries(v).map(([k, x]) => tuple([k, x])),
      "dict_itemiterator",
    );
  }),
  join: f("join", [["d", ""], ["attribute", null]], (env, v, d, attribute) => {
    let items = iterate(v);
    if (attribute !== null) items = items.map(attrGetter(attribute));
    if (!env.autoescape) return items.map((x) => str(x)).join(str(d));
    const anyMarkup = d instanceof Markup || items.some((x) => x instanceof Markup);
    if (!anyMarkup) return items.map((x) => str(x)).join(str(d));
    return new Markup(items.map((x) => escape(x).s).join(escape(d).s));
  }),
  last: f("last", [], (_e, v) => {
    const items = iterate(v);
    return items.length ? items[items.length - 1] : new Undefined("No last item, sequence was empty.");
  }),
  length: f("length", [], (_e, v) => len(v)),
  list: f("list", [], (_e, v) => [...iterate(v)]),
  lower: f("lower", [], (_e, v) => keepMarkup(v, strValue(softStr(v)).toLowerCase())),
  map: (env, v, args, kwargs) => {
    const fn = prepareMap(env, args, kwargs);
    return new PyGenerator(truthy(v) ? iterate(v).map(fn) : [], "generator object sync_do_map");
  },
  max: f("max", [["case_sensitive", false], ["attribute", null]], (_e, v, cs, a) => minMax(v, cs, a, -1)),
  min: f("min", [["case_sensitive", false], ["attribute", null]], (_e, v, cs, a) => minMax(v, cs, a, 1)),
  pprint: f("pprint", [], (_e, v) => pformat(v)),
  random: f("random", [], (_e, v) => {
    const items = iterate(v);
    if (!items.length) throw new PyError("IndexError", "Cannot choose from an empty sequence");
    return items[Math.floor(Math.random() * items.length)];
  }),
  reject: (env, v, args, kwargs) => selectOrReject(env, v, args, kwargs, false, false, "generator object select_or_reject"),
  rejectattr: (env, v, args, kwargs) => selectOrReject(env, v, args, kwargs, true, false, "generator object select_or_reject"),
  replace: f("replace", [["old", REQUIRED], ["new", REQUIRED], ["count", null]], (env, v, o, n, c) => {
    const count = c === null ? -1 : num(c);
    if (!env.autoescape) return replaceN(str(v), str(o), str(n), count);
    const markup = v instanceof Markup || o instanceof Markup || n instanceof Markup;
    if (!markup) return replaceN(str(v), str(o), str(n), count);
    return new Markup(replaceN(escape(v).s, escape(o).s, escape(n).s, count));
  }),
  reverse: f("reverse", [], (_e, v) => {
    if (isString(v)) return keepMarkup(v, Array.from(strValue(v)).reverse().join(""));
    return new PyGenerator([...iterate(v)].reverse(), "list_reverseiterator");
  }),
  round: f("round", [["precision", 0], ["method", "common"]], (_e, v, p, m) => {
    if (!["common", "ceil", "floor"].includes(String(m))) throw new PyError("FilterArgumentError", "method must be common, ceil or floor");
    if (v instanceof PyDecimal) return decimalRound(v, p, String(m));
    if (isUndefined(v)) throw typeError("type Undefined doesn't define __round__ method");
    if (isInt(v) && m === "common") return roundInt(num(v), num(p));
    return pyRound(num(v), num(p), String(m));
  }),
  safe: f("safe", [], (_e, v) => (v instanceof Markup ? v : new Markup(str(v)))),
  select: (env, v, args, kwargs) => selectOrReject(env, v, args, kwargs, false, true, "generator object select_or_reject"),
  selectattr: (env, v, args, kwargs) => selectOrReject(env, v, args, kwargs, true, true, "generator object select_or_reject"),
  slice: f("slice", [["slices", REQUIRED], ["fill_with", null]], (_e, v, n, fill) => {
    const seq = [...iterate(v)];
    const slices = num(n);
    const perSlice = Math.floor(seq.length / slices);
    const withExtra = seq.length % slices;
    let offset = 0;
    const out: unknown[][] = [];
    for (let i = 0; i < slices; i++) {
      const start = offset + i * perSlice;
      if (i < withExtra) offset++;
      const end = offset + (i + 1) * perSlice;
      const tmp = seq.slice(start, end);
      if (fill !== null && i >= withExtra) tmp.push(fill);
      out.push(tmp);
    }
    return new PyGenerator(out, "generator object sync_do_slice");
  }),
  sort: f("sort", [["reverse", false], ["case_sensitive", false], ["attribute", null]], (_e, v, rev, cs, a) =>
    sortBy([...iterate(v)], sortKey(cs, a), truthy(rev)),
  ),
  string: f("string", [], (_e, v) => softStr(v)),
  striptags: f("striptags", [], (_e, v) => {
    const s = strValue(softStr(v))
      .replace(/<!--.*?-->|<[^>]*>/gs, "")
      .split(/\s+/)
      .filter(Boolean)
      .join(" ");
    return s.replace(/&(#\d+|#x[\da-f]+|amp|lt|gt|quot|#39|apos);/gi, (m) => ({ "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'", "&apos;": "'" })[m.toLowerCase()] ?? m);
  }),
  sum: f("sum", [["attribute", null], ["start", 0]], (_e, v, a, s) => sumOf(v, a, s)),
  title: f("title", [], (_e, v) => {
    const s = strValue(softStr(v));
    const parts = s.split(/([-\s({[<]+)/u);
    return keepMarkup(v, parts.filter((p) => p).map((p) => (/^[-\s({[<]+$/u.test(p) ? p : (Array.from(p)[0] as string).toUpperCase() + Array.from(p).slice(1).join("").toLowerCase())).join(""));
  }),
  tojson: f("tojson", [["indent", null]], (_e, v, indent) => htmlSafeJson(v, indent === null ? null : num(indent))),
  trim: f("trim", [["chars", null]], (_e, v, chars) => {
    const s = strValue(softStr(v));
    if (chars === null) return keepMarkup(v, s.replace(/^[\s\x1c-\x1f\x85]+|[\s\x1c-\x1f\x85]+$/g, ""));
    const set = new Set(Array.from(str(chars)));
    const cs = Array.from(s);
    let a = 0;
    let b = cs.length;
    while (a < b && set.has(cs[a] as string)) a++;
    while (b > a && set.has(cs[b - 1] as string)) b--;
    return keepMarkup(v, cs.slice(a, b).join(""));
  }),
  truncate: f("truncate", [["length", 255], ["killwords", false], ["end", "..."], ["leeway", null]], (_e, v, l, k, end, lw) =>
    truncate(str(v), num(l), truthy(k), str(end), lw === null ? 5 : num(lw)),
  ),
  unique: f("unique", [["case_sensitive", false], ["attribute", null]], (_e, v, cs, a) => {
    const key = sortKey(cs, a);
    const seen = new Set<unknown>();
    const out: unknown[] = [];
    for (const item of iterate(v)) {
      const k = dictKey(key(item));
      if (!seen.has(k)) {
        seen.add(k);
        out.push(item);
      }
    }
    return new PyGenerator(out, "generator object do_unique");
  }),
  upper: f("upper", [], (_e, v) => keepMarkup(v, strValue(softStr(v)).toUpperCase())),
  urlencode: f("urlencode", [], (_e, v) => {
    if (isString(v) || !isIterable(v)) return urlencodeValue(v, false);
    const pairs = isDict(v) ? dictEntries(v) : iterate(v).map((p) => iterate(p) as [unknown, unknown]);
    return pairs.map(([k, x]) => `${urlencodeValue(k, true)}=${urlencodeValue(x, true)}`).join("&");
  }),
  urlize: f("urlize", [], (_e, v) => str(v)),
  wordcount: f("wordcount", [], (_e, v) => (str(v).match(/[\p{L}\p{N}_]+/gu) ?? []).length),
  wordwrap: f("wordwrap", [["width", 79], ["break_long_words", true], ["wrapstring", null], ["break_on_hyphens", true]], (_e, v, w, bl, ws, bh) => {
    const sep = ws === null ? "\n" : str(ws);
    return str(v)
      .split(/\r\n|\r|\n/)
      .map((line) => wrapLine(line, num(w), truthy(bl), truthy(bh)).join(sep))
      .join(sep);
  }),
  xmlattr: f("xmlattr", [["autospace", true]], (_e, v, autospace) => {
    if (!isDict(v)) throw typeError("xmlattr requires a dict");
    const parts = dictEntries(v)
      .filter(([, x]) => x !== null && !isUndefined(x))
      .map(([k, x]) => {
        const key = str(k);
        if (/[\s/>=]/.test(key)) throw new PyError("ValueError", `Invalid character in attribute name: ${repr(key)}`);
        return `${escapeHtml(key)}="${escape(x).s}"`;
      });
    const s = parts.join(" ");
    return new Markup(s && truthy(autospace) ? ` ${s}` : s);
  }),
};

// ---------------------------------------------------------------------------------------------
// Tests

function t(name: string, params: Params, body: (value: unknown, ...bound: unknown[]) => boolean): Test {
  return (_env, value, args, kwargs) => body(value, ...bindArgs(name, params, args, kwargs));
}

const isSequence = (v: unknown): boolean => {
  if (isString(v) || Array.isArray(v) || isDict(v)) return true;
  return v instanceof PyObject && v.len() !== undefined && v.iter() !== undefined;
};

export const TESTS: Record<string, Test> = {
  boolean: t("boolean", [], (v) => typeof v === "boolean"),
  callable: t("callable", [], (v) => isCallable(v) || (v instanceof PyObject && typeof (v as { call?: unknown }).call === "function")),
  defined: t("defined", [], (v) => !isUndefined(v)),
  divisibleby: t("divisibleby", [["num", REQUIRED]], (v, n) => {
    if (v instanceof PyDecimal || n instanceof PyDecimal) return eq(binop("%", v, n), 0);
    const d = num(n);
    if (d === 0) throw new PyError("ZeroDivisionError", "integer division or modulo by zero");
    return num(v) % d === 0;
  }),
  eq: t("eq", [["b", REQUIRED]], (v, b) => eq(v, b)),
  escaped: t("escaped", [], (v) => v instanceof Markup),
  even: t("even", [], (v) => {
    if (v instanceof PyDecimal) return eq(binop("%", v, 2), 0);
    if (!isNumber(v)) throw typeError(`not all arguments converted during string formatting`);
    return num(v) % 2 === 0;
  }),
  false: t("false", [], (v) => v === false),
  filter: t("filter", [], (v) => typeof v === "string" && Object.hasOwn(FILTERS, v)),
  float: t("float", [], (v) => isFloat(v)),
  ge: t("ge", [["b", REQUIRED]], (v, b) => compare(">=", v, b)),
  gt: t("gt", [["b", REQUIRED]], (v, b) => compare(">", v, b)),
  in: t("in", [["seq", REQUIRED]], (v, seq) => contains(seq, v)),
  integer: t("integer", [], (v) => (typeof v === "number" && Number.isInteger(v)) || v instanceof PyBigInt),
  iterable: t("iterable", [], (v) => isIterable(v)),
  le: t("le", [["b", REQUIRED]], (v, b) => compare("<=", v, b)),
  lower: t("lower", [], (v) => {
    const s = str(v);
    return s === s.toLowerCase() && s.toUpperCase() !== s.toLowerCase();
  }),
  lt: t("lt", [["b", REQUIRED]], (v, b) => compare("<", v, b)),
  mapping: t("mapping", [], (v) => isDict(v)),
  ne: t("ne", [["b", REQUIRED]], (v, b) => !eq(v, b)),
  none: t("none", [], (v) => v === null),
  number: t("number", [], (v) => isNumber(v) || v instanceof PyDecimal || v instanceof PyBigInt),
  odd: t("odd", [], (v) => {
    if (v instanceof PyDecimal) return eq(binop("%", v, 2), 1);
    if (!isNumber(v)) throw typeError(`not all arguments converted during string formatting`);
    return Math.abs(num(v) % 2) === 1;
  }),
  sameas: t("sameas", [["other", REQUIRED]], (v, o) => v === o || (isUndefined(v) && isUndefined(o) && v === o)),
  sequence: t("sequence", [], (v) => isSequence(v)),
  string: t("string", [], (v) => isString(v)),
  test: t("test", [], (v) => typeof v === "string" && Object.hasOwn(TESTS, v)),
  true: t("true", [], (v) => v === true),
  undefined: t("undefined", [], (v) => isUndefined(v)),
  upper: t("upper", [], (v) => {
    const s = str(v);
    return s === s.toUpperCase() && s.toUpperCase() !== s.toLowerCase();
  }),
};
Object.assign(TESTS, {
  "==": TESTS.eq,
  equalto: TESTS.eq,
  "!=": TESTS.ne,
  "<": TESTS.lt,
  lessthan: TESTS.lt,
  "<=": TESTS.le,
  ">": TESTS.gt,
  greaterthan: TESTS.gt,
  ">=": TESTS.ge,
});

export { adapt, call, getattr };
