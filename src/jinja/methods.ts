/**
 * Methods and attributes of Python's built-in types as templates see them: str, int/float, list,
 * tuple and dict (`'a,b'.split(',')`, `d.items()`, `lst.append(x)`).
 */
import { PyError, typeError, valueError } from "./errors.ts";
import { strFormat } from "./format.ts";
import { contains, eq, order } from "./ops.ts";
import {
  type Kwargs,
  EMPTY_KWARGS,
  MISSING,
  Markup,
  PyFloat,
  PyFunction,
  PyObject,
  REQUIRED,
  bindArgs,
  own,
  dictDelete,
  dictEntries,
  newDict,
  dictGet,
  dictHas,
  dictKeys,
  dictSet,
  dictSize,
  dictValues,
  escapeHtml,
  isDict,
  isFloat,
  isString,
  isTuple,
  iterate,
  mkFloat,
  num,
  repr,
  str,
  strValue,
  truthy,
  tuple,
  typeName,
  type PyDict,
} from "./values.ts";
import { call } from "./ops.ts";

type Method<T> = (self: T, args: unknown[], kwargs: Kwargs) => unknown;
type Params = readonly (readonly [string, unknown])[];

function method<T>(name: string, params: Params, body: (self: T, ...bound: unknown[]) => unknown): Method<T> {
  return (self, args, kwargs) => body(self, ...bindArgs(name, params, args, kwargs));
}

/** The attribute `name` of a built-in value, or MISSING. */
export function builtinAttr(obj: unknown, name: string): unknown {
  if (typeof obj === "string" || obj instanceof Markup) {
    const m = own(STR_METHODS, name);
    if (!m) return MISSING;
    const s = strValue(obj);
    const markup = obj instanceof Markup;
    return new PyFunction(name, (args, kwargs) => {
      const r = m(s, markup ? args.map(escapeArg) : args, kwargs);
      return markup && typeof r === "string" ? new Markup(r) : r;
    }).boundTo(obj);
  }
  if (Array.isArray(obj)) {
    const m = own(isTuple(obj) ? TUPLE_METHODS : LIST_METHODS, name);
    return m ? new PyFunction(name, (args, kwargs) => m(obj, args, kwargs)).boundTo(obj) : MISSING;
  }
  if (isDict(obj)) {
    const m = own(DICT_METHODS, name);
    return m ? new PyFunction(name, (args, kwargs) => m(obj, args, kwargs)).boundTo(obj) : MISSING;
  }
  if (typeof obj === "number" || typeof obj === "boolean" || obj instanceof PyFloat) return numberAttr(obj, name);
  return MISSING;
}

function escapeArg(a: unknown): unknown {
  return typeof a === "string" ? escapeHtml(a) : a;
}

function numberAttr(v: number | boolean | PyFloat, name: string): unknown {
  const x = num(v);
  const float = isFloat(v);
  switch (name) {
    case "real":
      return float ? mkFloat(x) : x;
    case "imag":
      return float ? new PyFloat(0) : 0;
    case "numerator":
      return float ? MISSING : x;
    case "denominator":
      return float ? MISSING : 1;
    case "is_integer":
      return new PyFunction(name, () => Number.isInteger(x));
    case "bit_length":
      return float ? MISSING : new PyFunction(name, () => (x === 0 ? 0 : Math.abs(x).toString(2).length));
    case "conjugate":
      return new PyFunction(name, () => v);
  }
  return MISSING;
}

// ---------------------------------------------------------------------------------------------
// str

const WS = "\\s\\x1c-\\x1f\\x85";
const WS_RUN = new RegExp(`[${WS}]+`);
const LEADING_WS = new RegExp(`^[${WS}]+`);
const TRAILING_WS = new RegExp(`[${WS}]+$`);

function needStr(v: unknown, what: string): string {
  if (isString(v)) return strValue(v);
  throw typeError(`${what} arg must be None or str`);
}

function stripChars(s: string, chars: unknown, left: boolean, right: boolean): string {
  if (chars === null || chars === undefined) {
    if (left) s = s.replace(LEADING_WS, "");
    if (right) s = s.replace(TRAILING_WS, "");
    return s;
  }
  const set = new Set(Array.from(needStr(chars, "strip")));
  const cs = Array.from(s);
  let a = 0;
  let b = cs.length;
  if (left) while (a < b && set.has(cs[a] as string)) a++;
  if (right) while (b > a && set.has(cs[b - 1] as string)) b--;
  return cs.slice(a, b).join("");
}

export function pySplit(s: string, sep: unknown, maxsplit: number): string[] {
  if (sep === null || sep === undefined) {
    const out: string[] = [];
    let rest = s.replace(LEADING_WS, "");
    while (rest !== "") {
      if (maxsplit >= 0 && out.length === maxsplit) {
        out.push(rest.replace(TRAILING_WS, "") === rest ? rest : rest);
        return out;
      }
      const m = WS_RUN.exec(rest);
      if (!m) {
        out.push(rest);
        break;
      }
      out.push(rest.slice(0, m.index));
      rest = rest.slice(m.index + m[0].length);
    }
    return out;
  }
  const sp = needStr(sep, "split");
  if (sp === "") throw valueError("empty separator");
  const parts = s.split(sp);
  if (maxsplit < 0 || parts.length <= maxsplit + 1) return parts;
  return [...parts.slice(0, maxsplit), parts.slice(maxsplit).join(sp)];
}

function pyRsplit(s: string, sep: unknown, maxsplit: number): string[] {
  if (maxsplit < 0) return pySplit(s, sep, -1);
  if (sep === null || sep === undefined) {
    const out: string[] = [];
    let rest = s.replace(TRAILING_WS, "");
    while (rest !== "") {
      if (out.length === maxsplit) {
        out.unshift(rest);
        return out;
      }
      const m = /[\s\x1c-\x1f\x85]+(?=[^\s\x1c-\x1f\x85]*$)/.exec(rest);
      if (!m) {
        out.unshift(rest);
        break;
      }
      out.unshift(rest.slice(m.index + m[0].length));
      rest = rest.slice(0, m.index);
    }
    return out;
  }
  const sp = needStr(sep, "rsplit");
  if (sp === "") throw valueError("empty separator");
  const parts = s.split(sp);
  if (parts.length <= maxsplit + 1) return parts;
  const keep = parts.length - maxsplit;
  return [parts.slice(0, keep).join(sp), ...parts.slice(keep)];
}

/** Resolves Python's optional start/end arguments against a string. */
function window(s: string, start: unknown, end: unknown): [string, number] {
  const chars = Array.from(s);
  const n = chars.length;
  const norm = (v: unknown, d: number): number => {
    if (v === null || v === undefined) return d;
    let i = num(v);
    if (i < 0) i = Math.max(0, i + n);
    return Math.min(i, n);
  };
  const a = norm(start, 0);
  const b = norm(end, n);
  return [b >= a ? chars.slice(a, b).join("") : "", a];
}

function prefixes(v: unknown, what: string): string[] {
  if (isTuple(v)) return (v as unknown[]).map((x) => needStr(x, what));
  if (isString(v)) return [strValue(v)];
  throw typeError(`${what} first arg must be str or a tuple of str, not ${typeName(v)}`);
}

/** Titlecase forms JS has no mapping for: the Latin digraphs (their upper case is a different letter). */
const TITLE_DIGRAPHS: Record<string, string> = { Ǆ: "ǅ", ǅ: "ǅ", ǆ: "ǅ", Ǉ: "ǈ", ǈ: "ǈ", ǉ: "ǈ", Ǌ: "ǋ", ǋ: "ǋ", ǌ: "ǋ", Ǳ: "ǲ", ǲ: "ǲ", ǳ: "ǲ" };

const isCased = (c: string): boolean => c.toUpperCase() !== c.toLowerCase() || /\p{Lt}/u.test(c);

/** Python's titlecase of one character: `ﬁ` → `Fi`, `ß` → `Ss`, `ǆ` → `ǅ`. */
function titleChar(c: string): string {
  const digraph = TITLE_DIGRAPHS[c];
  if (digraph) return digraph;
  const up = Array.from(c.toUpperCase());
  return up.length > 1 ? (up[0] as string) + up.slice(1).join("").toLowerCase() : c.toUpperCase();
}

/** Lower case of chars[i] in context: a capital sigma ending a word becomes `ς`, as Python's lower() does. */
function lowerAt(chars: string[], i: number, prevCased: boolean): string {
  const c = chars[i] as string;
  if (c !== "Σ") return c.toLowerCase();
  const next = chars[i + 1];
  return prevCased && !(next !== undefined && isCased(next)) ? "ς" : "σ";
}

export function pyCapitalize(s: string): string {
  const cs = Array.from(s);
  if (!cs.length) return "";
  return titleChar(cs[0] as string) + cs.map((_, i) => (i === 0 ? "" : lowerAt(cs, i, isCased(cs[i - 1] as string)))).join("");
}

export function pyTitle(s: string): string {
  const cs = Array.from(s);
  let prevCased = false;
  let out = "";
  cs.forEach((c, i) => {
    const cased = isCased(c);
    out += cased ? (prevCased ? lowerAt(cs, i, true) : titleChar(c)) : c;
    prevCased = cased;
  });
  return out;
}

/** Python's swapcase: upper and lower letters swap; titlecase letters (`ǅ`) stay. */
function pySwapcase(s: string): string {
  const cs = Array.from(s);
  return cs.map((c, i) => (/\p{Lu}/u.test(c) ? lowerAt(cs, i, i > 0 && isCased(cs[i - 1] as string)) : /\p{Ll}/u.test(c) ? c.toUpperCase() : c)).join("");
}

/** Python's casefold: full case folding (`ß` → `ss`, `ﬁ` → `fi`, every sigma → `σ`). */
function pyCasefold(s: string): string {
  return Array.from(s)
    .map((c) => {
      const lower = c.toLowerCase();
      if (lower !== c || c === "ı") return lower;
      return c.toUpperCase().toLowerCase();
    })
    .join("");
}

export function pyCenter(s: string, width: number, fill = " "): string {
  const n = Array.from(s).length;
  const marg = width - n;
  if (marg <= 0) return s;
  const left = Math.floor(marg / 2) + (marg & width & 1);
  return fill.repeat(left) + s + fill.repeat(marg - left);
}

function countSub(s: string, sub: string): number {
  if (sub === "") return Array.from(s).length + 1;
  let n = 0;
  let i = s.indexOf(sub);
  while (i >= 0) {
    n++;
    i = s.indexOf(sub, i + sub.length);
  }
  return n;
}

function codeIndex(s: string, utf16: number): number {
  return utf16 < 0 ? -1 : Array.from(s.slice(0, utf16)).length;
}

/** Python's str.replace (an empty `old` inserts `repl` around every character). */
export function replaceN(s: string, old: string, repl: string, count: number): string {
  if (count < 0 && old !== "") return s.split(old).join(repl);
  if (count < 0) count = Number.MAX_SAFE_INTEGER;
  if (old === "") {
    const cs = Array.from(s);
    let out = "";
    for (let i = 0; i <= cs.length; i++) {
      out += (i < count ? repl : "") + (cs[i] ?? "");
    }
    return out;
  }
  const parts = s.split(old);
  if (parts.length - 1 <= count) return parts.join(repl);
  return parts.slice(0, count + 1).join(repl) + old + parts.slice(count + 1).join(old);
}

function isTitle(s: string): boolean {
  let cased = false;
  let prevCased = false;
  for (const c of s) {
    const upper = c !== c.toLowerCase();
    const lower = c !== c.toUpperCase();
    if (upper) {
      if (prevCased) return false;
      prevCased = cased = true;
    } else if (lower) {
      if (!prevCased) return false;
      prevCased = cased = true;
    } else prevCased = false;
  }
  return cased;
}

const hasCased = (s: string): boolean => s.toUpperCase() !== s.toLowerCase();

const STR_METHODS: Record<string, Method<string>> = {
  split: method("split", [["sep", null], ["maxsplit", -1]], (s, sep, n) => pySplit(s, sep, num(n))),
  rsplit: method("rsplit", [["sep", null], ["maxsplit", -1]], (s, sep, n) => pyRsplit(s, sep, num(n))),
  splitlines: method("splitlines", [["keepends", false]], (s, keep) => {
    const parts = s.match(/[^\n\r\v\f\x1c-\x1e\x85\u2028\u2029]*(\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]|$)/g) ?? [];
    const lines = parts.filter((p, i) => p !== "" || i < parts.length - 1).filter((p) => p !== "");
    return truthy(keep) ? lines : lines.map((l) => l.replace(/(\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029])$/, ""));
  }),
  strip: method("strip", [["chars", null]], (s, c) => stripChars(s, c, true, true)),
  lstrip: method("lstrip", [["chars", null]], (s, c) => stripChars(s, c, true, false)),
  rstrip: method("rstrip", [["chars", null]], (s, c) => stripChars(s, c, false, true)),
  upper: method("upper", [], (s) => s.toUpperCase()),
  lower: method("lower", [], (s) => s.toLowerCase()),
  casefold: method("casefold", [], (s) => pyCasefold(s)),
  swapcase: method("swapcase", [], (s) => pySwapcase(s)),
  title: method("title", [], (s) => pyTitle(s)),
  capitalize: method("capitalize", [], (s) => pyCapitalize(s)),
  replace: method("replace", [["old", REQUIRED], ["new", REQUIRED], ["count", -1]], (s, o, n, c) =>
    replaceN(s, needStr(o, "replace"), needStr(n, "replace"), num(c)),
  ),
  startswith: method("startswith", [["prefix", REQUIRED], ["start", null], ["end", null]], (s, p, a, b) => {
    const [w] = window(s, a, b);
    return prefixes(p, "startswith").some((x) => w.startsWith(x));
  }),
  endswith: method("endswith", [["suffix", REQUIRED], ["start", null], ["end", null]], (s, p, a, b) => {
    const [w] = window(s, a, b);
    return prefixes(p, "endswith").some((x) => w.endsWith(x));
  }),
  find: method("find", [["sub", REQUIRED], ["start", null], ["end", null]], (s, sub, a, b) => {
    const [w, off] = window(s, a, b);
    const i = codeIndex(w, w.indexOf(needStr(sub, "find")));
    return i < 0 ? -1 : i + off;
  }),
  rfind: method("rfind", [["sub", REQUIRED], ["start", null], ["end", null]], (s, sub, a, b) => {
    const [w, off] = window(s, a, b);
    const i = codeIndex(w, w.lastIndexOf(needStr(sub, "rfind")));
    return i < 0 ? -1 : i + off;
  }),
  index: method("index", [["sub", REQUIRED], ["start", null], ["end", null]], (s, sub, a, b) => {
    const [w, off] = window(s, a, b);
    const i = codeIndex(w, w.indexOf(needStr(sub, "index")));
    if (i < 0) throw valueError("substring not found");
    return i + off;
  }),
  rindex: method("rindex", [["sub", REQUIRED], ["start", null], ["end", null]], (s, sub, a, b) => {
    const [w, off] = window(s, a, b);
    const i = codeIndex(w, w.lastIndexOf(needStr(sub, "rindex")));
    if (i < 0) throw valueError("substring not found");
    return i + off;
  }),
  count: method("count", [["sub", REQUIRED], ["start", null], ["end", null]], (s, sub, a, b) =>
    countSub(window(s, a, b)[0], needStr(sub, "count")),
  ),
  join: method("join", [["iterable", REQUIRED]], (s, it) =>
    iterate(it)
      .map((x, i) => {
        if (!isString(x)) throw typeError(`sequence item ${i}: expected str instance, ${typeName(x)} found`);
        return strValue(x);
      })
      .join(s),
  ),
  format: (s, args, kwargs) => strFormat(s, args, kwargs),
  format_map: method("format_map", [["mapping", REQUIRED]], (s, m) =>
    strFormat(s, [], isDict(m) ? Object.fromEntries(dictEntries(m).map(([k, v]) => [str(k), v])) : EMPTY_KWARGS),
  ),
  zfill: method("zfill", [["width", REQUIRED]], (s, w) => {
    const n = num(w) - Array.from(s).length;
    if (n <= 0) return s;
    const sign = s[0] === "-" || s[0] === "+" ? (s[0] as string) : "";
    return sign + "0".repeat(n) + s.slice(sign.length);
  }),
  ljust: method("ljust", [["width", REQUIRED], ["fillchar", " "]], (s, w, f) =>
    s + String(f).repeat(Math.max(0, num(w) - Array.from(s).length)),
  ),
  rjust: method("rjust", [["width", REQUIRED], ["fillchar", " "]], (s, w, f) =>
    String(f).repeat(Math.max(0, num(w) - Array.from(s).length)) + s,
  ),
  center: method("center", [["width", REQUIRED], ["fillchar", " "]], (s, w, f) => pyCenter(s, num(w), String(f))),
  partition: method("partition", [["sep", REQUIRED]], (s, sep) => {
    const sp = needStr(sep, "partition");
    const i = s.indexOf(sp);
    return tuple(i < 0 ? [s, "", ""] : [s.slice(0, i), sp, s.slice(i + sp.length)]);
  }),
  rpartition: method("rpartition", [["sep", REQUIRED]], (s, sep) => {
    const sp = needStr(sep, "rpartition");
    const i = s.lastIndexOf(sp);
    return tuple(i < 0 ? ["", "", s] : [s.slice(0, i), sp, s.slice(i + sp.length)]);
  }),
  removeprefix: method("removeprefix", [["prefix", REQUIRED]], (s, p) => {
    const x = needStr(p, "removeprefix");
    return s.startsWith(x) ? s.slice(x.length) : s;
  }),
  removesuffix: method("removesuffix", [["suffix", REQUIRED]], (s, p) => {
    const x = needStr(p, "removesuffix");
    return x && s.endsWith(x) ? s.slice(0, s.length - x.length) : s;
  }),
  expandtabs: method("expandtabs", [["tabsize", 8]], (s, t) => {
    const size = num(t);
    let col = 0;
    let out = "";
    for (const c of s) {
      if (c === "\t") {
        const n = size > 0 ? size - (col % size) : 0;
        out += " ".repeat(n);
        col += n;
      } else {
        out += c;
        col = c === "\n" || c === "\r" ? 0 : col + 1;
      }
    }
    return out;
  }),
  isdigit: method("isdigit", [], (s) => s !== "" && /^\p{Nd}+$/u.test(s)),
  isdecimal: method("isdecimal", [], (s) => s !== "" && /^\p{Nd}+$/u.test(s)),
  isnumeric: method("isnumeric", [], (s) => s !== "" && /^\p{N}+$/u.test(s)),
  isalpha: method("isalpha", [], (s) => s !== "" && /^\p{L}+$/u.test(s)),
  isalnum: method("isalnum", [], (s) => s !== "" && /^[\p{L}\p{N}]+$/u.test(s)),
  isspace: method("isspace", [], (s) => s !== "" && new RegExp(`^[${WS}]+$`).test(s)),
  isupper: method("isupper", [], (s) => hasCased(s) && s === s.toUpperCase()),
  islower: method("islower", [], (s) => hasCased(s) && s === s.toLowerCase()),
  istitle: method("istitle", [], (s) => isTitle(s)),
  isidentifier: method("isidentifier", [], (s) => /^[\p{L}_][\p{L}\p{N}_]*$/u.test(s)),
  isascii: method("isascii", [], (s) => /^[\x00-\x7f]*$/.test(s)),
  encode: method("encode", [["encoding", "utf-8"], ["errors", "strict"]], (s) => new PyBytes(new TextEncoder().encode(s))),
};

/** Python bytes, only as far as str.encode()/bytes.decode() round trips need. */
export class PyBytes extends PyObject {
  readonly pyType = "bytes";
  constructor(readonly data: Uint8Array) {
    super();
  }
  override len(): number {
    return this.data.length;
  }
  override iter(): unknown[] {
    return [...this.data];
  }
  override getAttr(name: string): unknown {
    if (name === "decode") return new PyFunction(name, () => new TextDecoder().decode(this.data));
    return MISSING;
  }
  override eq(other: unknown): boolean {
    return other instanceof PyBytes && other.data.length === this.data.length && other.data.every((b, i) => b === this.data[i]);
  }
  repr(): string {
    let out = "";
    for (const b of this.data) {
      const c = String.fromCharCode(b);
      if (c === "'" || c === "\\") out += `\\${c}`;
      else if (c === "\n") out += "\\n";
      else if (c === "\r") out += "\\r";
      else if (c === "\t") out += "\\t";
      else if (b < 0x20 || b >= 0x7f) out += `\\x${b.toString(16).padStart(2, "0")}`;
      else out += c;
    }
    return `b'${out}'`;
  }
}

// ---------------------------------------------------------------------------------------------
// list and tuple

function indexOf(list: unknown[], x: unknown, start: unknown, end: unknown): number {
  const n = list.length;
  const norm = (v: unknown, d: number): number => {
    if (v === null || v === undefined) return d;
    const i = num(v);
    return i < 0 ? Math.max(0, i + n) : Math.min(i, n);
  };
  for (let i = norm(start, 0); i < norm(end, n); i++) if (eq(list[i], x)) return i;
  throw valueError(`${repr(x)} is not in list`);
}

/** Python's sorted() ordering, with an optional key function. */
export function pySort(items: unknown[], key: unknown, reverse: boolean): unknown[] {
  const keyed = items.map((v) => [key === null || key === undefined ? v : call(key, [v]), v] as const);
  const sign = reverse ? -1 : 1;
  keyed.sort((a, b) => sign * (order("<", a[0], b[0]) || 0));
  return keyed.map((k) => k[1]);
}

const TUPLE_METHODS: Record<string, Method<unknown[]>> = {
  index: method("index", [["value", REQUIRED], ["start", null], ["end", null]], (l, x, a, b) => indexOf(l, x, a, b)),
  count: method("count", [["value", REQUIRED]], (l, x) => l.filter((y) => eq(x, y)).length),
};

const LIST_METHODS: Record<string, Method<unknown[]>> = {
  ...TUPLE_METHODS,
  append: method("append", [["object", REQUIRED]], (l, x) => {
    l.push(x);
    return null;
  }),
  extend: method("extend", [["iterable", REQUIRED]], (l, it) => {
    l.push(...iterate(it));
    return null;
  }),
  insert: method("insert", [["index", REQUIRED], ["object", REQUIRED]], (l, i, x) => {
    let at = num(i);
    if (at < 0) at = Math.max(0, l.length + at);
    l.splice(Math.min(at, l.length), 0, x);
    return null;
  }),
  pop: method("pop", [["index", -1]], (l, i) => {
    if (l.length === 0) throw new PyError("IndexError", "pop from empty list");
    let at = num(i);
    if (at < 0) at += l.length;
    if (at < 0 || at >= l.length) throw new PyError("IndexError", "pop index out of range");
    return l.splice(at, 1)[0];
  }),
  remove: method("remove", [["value", REQUIRED]], (l, x) => {
    const i = l.findIndex((y) => eq(x, y));
    if (i < 0) throw valueError("list.remove(x): x not in list");
    l.splice(i, 1);
    return null;
  }),
  reverse: method("reverse", [], (l) => {
    l.reverse();
    return null;
  }),
  sort: method("sort", [["key", null], ["reverse", false]], (l, key, rev) => {
    const sorted = pySort(l, key, truthy(rev));
    l.splice(0, l.length, ...sorted);
    return null;
  }),
  copy: method("copy", [], (l) => [...l]),
  clear: method("clear", [], (l) => {
    l.length = 0;
    return null;
  }),
};

// ---------------------------------------------------------------------------------------------
// dict

/** dict_keys / dict_values / dict_items views. */
export class PyDictView extends PyObject {
  constructor(
    readonly pyType: "dict_keys" | "dict_values" | "dict_items",
    private readonly dict: PyDict,
  ) {
    super();
  }
  items(): unknown[] {
    if (this.pyType === "dict_keys") return dictKeys(this.dict);
    if (this.pyType === "dict_values") return dictValues(this.dict);
    return dictEntries(this.dict).map(([k, v]) => tuple([k, v]));
  }
  override iter(): unknown[] {
    return this.items();
  }
  override len(): number {
    return dictSize(this.dict);
  }
  override truthy(): boolean {
    return dictSize(this.dict) > 0;
  }
  override eq(other: unknown): boolean {
    if (!(other instanceof PyDictView) || other.pyType !== this.pyType || this.pyType === "dict_values") return false;
    const a = this.items();
    const b = other.items();
    return a.length === b.length && a.every((x) => contains(b, x));
  }
  repr(): string {
    return `${this.pyType}(${repr(this.items())})`;
  }
}

const DICT_METHODS: Record<string, Method<PyDict>> = {
  keys: method("keys", [], (d) => new PyDictView("dict_keys", d)),
  values: method("values", [], (d) => new PyDictView("dict_values", d)),
  items: method("items", [], (d) => new PyDictView("dict_items", d)),
  get: method("get", [["key", REQUIRED], ["default", null]], (d, k, dflt) => {
    const v = dictGet(d, k);
    return v === MISSING ? dflt : v;
  }),
  pop: (d, args, kwargs) => {
    const [k, dflt] = bindArgs("pop", [["key", REQUIRED], ["default", MISSING]], args, kwargs);
    const v = dictGet(d, k);
    if (v === MISSING) {
      if (dflt === MISSING) throw new PyError("KeyError", repr(k));
      return dflt;
    }
    dictDelete(d, k);
    return v;
  },
  setdefault: method("setdefault", [["key", REQUIRED], ["default", null]], (d, k, dflt) => {
    if (dictHas(d, k)) return dictGet(d, k);
    dictSet(d, k, dflt);
    return dflt;
  }),
  update: (d, args, kwargs) => {
    for (const other of args) {
      if (isDict(other)) for (const [k, v] of dictEntries(other)) dictSet(d, k, v);
      else for (const pair of iterate(other)) {
        const [k, v] = iterate(pair);
        dictSet(d, k, v);
      }
    }
    for (const [k, v] of Object.entries(kwargs)) dictSet(d, k, v);
    return null;
  },
  // Always a Map: a copy of a caller's plain object must not carry its prototype or setters along.
  copy: method("copy", [], (d) => newDict(dictEntries(d))),
  clear: method("clear", [], (d) => {
    for (const k of dictKeys(d)) dictDelete(d, k);
    return null;
  }),
  popitem: method("popitem", [], (d) => {
    const entries = dictEntries(d);
    const last = entries[entries.length - 1];
    if (!last) throw new PyError("KeyError", "'popitem(): dictionary is empty'");
    dictDelete(d, last[0]);
    return tuple([last[0], last[1]]);
  }),
};

