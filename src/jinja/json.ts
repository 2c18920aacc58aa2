/**
 * JSON ↔ template values. `fromJson` takes already-parsed data (integer-valued numbers become ints);
 * `parseJson` reads JSON text like Python's json.loads (`1.0` stays a float); `toJson` turns
 * template values back into plain data; `dumps` is Python's json.dumps (used by `tojson`).
 */
import { PyBigInt } from "./bigint.ts";
import { typeError, valueError } from "./errors.ts";
import { PyDate, PyTime } from "./datetime.ts";
import { PyDecimal } from "./decimal.ts";
import {
  Markup,
  PyFloat,
  PyObject,
  Undefined,
  dictEntries,
  floatRepr,
  intStr,
  isDict,
  isPlainObject,
  mkFloat,
  num,
  setOwn,
  str,
  typeName,
} from "./values.ts";
import { order } from "./ops.ts";
import { PyDictView } from "./methods.ts";

/**
 * Converts parsed JSON (or DynamoDB-unmarshalled data) into template values: objects become ordered
 * dicts (Maps), integer-valued numbers ints, other numbers floats. A float such as `1.0` that was
 * already parsed by JSON.parse is indistinguishable from `1` and becomes int 1; use parseJson on
 * the text to keep it a float.
 */
export function fromJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromJson);
  if (isPlainObject(value)) {
    const m = new Map<unknown, unknown>();
    for (const [k, v] of Object.entries(value)) m.set(k, fromJson(v));
    return m;
  }
  if (value instanceof Map) {
    const m = new Map<unknown, unknown>();
    for (const [k, v] of value) m.set(k, fromJson(v));
    return m;
  }
  return value === undefined ? null : value;
}

/** Python's json.loads: objects → ordered dicts, `1` → int, `1.0` / `1e3` → float. */
export function parseJson(text: string): unknown {
  const p = new JsonReader(text);
  p.ws();
  const v = p.value();
  p.ws();
  if (p.i < text.length) p.fail("Extra data");
  return v;
}

class JsonReader {
  i = 0;
  constructor(private readonly s: string) {}
  fail(msg: string): never {
    throw valueError(`${msg}: line 1 column ${this.i + 1} (char ${this.i})`);
  }
  ws(): void {
    while (/[ \t\n\r]/.test(this.s[this.i] ?? "")) this.i++;
  }
  value(): unknown {
    const c = this.s[this.i];
    if (c === "{") return this.object();
    if (c === "[") return this.array();
    if (c === '"') return this.string();
    const m = /^(-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?)|^(true|false|null|NaN|Infinity|-Infinity)/.exec(this.s.slice(this.i, this.i + 400));
    if (!m) this.fail("Expecting value");
    this.i += m[0].length;
    if (m[4] !== undefined) return { true: true, false: false, null: null, NaN: mkFloat(NaN), Infinity: mkFloat(Infinity), "-Infinity": mkFloat(-Infinity) }[m[4]];
    const n = Number(m[1]);
    return m[2] !== undefined || m[3] !== undefined ? mkFloat(n) : n;
  }
  object(): Map<unknown, unknown> {
    const out = new Map<unknown, unknown>();
    this.i++;
    this.ws();
    if (this.s[this.i] === "}") {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail("Expecting property name enclosed in double quotes");
      const k = this.string();
      this.ws();
      if (this.s[this.i] !== ":") this.fail("Expecting ':' delimiter");
      this.i++;
      this.ws();
      out.set(k, this.value());
      this.ws();
      const c = this.s[this.i++];
      if (c === "}") return out;
      if (c !== ",") this.fail("Expecting ',' delimiter");
    }
  }
  array(): unknown[] {
    const out: unknown[] = [];
    this.i++;
    this.ws();
    if (this.s[this.i] === "]") {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      out.push(this.value());
      this.ws();
      const c = this.s[this.i++];
      if (c === "]") return out;
      if (c !== ",") this.fail("Expecting ',' delimiter");
    }
  }
  string(): string {
    const m = /^"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/.exec(this.s.slice(this.i));
    if (!m) this.fail("Unterminated string starting at");
    this.i += m[0].length;
    return JSON.parse(m[0]) as string;
  }
}

/** Template values back to plain JSON data (dicts → objects, floats → numbers, datetimes → ISO text). */
export function toJson(value: unknown): unknown {
  if (value === null || value === undefined || value instanceof Undefined) return null;
  if (typeof value === "string" || typeof value === "boolean" || typeof value === "number") return value;
  if (value instanceof PyFloat) return value.v;
  if (value instanceof Markup) return value.s;
  if (Array.isArray(value)) return value.map(toJson);
  if (isDict(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of dictEntries(value)) setOwn(out, typeof k === "string" ? k : str(k), toJson(v));
    return out;
  }
  if (value instanceof PyDate || value instanceof PyTime) return (value.getAttr("isoformat") as { call(a: unknown[], k: object): unknown }).call([], {});
  if (value instanceof PyDictView) return toJson(value.items());
  if (value instanceof PyDecimal) return value.toNumber();
  if (value instanceof PyObject) return value.str();
  return value;
}

export interface DumpOptions {
  sortKeys?: boolean;
  indent?: number | string | null;
  ensureAscii?: boolean;
}

/** Python's json.dumps. */
export function dumps(value: unknown, opts: DumpOptions = {}): string {
  const indent = opts.indent === null || opts.indent === undefined ? null : typeof opts.indent === "number" ? " ".repeat(opts.indent) : opts.indent;
  const ascii = opts.ensureAscii ?? true;
  const itemSep = indent === null ? ", " : ",";
  const enc = (v: unknown, depth: number): string => {
    if (v === null) return "null";
    if (v === true) return "true";
    if (v === false) return "false";
    if (typeof v === "string" || v instanceof Markup) return quote(typeof v === "string" ? v : v.s, ascii);
    if (v instanceof PyBigInt) return v.repr();
    if (typeof v === "number" || v instanceof PyFloat) {
      const x = num(v);
      if (typeof v === "number" && Number.isInteger(v)) return intStr(v);
      if (Number.isNaN(x)) return "NaN";
      if (!Number.isFinite(x)) return x > 0 ? "Infinity" : "-Infinity";
      return floatRepr(x);
    }
    const nl = indent === null ? "" : `\n${indent.repeat(depth + 1)}`;
    const close = indent === null ? "" : `\n${indent.repeat(depth)}`;
    if (Array.isArray(v)) {
      if (v.length === 0) return "[]";
      return `[${nl}${v.map((x) => enc(x, depth + 1)).join(itemSep + nl)}${close}]`;
    }
    if (isDict(v)) {
      let entries = dictEntries(v);
      if (entries.length === 0) return "{}";
      if (opts.sortKeys) entries = [...entries].sort((a, b) => order("<", a[0], b[0]));
      const parts = entries.map(([k, x]) => `${quote(jsonKey(k), ascii)}: ${enc(x, depth + 1)}`);
      return `{${nl}${parts.join(itemSep + nl)}${close}}`;
    }
    throw typeError(`Object of type ${typeName(v).replace(/^\w+\./, "")} is not JSON serializable`);
  };
  return enc(value, 0);
}

function jsonKey(k: unknown): string {
  if (typeof k === "string") return k;
  if (k instanceof PyBigInt) return k.repr();
  if (k instanceof Markup) return k.s;
  if (typeof k === "number" || typeof k === "boolean" || k === null || k instanceof PyFloat) {
    if (k === null) return "null";
    if (typeof k === "boolean") return k ? "true" : "false";
    return str(k);
  }
  throw typeError(`keys must be str, int, float, bool or None, not ${typeName(k)}`);
}

function quote(s: string, ascii: boolean): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i] as string;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (c < 0x20 || (ascii && c > 0x7e)) out += `\\u${c.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Jinja's htmlsafe_json_dumps: sorted keys, `<>&'` escaped. */
export function htmlSafeJson(value: unknown, indent: number | null): Markup {
  const text = dumps(value, { sortKeys: true, indent })
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/'/g, "\\u0027");
  return new Markup(text);
}
