/**
 * Python string formatting: `str.format` / `format()` with the format-spec mini-language, and
 * printf-style `%` formatting (used by the `format` filter).
 */
import { PyBigInt, normInt } from "./bigint.ts";
import { PyError, typeError, valueError } from "./errors.ts";
import { attrOnly, getitem } from "./ops.ts";
import { PyDecimal } from "./decimal.ts";
import {
  Markup,
  PyObject,
  Undefined,
  dictGet,
  floatRepr,
  intStr,
  isDict,
  isFloat,
  isInt,
  isNumber,
  isTuple,
  MISSING,
  mkFloat,
  num,
  repr,
  str,
  typeName,
  type Kwargs,
} from "./values.ts";

// ---------------------------------------------------------------------------------------------
// Float rendering with Python's rounding (round-half-even on the exact binary value)

/** `x` with `p` digits after the point, like Python's '%.{p}f'. */
export function toFixed(x: number, p: number): string {
  if (!Number.isFinite(x)) return nonFinite(x);
  if (Math.abs(x) >= 1e21) {
    const int = BigInt(Math.trunc(x)).toString();
    return p > 0 ? `${int}.${"0".repeat(p)}` : int;
  }
  const fixed = x.toFixed(p);
  // toFixed rounds exact ties away from zero; Python rounds them to even.
  const wide = x.toFixed(Math.min(100, p + 30));
  const tail = wide.slice(wide.indexOf(".") + 1 + p);
  if (/^50*$/.test(tail)) {
    const truncated = wide.slice(0, wide.indexOf(".") + (p > 0 ? 1 + p : 0));
    const lastDigit = Number(truncated.replace(/\D/g, "").slice(-1));
    if (lastDigit % 2 === 0) return truncated === "-0" ? "-0" : truncated;
  }
  return fixed;
}

function nonFinite(x: number): string {
  return Number.isNaN(x) ? "nan" : x > 0 ? "inf" : "-inf";
}

/** Python's '%.{p}e'. */
export function toExp(x: number, p: number, upper = false): string {
  if (!Number.isFinite(x)) return nonFinite(x);
  const [m, e] = x.toExponential(p).split("e") as [string, string];
  const exp = Number(e);
  const s = `${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  return upper ? s.toUpperCase() : s;
}

/** Python's '%.{p}g' (alt keeps trailing zeros). */
export function toGeneral(x: number, p: number, alt = false, upper = false): string {
  if (!Number.isFinite(x)) return upper ? nonFinite(x).toUpperCase() : nonFinite(x);
  const prec = p === 0 ? 1 : p;
  if (x === 0) return alt ? `${Object.is(x, -0) ? "-" : ""}0.${"0".repeat(prec - 1)}` : Object.is(x, -0) ? "-0" : "0";
  const exp = Number(x.toExponential(prec - 1).split("e")[1]);
  let s: string;
  if (exp >= -4 && exp < prec) s = toFixed(x, prec - 1 - exp);
  else s = toExp(x, prec - 1, upper);
  if (!alt) {
    s = s.replace(/(\.\d*?)0+(e|E|$)/, "$1$2").replace(/\.(e|E|$)/, "$1");
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Format-spec mini-language

const SPEC_RE = /^(?:(.)?([<>=^]))?([+\- ])?(z)?(#)?(0)?(\d+)?([,_])?(?:\.(\d+))?([bcdeEfFgGnosxX%])?$/s;

export interface Spec {
  fill: string;
  align: string | undefined;
  sign: string;
  alt: boolean;
  zero: boolean;
  width: number;
  group: string;
  precision: number | undefined;
  type: string;
}

export function parseSpec(spec: string): Spec {
  const m = SPEC_RE.exec(spec);
  if (!m) throw valueError("Invalid format specifier");
  return {
    fill: m[1] ?? (m[6] && !m[2] ? "0" : " "),
    align: m[2] ?? (m[6] ? "=" : undefined),
    sign: m[3] ?? "-",
    alt: m[5] !== undefined,
    zero: m[6] !== undefined,
    width: m[7] ? Number(m[7]) : 0,
    group: m[8] ?? "",
    precision: m[9] !== undefined ? Number(m[9]) : undefined,
    type: m[10] ?? "",
  };
}

/** Python's format(value, spec). */
export function formatValue(value: unknown, spec: string): string {
  if (value instanceof PyObject) {
    const custom = value.format(spec);
    if (custom !== undefined) return custom;
  }
  if (spec === "") return str(value);
  const s = parseSpec(spec);
  if (typeof value === "boolean" && s.type === "") return pad(str(value), s, "<");
  if (isNumber(value)) return formatNumber(value, s);
  if (typeof value === "string" || value instanceof Markup) {
    if (s.type !== "" && s.type !== "s") throw valueError(`Unknown format code '${s.type}' for object of type 'str'`);
    let text = str(value);
    if (s.precision !== undefined) text = Array.from(text).slice(0, s.precision).join("");
    return pad(text, s, "<");
  }
  throw typeError(`unsupported format string passed to ${typeName(value)}.__format__`);
}

export function pad(body: string, s: Spec, defaultAlign: string, prefix = ""): string {
  const align = s.align ?? defaultAlign;
  const total = Array.from(prefix + body).length;
  const n = s.width - total;
  if (n <= 0) return prefix + body;
  const fill = s.fill.repeat(n);
  switch (align) {
    case "<":
      return prefix + body + fill;
    case "^": {
      const left = Math.floor(n / 2);
      return s.fill.repeat(left) + prefix + body + s.fill.repeat(n - left);
    }
    case "=":
      return prefix + fill + body;
    default:
      return fill + prefix + body;
  }
}

function group(intPart: string, sep: string, every = 3): string {
  if (!sep) return intPart;
  let out = "";
  for (let i = intPart.length; i > 0; i -= every) {
    const chunk = intPart.slice(Math.max(0, i - every), i);
    out = out ? `${chunk}${sep}${out}` : chunk;
  }
  return out;
}

function formatNumber(value: unknown, s: Spec): string {
  const x = num(value);
  let type = s.type;
  const intLike = isInt(value);
  if (intLike && "bcdoxXn".includes(type || "d")) {
    if (s.precision !== undefined) throw valueError("Precision not allowed in integer format specifier");
    const neg = x < 0;
    const a = Math.abs(x);
    let digits: string;
    let prefix = "";
    switch (type) {
      case "b":
        digits = a.toString(2);
        prefix = s.alt ? "0b" : "";
        break;
      case "o":
        digits = a.toString(8);
        prefix = s.alt ? "0o" : "";
        break;
      case "x":
        digits = a.toString(16);
        prefix = s.alt ? "0x" : "";
        break;
      case "X":
        digits = a.toString(16).toUpperCase();
        prefix = s.alt ? "0X" : "";
        break;
      case "c":
        return pad(String.fromCodePoint(a), s, "<");
      default:
        digits = group(intStr(a), s.group);
    }
    const sign = neg ? "-" : s.sign === "+" ? "+" : s.sign === " " ? " " : "";
    return pad(digits, s, ">", sign + prefix);
  }
  if (!intLike && "bcdoxXn".includes(type) && type !== "") {
    throw valueError(`Unknown format code '${type}' for object of type 'float'`);
  }
  const neg = x < 0 || Object.is(x, -0);
  const a = Math.abs(x);
  let body: string;
  let pct = "";
  const p = s.precision;
  if (type === "%") {
    body = toFixed(a * 100, p ?? 6);
    pct = "%";
  } else if (type === "f" || type === "F") {
    body = toFixed(a, p ?? 6);
    if (type === "F") body = body.toUpperCase();
  } else if (type === "e" || type === "E") {
    body = toExp(a, p ?? 6, type === "E");
  } else if (type === "g" || type === "G") {
    body = toGeneral(a, p ?? 6, s.alt, type === "G");
  } else if (p !== undefined) {
    body = toGeneral(a, p, s.alt);
    if (!/[.en]/.test(body)) body += ".0";
  } else {
    body = intLike ? intStr(a) : floatRepr(a);
  }
  type = "";
  if (s.group) {
    const [ip, fp] = body.split(".") as [string, string | undefined];
    if (/^\d+$/.test(ip)) body = group(ip, s.group) + (fp !== undefined ? `.${fp}` : "");
  }
  const sign = neg && !(x === 0 && !Object.is(x, -0)) ? "-" : s.sign === "+" ? "+" : s.sign === " " ? " " : "";
  return pad(body + pct, s, ">", sign);
}

// ---------------------------------------------------------------------------------------------
// str.format

/** Python's str.format(*args, **kwargs). */
export function strFormat(template: string, args: unknown[], kwargs: Kwargs): string {
  let out = "";
  let auto = 0;
  let i = 0;
  while (i < template.length) {
    const ch = template[i] as string;
    if (ch === "{") {
      if (template[i + 1] === "{") {
        out += "{";
        i += 2;
        continue;
      }
      const end = matchingBrace(template, i);
      const field = template.slice(i + 1, end);
      out += renderField(field, args, kwargs, () => auto++);
      i = end + 1;
    } else if (ch === "}") {
      if (template[i + 1] !== "}") throw valueError("Single '}' encountered in format string");
      out += "}";
      i += 2;
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

function matchingBrace(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === "{") depth++;
    else if (s[i] === "}" && --depth === 0) return i;
  }
  throw valueError("expected '}' before end of string");
}

function renderField(field: string, args: unknown[], kwargs: Kwargs, nextAuto: () => number): string {
  let spec = "";
  let conv = "";
  const colon = field.search(/:(?![^[]*\])/);
  let name = field;
  if (colon >= 0) {
    spec = field.slice(colon + 1);
    name = field.slice(0, colon);
  }
  const bang = name.indexOf("!");
  if (bang >= 0) {
    conv = name.slice(bang + 1);
    name = name.slice(0, bang);
  }
  if (spec.includes("{")) spec = strFormat(spec, args, kwargs);
  const m = /^([^.[]*)(.*)$/s.exec(name) as RegExpExecArray;
  const head = m[1] as string;
  let value: unknown;
  if (head === "") {
    const n = nextAuto();
    if (n >= args.length) throw new PyError("IndexError", `Replacement index ${n} out of range for positional args tuple`);
    value = args[n];
  } else if (/^\d+$/.test(head)) {
    const n = Number(head);
    if (n >= args.length) throw new PyError("IndexError", `Replacement index ${n} out of range for positional args tuple`);
    value = args[n];
  } else {
    if (!Object.hasOwn(kwargs, head)) throw new PyError("KeyError", repr(head));
    value = kwargs[head];
  }
  const rest = m[2] as string;
  const accessor = /\.([^.[]+)|\[([^\]]+)\]/g;
  let a: RegExpExecArray | null;
  while ((a = accessor.exec(rest)) !== null) {
    if (a[1] !== undefined) {
      const attr = attrOnly(value, a[1]);
      // An unsafe attribute formats as its (empty) Undefined, as Jinja2's SandboxedFormatter does.
      if (attr instanceof Undefined && attr.failsWith !== "SecurityError") throw new PyError("AttributeError", `'${typeName(value)}' object has no attribute '${a[1]}'`);
      value = attr;
    }
    else {
      const key = a[2] as string;
      value = getitem(value, /^\d+$/.test(key) ? Number(key) : key);
    }
  }
  if (conv === "r" || conv === "a") value = repr(value);
  else if (conv === "s") value = str(value);
  else if (conv !== "") throw valueError(`Unknown conversion specifier ${conv}`);
  return formatValue(value, spec);
}

// ---------------------------------------------------------------------------------------------
// printf-style formatting

const PERCENT_RE = /%(?:\(([^)]*)\))?([-+ #0]*)(\*|\d+)?(?:\.(\*|\d+))?[hlL]?([diouxXeEfFgGcrsa%])/g;

/** Python's `template % values`. */
export function percentFormat(template: string, values: unknown): string {
  const positional = isTuple(values) ? (values as unknown[]) : [values];
  const mapping = isDict(values) ? values : undefined;
  let index = 0;
  let usedMapping = false;
  const next = (): unknown => {
    if (index >= positional.length) throw typeError("not enough arguments for format string");
    return positional[index++];
  };
  const out = template.replace(
    PERCENT_RE,
    (_all, key: string | undefined, flags: string, width: string | undefined, prec: string | undefined, conv: string) => {
      if (conv === "%") return "%";
      let value: unknown;
      const w = width === "*" ? num(next()) : width ? Number(width) : 0;
      const p = prec === "*" ? num(next()) : prec !== undefined ? Number(prec) : undefined;
      if (key !== undefined) {
        if (!mapping) throw typeError("format requires a mapping");
        usedMapping = true;
        value = dictGet(mapping, key);
        if (value === MISSING) throw new PyError("KeyError", repr(key));
      } else value = next();
      return percentOne(value, flags, w, p, conv);
    },
  );
  if (!usedMapping && !mapping && index < positional.length) {
    throw typeError("not all arguments converted during string formatting");
  }
  return out;
}

/**
 * What printf-style conversions see of a Decimal: %d/%i/%u take int(d), %e/%f/%g take float(d);
 * %o/%x/%X/%c need a real int and refuse it.
 */
function percentOperand(value: unknown, conv: string): unknown {
  if (!(value instanceof PyDecimal)) return value;
  if ("diu".includes(conv)) return normInt(value.toBigInt());
  if ("eEfFgG".includes(conv)) return mkFloat(value.toNumber());
  if ("oxXc".includes(conv)) throw typeError(`%${conv} format: an integer is required, not decimal.Decimal`);
  return value;
}

function percentOne(raw: unknown, flags: string, width: number, prec: number | undefined, conv: string): string {
  if (raw instanceof Undefined && "diouxXeEfFgGc".includes(conv)) raw.fail();
  const value = percentOperand(raw, conv);
  let body: string;
  let sign = "";
  const numeric = "diouxXeEfFgG".includes(conv);
  if (numeric && value instanceof PyBigInt) {
    // Exact digits for ints beyond 2^53; other conversions go through the nearest float.
    const n = value.n;
    sign = n < 0n ? "-" : flags.includes("+") ? "+" : flags.includes(" ") ? " " : "";
    const abs = n < 0n ? -n : n;
    const radix = "diu".includes(conv) ? 10 : conv === "o" ? 8 : "xX".includes(conv) ? 16 : 0;
    if (radix) {
      body = abs.toString(radix);
      if (conv === "X") body = body.toUpperCase();
      if (flags.includes("#") && radix !== 10) body = (conv === "o" ? "0o" : conv === "x" ? "0x" : "0X") + body;
    } else body = "eE".includes(conv) ? toExp(Math.abs(value.toNumber()), prec ?? 6, conv === "E") : "fF".includes(conv) ? toFixed(Math.abs(value.toNumber()), prec ?? 6) : toGeneral(Math.abs(value.toNumber()), prec ?? 6, flags.includes("#"), conv === "G");
  } else if (numeric) {
    if (!isNumber(value)) {
      throw typeError(`%${conv} format: a ${"diouxXc".includes(conv) ? "real number" : "real number"} is required, not ${typeName(value)}`);
    }
    let x = num(value);
    if ("diu".includes(conv)) x = Math.trunc(x);
    if (x < 0 || Object.is(x, -0)) {
      sign = x < 0 || isFloat(value) ? "-" : "";
      x = Math.abs(x);
    } else if (flags.includes("+")) sign = "+";
    else if (flags.includes(" ")) sign = " ";
    switch (conv) {
      case "d":
      case "i":
      case "u":
        body = intStr(x);
        break;
      case "o":
        body = (flags.includes("#") ? "0o" : "") + Math.trunc(x).toString(8);
        break;
      case "x":
        body = (flags.includes("#") ? "0x" : "") + Math.trunc(x).toString(16);
        break;
      case "X":
        body = (flags.includes("#") ? "0X" : "") + Math.trunc(x).toString(16).toUpperCase();
        break;
      case "e":
      case "E":
        body = toExp(x, prec ?? 6, conv === "E");
        break;
      case "f":
      case "F":
        body = toFixed(x, prec ?? 6);
        break;
      default:
        body = toGeneral(x, prec ?? 6, flags.includes("#"), conv === "G");
    }
    if (prec !== undefined && "diouxX".includes(conv)) body = body.padStart(prec, "0");
  } else if (conv === "c") {
    body = typeof value === "string" ? value : String.fromCodePoint(num(value));
  } else {
    body = conv === "s" ? str(value) : repr(value);
    if (prec !== undefined) body = Array.from(body).slice(0, prec).join("");
  }
  const total = Array.from(sign + body).length;
  if (width <= total) return sign + body;
  if (flags.includes("-")) return sign + body + " ".repeat(width - total);
  if (flags.includes("0") && numeric) return sign + "0".repeat(width - total) + body;
  return " ".repeat(width - total) + sign + body;
}

