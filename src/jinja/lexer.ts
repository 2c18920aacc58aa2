/**
 * Splits template source into tokens the way Jinja2's lexer does with the default delimiters:
 * newline normalisation, one trailing newline dropped, `-` whitespace control, comments and raw blocks.
 */
import { type PyBigInt, normInt } from "./bigint.ts";
import { TemplateSyntaxError } from "./errors.ts";

export type TokenType =
  | "data"
  | "var_begin"
  | "var_end"
  | "block_begin"
  | "block_end"
  | "name"
  | "string"
  | "int"
  | "float"
  | "op"
  | "eof";

export interface Token {
  type: TokenType;
  value: string;
  /** Decoded value of string/number literals. */
  literal?: string | number | PyBigInt;
  line: number;
  col: number;
}

const OPERATORS = ["//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";"];
const NAME_RE = /[\p{L}_][\p{L}\p{N}_]*/uy;
const FLOAT_RE = /(?:\d+_)*\d+(?:(?:\.(?:\d+_)*\d+)?[eE][+-]?(?:\d+_)*\d+|\.(?:\d+_)*\d+)/y;
const INT_RE = /0[bB](?:_?[01])+|0[oO](?:_?[0-7])+|0[xX](?:_?[\da-fA-F])+|[1-9](?:_?\d)*|0(?:_?0)*/y;
const STRING_RE = /'([^'\\]*(?:\\.[^'\\]*)*)'|"([^"\\]*(?:\\.[^"\\]*)*)"/sy;
const WS_RE = /\s+/y;
const RAW_BEGIN = /\{%([-+]?)\s*raw\s*([-+]?)%\}/y;
const RAW_END = /\{%([-+]?)\s*endraw\s*([-+]?)%\}/g;

/** Python's str.rstrip()/lstrip() whitespace. */
const rstrip = (s: string): string => s.replace(/[\s\x1c-\x1f\x85]+$/, "");
const lstrip = (s: string): string => s.replace(/^[\s\x1c-\x1f\x85]+/, "");

export function normalizeSource(source: string): string {
  const lines = source.split(/\r\n|\r|\n/);
  if (lines[lines.length - 1] === "") lines.pop();
  return lines.join("\n");
}

export function tokenize(source: string, name?: string): Token[] {
  const src = normalizeSource(source);
  const tokens: Token[] = [];
  const lineStarts = [0];
  for (let i = 0; i < src.length; i++) if (src[i] === "\n") lineStarts.push(i + 1);
  const posOf = (offset: number): { line: number; col: number } => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - (lineStarts[lo] as number) + 1 };
  };
  const fail = (msg: string, offset: number): never => {
    const p = posOf(offset);
    throw new TemplateSyntaxError(msg, { line: p.line, column: p.col, name });
  };
  const push = (type: TokenType, value: string, offset: number, literal?: string | number | PyBigInt): void => {
    const p = posOf(offset);
    tokens.push({ type, value, literal, line: p.line, col: p.col });
  };

  let pos = 0;
  let stripNext = false;
  while (pos < src.length) {
    const idx = nextTag(src, pos);
    let data = src.slice(pos, idx < 0 ? src.length : idx);
    if (stripNext) data = lstrip(data);
    stripNext = false;
    if (idx < 0) {
      if (data) push("data", data, pos);
      break;
    }
    const opener = src.slice(idx, idx + 2);
    if (src[idx + 2] === "-") data = rstrip(data);
    RAW_BEGIN.lastIndex = idx;
    const raw = opener === "{%" ? RAW_BEGIN.exec(src) : null;
    if (raw) {
      if (raw[1] === "-") data = rstrip(data);
      if (data) push("data", data, pos);
      RAW_END.lastIndex = idx + raw[0].length;
      const end = RAW_END.exec(src);
      if (!end) fail("Missing end of raw directive", idx);
      const rawEnd = end as RegExpExecArray;
      let body = src.slice(idx + raw[0].length, rawEnd.index);
      if (raw[2] === "-") body = lstrip(body);
      if (rawEnd[1] === "-") body = rstrip(body);
      if (body) push("data", body, idx + raw[0].length);
      pos = rawEnd.index + rawEnd[0].length;
      stripNext = rawEnd[2] === "-";
      continue;
    }
    if (data) push("data", data, pos);
    const bodyStart = idx + 2 + (src[idx + 2] === "-" || src[idx + 2] === "+" ? 1 : 0);
    if (opener === "{#") {
      const end = src.indexOf("#}", bodyStart);
      if (end < 0) fail("Missing end of comment tag", idx);
      stripNext = src[end - 1] === "-" && end - 1 >= bodyStart;
      pos = end + 2;
      continue;
    }
    const isVar = opener === "{{";
    push(isVar ? "var_begin" : "block_begin", opener, idx);
    const r = lexExpression(src, bodyStart, isVar ? "}}" : "%}", push, fail);
    push(isVar ? "var_end" : "block_end", isVar ? "}}" : "%}", r.end);
    stripNext = r.strip;
    pos = r.next;
  }
  push("eof", "", src.length);
  return tokens;
}

function nextTag(src: string, from: number): number {
  let i = src.indexOf("{", from);
  while (i >= 0) {
    const c = src[i + 1];
    if (c === "{" || c === "%" || c === "#") return i;
    i = src.indexOf("{", i + 1);
  }
  return -1;
}

function lexExpression(
  src: string,
  start: number,
  close: string,
  push: (type: TokenType, value: string, offset: number, literal?: string | number | PyBigInt) => void,
  fail: (msg: string, offset: number) => never,
): { end: number; next: number; strip: boolean } {
  let pos = start;
  const braces: string[] = [];
  let prevDot = false;
  while (pos < src.length) {
    WS_RE.lastIndex = pos;
    const ws = WS_RE.exec(src);
    if (ws) {
      pos += ws[0].length;
      continue;
    }
    if (braces.length === 0) {
      if (src.startsWith(`-${close}`, pos)) return { end: pos, next: pos + 3, strip: true };
      if (src.startsWith(`+${close}`, pos) && close === "%}") return { end: pos, next: pos + 3, strip: false };
      if (src.startsWith(close, pos)) return { end: pos, next: pos + 2, strip: false };
    }
    const c = src[pos] as string;
    if (c === "'" || c === '"') {
      STRING_RE.lastIndex = pos;
      const m = STRING_RE.exec(src);
      if (!m) fail("unexpected end of string", pos);
      const s = m as RegExpExecArray;
      push("string", s[0], pos, unescapeString(s[1] ?? s[2] ?? ""));
      pos += s[0].length;
      prevDot = false;
      continue;
    }
    if (c >= "0" && c <= "9") {
      FLOAT_RE.lastIndex = pos;
      const f = prevDot ? null : FLOAT_RE.exec(src);
      if (f) {
        push("float", f[0], pos, Number(f[0].replace(/_/g, "")));
        pos += f[0].length;
      } else {
        INT_RE.lastIndex = pos;
        const m = INT_RE.exec(src);
        if (!m) fail(`unexpected char '${c}'`, pos);
        const text = (m as RegExpExecArray)[0];
        push("int", text, pos, parseIntLiteral(text));
        pos += text.length;
      }
      prevDot = false;
      continue;
    }
    NAME_RE.lastIndex = pos;
    const n = NAME_RE.exec(src);
    if (n) {
      push("name", n[0], pos);
      pos += n[0].length;
      prevDot = false;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, pos));
    if (!op) fail(`unexpected char '${c}' at ${pos}`, pos);
    const o = op as string;
    if (o === "(" || o === "[" || o === "{") braces.push(o);
    else if (o === ")" || o === "]" || o === "}") {
      const expected = { ")": "(", "]": "[", "}": "{" }[o];
      const open = braces.pop();
      if (open === undefined) fail(`unexpected '${o}'`, pos);
      if (open !== expected) fail(`unexpected '${o}', expected '${{ "(": ")", "[": "]", "{": "}" }[open as string]}'`, pos);
    }
    push("op", o, pos);
    pos += o.length;
    prevDot = o === ".";
  }
  return fail(close === "}}" ? "unexpected end of template, expected 'end of print statement'." : "unexpected end of template, expected 'end of statement block'.", pos);
}

function parseIntLiteral(text: string): number | PyBigInt {
  const t = text.replace(/_/g, "").toLowerCase();
  return normInt(BigInt(t.startsWith("0o") ? `0o${t.slice(2)}` : t));
}

/** Python's unicode-escape decoding of a string literal body. */
function unescapeString(body: string): string {
  return body.replace(/\\(?:x([\da-fA-F]{2})|u([\da-fA-F]{4})|U([\da-fA-F]{8})|([0-7]{1,3})|(\n)|(.))/gs, (all, x, u, U, oct, nl, ch: string | undefined) => {
    if (x) return String.fromCharCode(parseInt(x, 16));
    if (u) return String.fromCharCode(parseInt(u, 16));
    if (U) return String.fromCodePoint(parseInt(U, 16));
    if (oct) return String.fromCharCode(parseInt(oct, 8));
    if (nl) return "";
    switch (ch) {
      case "n":
        return "\n";
      case "t":
        return "\t";
      case "r":
        return "\r";
      case "\\":
        return "\\";
      case "'":
        return "'";
      case '"':
        return '"';
      case "a":
        return "\x07";
      case "b":
        return "\b";
      case "f":
        return "\f";
      case "v":
        return "\v";
    }
    return all;
  });
}
