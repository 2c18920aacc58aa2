/**
 * Python's `re` module on top of JS RegExp: Python pattern syntax is translated ((?P<n>...), \A, \Z,
 * Python's `$`, inline flags, VERBOSE) and results are Python match objects.
 */
import { PyError, typeError } from "./errors.ts";
import { call } from "./ops.ts";
import {
  type Kwargs,
  MISSING,
  Markup,
  PyFunction,
  PyNamespace,
  PyObject,
  REQUIRED,
  bindArgs,
  isInt,
  isString,
  newDict,
  num,
  own,
  pyfn,
  repr,
  str,
  strRepr,
  strValue,
  tuple,
  typeName,
} from "./values.ts";

export const FLAGS = { I: 2, IGNORECASE: 2, L: 4, LOCALE: 4, M: 8, MULTILINE: 8, S: 16, DOTALL: 16, U: 32, UNICODE: 32, X: 64, VERBOSE: 64, A: 256, ASCII: 256 };

interface Compiled {
  source: string;
  flags: string;
  groups: number;
  names: Record<string, number>;
}

const cache = new Map<string, Compiled>();

/** Python's `\w` on str patterns: letters, digits and numerals in any script, and `_` (str.isalnum). */
const WORD = "\\p{L}\\p{N}_";
/** Python's `\s`: the characters str.isspace() accepts. */
const SPACE = "\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const ASCII_SPACE = "\\t-\\r ";
const SYNTAX_CHARS = "^$\\.*+?()[]{}|/";

/**
 * A Python escape `\<n>` as JS source for the `u` flag. Without re.ASCII the classes are Unicode
 * (`\w`, `\d`, `\s`, `\b` and their negations), as Python applies them to str (a negated `\W`/`\S`
 * inside a class is taken out by translate(), which cannot nest a negated set in a JS class). An
 * escaped punctuation character Python accepts but the `u` flag refuses is written as its code point.
 */
function escapeClass(n: string, inClass: boolean, ascii: boolean): string {
  if (ascii) {
    if (n === "s") return inClass ? ASCII_SPACE : `[${ASCII_SPACE}]`;
    if (n === "S") return inClass ? "\\S" : `[^${ASCII_SPACE}]`;
  } else {
    switch (n) {
      case "w":
        return inClass ? WORD : `[${WORD}]`;
      case "W":
        return inClass ? "\\W" : `[^${WORD}]`;
      case "d":
        return "\\p{Nd}";
      case "D":
        return "\\P{Nd}";
      case "s":
        return inClass ? SPACE : `[${SPACE}]`;
      case "S":
        return inClass ? "\\S" : `[^${SPACE}]`;
      case "b":
        return inClass ? "\\x08" : `(?:(?<=[${WORD}])(?![${WORD}])|(?<![${WORD}])(?=[${WORD}]))`;
      case "B":
        return `(?:(?<=[${WORD}])(?=[${WORD}])|(?<![${WORD}])(?![${WORD}]))`;
    }
  }
  if (n === "b" && inClass) return "\\x08";
  if (n === "" || /[0-9A-Za-z]/.test(n) || SYNTAX_CHARS.includes(n) || (inClass && n === "-")) return `\\${n}`;
  return `\\u{${(n.codePointAt(0) as number).toString(16)}}`;
}

/** Translates a Python pattern into JS RegExp source and flags. */
export function translate(pattern: string, pyFlags: number): Compiled {
  const key = `${pyFlags}:${pattern}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let flags = pyFlags;
  let p = pattern;
  const inline = /^\(\?([aiLmsux]+)\)/.exec(p);
  if (inline) {
    for (const c of inline[1] as string) flags |= { a: 256, i: 2, L: 4, m: 8, s: 16, u: 32, x: 64 }[c] ?? 0;
    p = p.slice(inline[0].length);
  }
  const verbose = (flags & FLAGS.X) !== 0;
  const multiline = (flags & FLAGS.M) !== 0;
  const ascii = (flags & FLAGS.A) !== 0;
  let out = "";
  let inClass = false;
  // A class holding a negated Unicode set (`[^\W\d]`) is rewritten as alternatives at its end.
  let classStart = 0;
  let classNegated = false;
  let classSets: string[] = [];
  let groups = 0;
  const names: Record<string, number> = Object.create(null) as Record<string, number>;
  for (let i = 0; i < p.length; i++) {
    const c = p[i] as string;
    if (c === "\\") {
      const n = p[i + 1] ?? "";
      i++;
      if (!inClass && n === "A") out += "(?<![\\s\\S])";
      else if (!inClass && n === "Z") out += "(?![\\s\\S])";
      else if (n === "U" && /^[0-9a-fA-F]{8}$/.test(p.slice(i + 1, i + 9))) {
        out += `\\u{${p.slice(i + 1, i + 9)}}`;
        i += 8;
      } else if (inClass && !ascii && (n === "W" || n === "S")) classSets.push(escapeClass(n, false, ascii));
      else out += escapeClass(n, inClass, ascii);
      continue;
    }
    if (inClass) {
      if (c === "]") {
        inClass = false;
        if (classSets.length) {
          const body = out.slice(classStart);
          const parts = [...(body ? [`[${body}]`] : []), ...classSets].join("|");
          out = out.slice(0, classStart - (classNegated ? 2 : 1)) + (classNegated ? `(?:(?!${parts})[\\s\\S])` : `(?:${parts})`);
          continue;
        }
      }
      if (c === "[") out += "\\[";
      else out += c;
      continue;
    }
    if (c === "{") {
      // Python reads a brace that does not form a quantifier as a literal; `{,n}` is `{0,n}`.
      const q = /^\{(\d*)(?:,(\d*))?\}/.exec(p.slice(i));
      if (q && (q[1] || q[2])) {
        out += q[2] === undefined ? `{${q[1]}}` : `{${q[1] || "0"},${q[2]}}`;
        i += q[0].length - 1;
      } else out += "\\{";
      continue;
    }
    if (c === "}" || c === "]") {
      out += `\\${c}`;
      continue;
    }
    if (verbose && /\s/.test(c)) continue;
    if (verbose && c === "#") {
      while (i < p.length && p[i] !== "\n") i++;
      continue;
    }
    if (c === "[") {
      inClass = true;
      classSets = [];
      out += c;
      classNegated = p[i + 1] === "^";
      if (classNegated) out += p[++i];
      classStart = out.length;
      if (p[i + 1] === "]") {
        out += "\\]";
        i++;
      }
      continue;
    }
    if (c === "(") {
      if (p.startsWith("(?P<", i)) {
        const end = p.indexOf(">", i);
        const name = p.slice(i + 4, end);
        names[name] = ++groups;
        out += `(?<${name}>`;
        i = end;
        continue;
      }
      if (p.startsWith("(?P=", i)) {
        const end = p.indexOf(")", i);
        out += `\\k<${p.slice(i + 4, end)}>`;
        i = end;
        continue;
      }
      if (p.startsWith("(?#", i)) {
        i = p.indexOf(")", i);
        continue;
      }
      if (p[i + 1] !== "?") groups++;
      else if (p.startsWith("(?<", i) && p[i + 3] !== "=" && p[i + 3] !== "!") {
        const end = p.indexOf(">", i);
        names[p.slice(i + 3, end)] = ++groups;
      }
      out += c;
      continue;
    }
    if (c === "$" && !multiline) {
      out += "(?=\\n?(?![\\s\\S]))";
      continue;
    }
    out += c;
  }
  let jsFlags = "u";
  if (flags & FLAGS.I) jsFlags += "i";
  if (multiline) jsFlags += "m";
  if (flags & FLAGS.S) jsFlags += "s";
  try {
    new RegExp(out, jsFlags);
  } catch (e) {
    throw new PyError("re.error", e instanceof Error ? e.message : String(e));
  }
  const compiled = { source: out, flags: jsFlags, groups, names };
  if (cache.size > 500) cache.clear();
  cache.set(key, compiled);
  return compiled;
}

function exec(c: Compiled, s: string, pos: number, mode: "search" | "match" | "fullmatch"): RegExpExecArray | null {
  const source = mode === "fullmatch" ? `(?:${c.source})(?![\\s\\S])` : c.source;
  const re = new RegExp(source, `${c.flags}d${mode === "search" ? "g" : "y"}`);
  re.lastIndex = pos;
  return re.exec(s);
}

export class PyMatch extends PyObject {
  readonly pyType = "re.Match";
  constructor(
    private readonly m: RegExpExecArray,
    private readonly pattern: PyPattern,
    private readonly text: string,
  ) {
    super();
  }
  private index(g: unknown): number {
    if (isInt(g)) {
      const n = num(g);
      if (n < 0 || n > this.pattern.compiled.groups) throw new PyError("IndexError", "no such group");
      return n;
    }
    if (isString(g)) {
      const n = this.pattern.compiled.names[strValue(g)];
      if (n === undefined) throw new PyError("IndexError", "no such group");
      return n;
    }
    throw new PyError("IndexError", "no such group");
  }
  /** The group that closed last: the furthest end; of groups ending together, the outermost (lowest index). */
  private lastIndex(): number | null {
    let last: number | null = null;
    let lastEnd = -1;
    for (let i = 1; i <= this.pattern.compiled.groups; i++) {
      const end = this.m.indices?.[i]?.[1];
      if (end !== undefined && end > lastEnd) {
        last = i;
        lastEnd = end;
      }
    }
    return last;
  }
  group(g: unknown = 0): string | null {
    return this.m[this.index(g)] ?? null;
  }
  span(g: unknown = 0): [number, number] {
    const ix = this.m.indices?.[this.index(g)];
    return ix ? [ix[0], ix[1]] : [-1, -1];
  }
  override getItem(key: unknown): unknown {
    return this.group(key);
  }
  override getAttr(name: string): unknown {
    const groupsN = this.pattern.compiled.groups;
    switch (name) {
      case "group":
        return new PyFunction(name, (args) => {
          if (args.length <= 1) return this.group(args[0] ?? 0);
          return tuple(args.map((a) => this.group(a)));
        });
      case "groups":
        return pyfn(name, [["default", null]], (d) => tuple(Array.from({ length: groupsN }, (_, i) => this.m[i + 1] ?? d)));
      case "groupdict":
        return pyfn(name, [["default", null]], (d) => newDict(Object.entries(this.pattern.compiled.names).map(([k, i]) => [k, this.m[i] ?? d])));
      case "start":
        return pyfn(name, [["group", 0]], (g) => this.span(g)[0]);
      case "end":
        return pyfn(name, [["group", 0]], (g) => this.span(g)[1]);
      case "span":
        return pyfn(name, [["group", 0]], (g) => tuple(this.span(g)));
      case "expand":
        return pyfn(name, [["template", REQUIRED]], (t) => expandTemplate(String(t), this.m, this.pattern.compiled));
      case "string":
        return this.text;
      case "re":
        return this.pattern;
      case "pos":
        return 0;
      case "endpos":
        return this.text.length;
      case "lastindex":
        return this.lastIndex();
      case "lastgroup": {
        const last = this.lastIndex();
        return Object.entries(this.pattern.compiled.names).find(([, i]) => i === last)?.[0] ?? null;
      }
    }
    return MISSING;
  }
  repr(): string {
    const [a, b] = this.span();
    return `<re.Match object; span=(${a}, ${b}), match=${strRepr(this.m[0] ?? "")}>`;
  }
}

function expandTemplate(repl: string, m: RegExpExecArray, c: Compiled): string {
  return repl.replace(/\\(?:g<([^>]+)>|(\d{1,2})|(.))/gs, (all, name: string | undefined, num2: string | undefined, esc: string | undefined) => {
    if (name !== undefined) {
      const idx = /^\d+$/.test(name) ? Number(name) : c.names[name];
      if (idx === undefined || idx > c.groups) throw new PyError("IndexError", `unknown group name '${name}'`);
      return m[idx] ?? "";
    }
    if (num2 !== undefined) {
      const idx = Number(num2);
      if (idx > c.groups) throw new PyError("re.error", `invalid group reference ${idx}`);
      return m[idx] ?? "";
    }
    const escapes: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", f: "\f", v: "\v", a: "\x07", b: "\b" };
    return own(escapes, esc as string) ?? all;
  });
}

export class PyPattern extends PyObject {
  readonly pyType = "re.Pattern";
  constructor(
    readonly pattern: string,
    readonly pyFlags: number,
    readonly compiled: Compiled,
  ) {
    super();
  }
  repr(): string {
    return `re.compile(${strRepr(this.pattern)}${this.pyFlags ? `, re.${flagNames(this.pyFlags)}` : ""})`;
  }
  run(s: string, mode: "search" | "match" | "fullmatch", pos = 0): PyMatch | null {
    const m = exec(this.compiled, s, pos, mode);
    return m ? new PyMatch(m, this, s) : null;
  }
  all(s: string): RegExpExecArray[] {
    const re = new RegExp(this.compiled.source, `${this.compiled.flags}dg`);
    return [...s.matchAll(re)];
  }
  findall(s: string): unknown[] {
    return this.all(s).map((m) => {
      if (this.compiled.groups === 0) return m[0];
      if (this.compiled.groups === 1) return m[1] ?? "";
      return tuple(m.slice(1).map((g) => g ?? ""));
    });
  }
  sub(repl: unknown, s: string, count: number): [string, number] {
    let n = 0;
    let out = "";
    let last = 0;
    for (const m of this.all(s)) {
      if (count > 0 && n >= count) break;
      out += s.slice(last, m.index);
      out += isString(repl) ? expandTemplate(strValue(repl), m, this.compiled) : str(call(repl, [new PyMatch(m, this, s)]));
      last = m.index + m[0].length;
      n++;
    }
    return [out + s.slice(last), n];
  }
  split(s: string, maxsplit: number): unknown[] {
    const out: unknown[] = [];
    let last = 0;
    let n = 0;
    for (const m of this.all(s)) {
      if (maxsplit > 0 && n >= maxsplit) break;
      out.push(s.slice(last, m.index), ...m.slice(1).map((g) => g ?? null));
      last = m.index + m[0].length;
      n++;
    }
    out.push(s.slice(last));
    return out;
  }
  override getAttr(name: string): unknown {
    const m = own(PATTERN_METHODS, name);
    if (m) return new PyFunction(name, (args, kw) => m(this, args, kw)).boundTo(this);
    if (name === "pattern") return this.pattern;
    if (name === "flags") return this.pyFlags | 32;
    if (name === "groups") return this.compiled.groups;
    if (name === "groupindex") return newDict(Object.entries(this.compiled.names));
    return MISSING;
  }
  override eq(other: unknown): boolean {
    return other instanceof PyPattern && other.pattern === this.pattern && other.pyFlags === this.pyFlags;
  }
}

function flagNames(flags: number): string {
  const names = Object.entries({ IGNORECASE: 2, LOCALE: 4, MULTILINE: 8, DOTALL: 16, VERBOSE: 64, ASCII: 256 })
    .filter(([, v]) => flags & v)
    .map(([k]) => k);
  return names.join("|re.");
}

function text(v: unknown, what = "string"): string {
  if (!isString(v)) throw typeError(`expected string or bytes-like object, got '${typeName(v)}' (${what})`);
  return v instanceof Markup ? v.s : v;
}

function compile(pattern: unknown, flags: unknown): PyPattern {
  if (pattern instanceof PyPattern) return pattern;
  const f = flags === null || flags === undefined ? 0 : num(flags);
  const p = text(pattern, "pattern");
  return new PyPattern(p, f, translate(p, f));
}

type PatternMethod = (self: PyPattern, args: unknown[], kw: Kwargs) => unknown;
const PATTERN_METHODS: Record<string, PatternMethod> = {
  search: (self, a, kw) => self.run(text(bindArgs("search", [["string", REQUIRED], ["pos", 0]], a, kw)[0]), "search", num(bindArgs("search", [["string", REQUIRED], ["pos", 0]], a, kw)[1])),
  match: (self, a, kw) => self.run(text(bindArgs("match", [["string", REQUIRED], ["pos", 0]], a, kw)[0]), "match", num(bindArgs("match", [["string", REQUIRED], ["pos", 0]], a, kw)[1])),
  fullmatch: (self, a, kw) => self.run(text(bindArgs("fullmatch", [["string", REQUIRED]], a, kw)[0]), "fullmatch"),
  findall: (self, a, kw) => self.findall(text(bindArgs("findall", [["string", REQUIRED]], a, kw)[0])),
  finditer: (self, a, kw) => {
    const s = text(bindArgs("finditer", [["string", REQUIRED]], a, kw)[0]);
    return self.all(s).map((m) => new PyMatch(m, self, s));
  },
  sub: (self, a, kw) => {
    const [repl, s, count] = bindArgs("sub", [["repl", REQUIRED], ["string", REQUIRED], ["count", 0]], a, kw);
    return self.sub(repl, text(s), num(count))[0];
  },
  subn: (self, a, kw) => {
    const [repl, s, count] = bindArgs("subn", [["repl", REQUIRED], ["string", REQUIRED], ["count", 0]], a, kw);
    return tuple(self.sub(repl, text(s), num(count)));
  },
  split: (self, a, kw) => {
    const [s, maxsplit] = bindArgs("split", [["string", REQUIRED], ["maxsplit", 0]], a, kw);
    return self.split(text(s), num(maxsplit));
  },
};

function moduleFn(name: string, params: readonly (readonly [string, unknown])[], body: (p: PyPattern, ...rest: unknown[]) => unknown): PyFunction {
  return pyfn(name, [["pattern", REQUIRED], ...params, ["flags", 0]], (...v: unknown[]) => {
    const flags = v[v.length - 1];
    return body(compile(v[0], flags), ...v.slice(1, -1));
  });
}

export const RE_MODULE = new PyNamespace("module", "<module 're' from '/usr/lib/python3.11/re/__init__.py'>", {
  ...FLAGS,
  compile: pyfn("compile", [["pattern", REQUIRED], ["flags", 0]], compile),
  search: moduleFn("search", [["string", REQUIRED]], (p, s) => p.run(text(s), "search")),
  match: moduleFn("match", [["string", REQUIRED]], (p, s) => p.run(text(s), "match")),
  fullmatch: moduleFn("fullmatch", [["string", REQUIRED]], (p, s) => p.run(text(s), "fullmatch")),
  findall: moduleFn("findall", [["string", REQUIRED]], (p, s) => p.findall(text(s))),
  finditer: moduleFn("finditer", [["string", REQUIRED]], (p, s) => p.all(text(s)).map((m) => new PyMatch(m, p, text(s)))),
  sub: moduleFn("sub", [["repl", REQUIRED], ["string", REQUIRED], ["count", 0]], (p, r, s, c) => p.sub(r, text(s), num(c))[0]),
  subn: moduleFn("subn", [["repl", REQUIRED], ["string", REQUIRED], ["count", 0]], (p, r, s, c) => tuple(p.sub(r, text(s), num(c)))),
  split: moduleFn("split", [["string", REQUIRED], ["maxsplit", 0]], (p, s, n) => p.split(text(s), num(n))),
  escape: pyfn("escape", [["pattern", REQUIRED]], (s) => text(s).replace(/[^A-Za-z0-9_\u0080-\uffff]/g, "\\$&")),
  error: new PyFunction("re.error", () => null, {}, "type"),
});

export { repr };
