/**
 * Splits SQL text into statements exactly where Python's `sqlparse.split()` (0.5.3, the original's pinned
 * version) splits it, and returns each statement as sqlparse does (`str(stmt).strip()`).
 *
 * Hand-written because the split decides what runs, so it must match the original statement for statement,
 * and no JS library reproduces sqlparse: this is a port of its lexer (the token rules, in order, first
 * match wins at each position) and of its StatementSplitter's split-level rules, including their quirks
 * (`CASE ... END` inside `CREATE ... BEGIN`, `GO` as a separator, a `;` inside parentheses never splitting).
 * test/handlers/sql-split.test.ts checks it against sqlparse itself.
 *
 * Python's regex classes are Unicode-aware: `\w`, `\d`, `\s` and `\b` are spelled out below to match them.
 */

const W = String.raw`[\p{L}\p{N}_]`;
const D = String.raw`\p{Nd}`;
/** Python's `\s` (str.isspace), which unlike JS's includes \x1c-\x1f and \x85 and excludes \ufeff. */
const S = String.raw`[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]`;
const B = `(?!${W})`; // \b after a word character
const L = "[_A-ZÀ-Ü]";
const U = "[A-ZÀ-Ü]";

/** Token kinds the splitter tells apart; everything else is "other". */
type Kind =
  | "ws" // Whitespace (not newline)
  | "newline"
  | "comment1" // Comment.Single
  | "comment1hint" // Comment.Single.Hint
  | "comment"
  | "punct"
  | "keyword"
  | "ddl"
  | "other";

/** sqlparse's SQL_REGEX, in its order. `"word"` is PROCESS_AS_KEYWORD. */
const RULES: [string, Kind | "word"][] = [
  [String.raw`(--|# )\+[^\n]*?(\r\n|\r|\n|$)`, "comment1hint"],
  [String.raw`/\*\+[\s\S]*?\*/`, "comment"],
  [String.raw`(--|# )[^\n]*?(\r\n|\r|\n|$)`, "comment1"],
  [String.raw`/\*[\s\S]*?\*/`, "comment"],
  [String.raw`(\r\n|\r|\n)`, "newline"],
  [`${S}`, "ws"],
  [":=", "other"],
  ["::", "punct"],
  [String.raw`\*`, "other"],
  ["`(``|[^`])*`", "other"],
  ["´(´´|[^´])*´", "other"],
  [String.raw`((?<![\p{L}\p{N}_"$])\$(?:${L}${W}*)?\$)[\s\S]*?\1`, "other"],
  [String.raw`\?`, "other"],
  [String.raw`%(\(${W}+\))?s`, "other"],
  [String.raw`(?<!${W})[$:?]${W}+`, "other"],
  [String.raw`\\${W}+`, "other"],
  [`(CASE|IN|VALUES|USING|FROM|AS)${B}`, "keyword"],
  [`(@|##|#)${U}${W}+`, "other"],
  [String.raw`${U}${W}*(?=${S}*\.)`, "other"],
  [String.raw`(?<=\.)${U}${W}*`, "other"],
  [String.raw`${U}${W}*(?=\()`, "other"],
  [String.raw`-?0x[${D}A-F]+`, "other"],
  [String.raw`-?${D}+(\.${D}+)?E-?${D}+`, "other"],
  [String.raw`(?!${L})-?(${D}+(\.${D}*)|\.${D}+)(?!${L})`, "other"],
  [String.raw`(?!${L})-?${D}+(?!${L})`, "other"],
  [String.raw`'(''|\\'|[^'])*'`, "other"],
  [String.raw`"(""|\\"|[^"])*"`, "other"],
  [String.raw`(""|"[^\n]*?[^\\]")`, "other"],
  [String.raw`(?<![\p{L}\p{N}_\])])(\[[^\]\[]+\])`, "other"],
  [`((LEFT${S}+|RIGHT${S}+|FULL${S}+)?(INNER${S}+|OUTER${S}+|STRAIGHT${S}+)?|(CROSS${S}+|NATURAL${S}+)?)?JOIN${B}`, "keyword"],
  [`END(${S}+IF|${S}+LOOP|${S}+WHILE)?${B}`, "keyword"],
  [`NOT${S}+NULL${B}`, "keyword"],
  [`(ASC|DESC)(${S}+NULLS${S}+(FIRST|LAST))?${B}`, "keyword"],
  [`(ASC|DESC)${B}`, "keyword"],
  [`NULLS${S}+(FIRST|LAST)${B}`, "keyword"],
  [`UNION${S}+ALL${B}`, "keyword"],
  [`CREATE(${S}+OR${S}+REPLACE)?${B}`, "ddl"],
  [`DOUBLE${S}+PRECISION${B}`, "other"],
  [`GROUP${S}+BY${B}`, "keyword"],
  [`ORDER${S}+BY${B}`, "keyword"],
  [`PRIMARY${S}+KEY${B}`, "keyword"],
  [`HANDLER${S}+FOR${B}`, "keyword"],
  [`GO(${S}${D}+)${B}`, "keyword"],
  [`(LATERAL${S}+VIEW${S}+)(EXPLODE|INLINE|PARSE_URL_TUPLE|POSEXPLODE|STACK)${B}`, "keyword"],
  [`(AT|WITH')${S}+TIME${S}+ZONE${S}+'[^']+'`, "keyword"],
  [`(NOT${S}+)?(LIKE|ILIKE|RLIKE)${B}`, "other"],
  [`(NOT${S}+)?(REGEXP)${B}`, "other"],
  [String.raw`${W}[$#\p{L}\p{N}_]*`, "word"],
  [String.raw`[;:()\[\],\.]`, "punct"],
  [String.raw`(->>?|#>>?|@>|<@|\?\|?|\?&|-|#-)`, "other"],
  ["[<>=~!]+", "other"],
  [String.raw`[+/@#%^&|^-]+`, "other"],
];

const COMPILED: [RegExp, Kind | "word"][] = RULES.map(([rx, kind]) => [new RegExp(rx, "iuy"), kind]);

/**
 * Of the words sqlparse looks up in its keyword tables, only these change a split level or end a
 * statement; any other word, keyword or not, leaves the split alone.
 */
const SPLIT_WORDS = new Set(["DECLARE", "BEGIN", "END", "IF", "FOR", "WHILE", "CASE", "GO"]);

interface Token {
  kind: Kind;
  value: string;
}

function* tokenize(text: string): Generator<Token> {
  let pos = 0;
  outer: while (pos < text.length) {
    for (const [rx, kind] of COMPILED) {
      rx.lastIndex = pos;
      const m = rx.exec(text);
      if (!m) continue;
      const value = m[0];
      // An empty match (only `$` after a comment marker can be empty: it never is, the marker has length).
      yield { kind: kind === "word" ? (SPLIT_WORDS.has(value.toUpperCase()) ? "keyword" : "other") : kind, value };
      pos += Math.max(1, value.length);
      continue outer;
    }
    // sqlparse yields an Error token for a character no rule matches.
    const ch = String.fromCodePoint(text.codePointAt(pos)!);
    yield { kind: "other", value: ch };
    pos += ch.length;
  }
}

class Splitter {
  private inDeclare = false;
  private inCase = false;
  private isCreate = false;
  private beginDepth = 0;
  consumeWs = false;
  tokens: Token[] = [];
  level = 0;

  reset(): void {
    this.inDeclare = false;
    this.inCase = false;
    this.isCreate = false;
    this.beginDepth = 0;
    this.consumeWs = false;
    this.tokens = [];
    this.level = 0;
  }

  /** sqlparse's `_change_splitlevel`. */
  change(t: Token): number {
    if (t.kind === "punct" && t.value === "(") return 1;
    if (t.kind === "punct" && t.value === ")") return -1;
    if (t.kind !== "keyword" && t.kind !== "ddl") return 0;
    const unified = t.value.toUpperCase();
    if (t.kind === "ddl") {
      this.isCreate = true;
      return 0;
    }
    if (unified === "DECLARE" && this.isCreate && this.beginDepth === 0) {
      this.inDeclare = true;
      return 1;
    }
    if (unified === "BEGIN") {
      this.beginDepth += 1;
      return this.isCreate ? 1 : 0;
    }
    if (unified === "END") {
      if (!this.inCase) this.beginDepth = Math.max(0, this.beginDepth - 1);
      else this.inCase = false;
      return -1;
    }
    if ((unified === "IF" || unified === "FOR" || unified === "WHILE" || unified === "CASE") && this.isCreate && this.beginDepth > 0) {
      if (unified === "CASE") this.inCase = true;
      return 1;
    }
    if (unified === "END IF" || unified === "END FOR" || unified === "END WHILE") return -1;
    return 0;
  }
}

const PY_SPACE = /^[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;

/** Python's `str.strip()` (its whitespace set, not JS's `trim()`). */
export function pyStrip(s: string): string {
  return s.replace(PY_SPACE, "");
}

/** `sqlparse.split(text)`. */
export function splitSql(text: string): string[] {
  const out: string[] = [];
  const sp = new Splitter();
  const emit = () => out.push(pyStrip(sp.tokens.map((t) => t.value).join("")));
  for (const t of tokenize(text)) {
    if (sp.consumeWs && t.kind !== "ws" && t.kind !== "comment1") {
      emit();
      sp.reset();
    }
    sp.level += sp.change(t);
    sp.tokens.push(t);
    if ((sp.level <= 0 && t.kind === "punct" && t.value === ";") || (t.kind === "keyword" && t.value.split(/\s/)[0] === "GO")) {
      sp.consumeWs = true;
    }
  }
  if (sp.tokens.length && !sp.tokens.every((t) => t.kind === "ws" || t.kind === "newline")) emit();
  return out;
}
