/**
 * Recursive-descent parser producing the template AST, following Jinja2's grammar and operator
 * precedence (including its quirks: `**` is left-associative and binds looser than unary minus).
 */
import { TemplateSyntaxError } from "./errors.ts";
import { type Token, tokenize } from "./lexer.ts";

export interface Pos {
  line: number;
  col: number;
}

export interface CallArgs {
  args: Expr[];
  kwargs: [string, Expr][];
  dynArgs: Expr | null;
  dynKwargs: Expr | null;
}

export type Expr = Pos &
  (
    | { k: "const"; v: unknown }
    | { k: "name"; name: string }
    | { k: "list" | "tuple"; items: Expr[] }
    | { k: "dict"; pairs: [Expr, Expr][] }
    | { k: "getattr"; obj: Expr; name: string }
    | { k: "getitem"; obj: Expr; key: Expr }
    | { k: "slice"; obj: Expr; start: Expr | null; stop: Expr | null; step: Expr | null }
    | ({ k: "call"; fn: Expr } & CallArgs)
    | ({ k: "filter"; name: string; node: Expr | null } & CallArgs)
    | ({ k: "test"; name: string; node: Expr; negated: boolean } & CallArgs)
    | { k: "bin"; op: "+" | "-" | "*" | "/" | "//" | "%" | "**"; a: Expr; b: Expr }
    | { k: "concat"; items: Expr[] }
    | { k: "and" | "or"; a: Expr; b: Expr }
    | { k: "not" | "neg" | "pos"; a: Expr }
    | { k: "compare"; first: Expr; ops: [string, Expr][] }
    | { k: "cond"; test: Expr; then: Expr; else: Expr | null }
  );

export type Target = Pos & ({ k: "name"; name: string } | { k: "tuple"; items: Target[] } | { k: "nsattr"; ns: string; attr: string });

export type Stmt = Pos &
  (
    | { k: "data"; text: string }
    | { k: "output"; expr: Expr }
    | { k: "for"; target: Target; iter: Expr; filter: Expr | null; recursive: boolean; body: Stmt[]; else: Stmt[] }
    | { k: "if"; branches: [Expr, Stmt[]][]; else: Stmt[] }
    | { k: "set"; target: Target; value: Expr }
    | { k: "setblock"; target: Target; filter: Expr | null; body: Stmt[] }
    | { k: "macro"; name: string; params: [string, Expr | null][]; body: Stmt[] }
    | { k: "callblock"; call: Expr; params: [string, Expr | null][]; body: Stmt[] }
    | { k: "filterblock"; filter: Expr; body: Stmt[] }
    | { k: "with"; assigns: [Target, Expr][]; body: Stmt[] }
    | { k: "autoescape"; value: Expr; body: Stmt[] }
    | { k: "scope"; body: Stmt[] }
  );

const COMPARE_OPS = new Set(["==", "!=", "<", "<=", ">", ">="]);

export function parse(source: string, name?: string): Stmt[] {
  return new Parser(tokenize(source, name), name).parseTemplate();
}

class Parser {
  private i = 0;
  private readonly endStack: string[] = [];
  constructor(
    private readonly tokens: Token[],
    private readonly name: string | undefined,
  ) {}

  private get cur(): Token {
    return this.tokens[this.i] as Token;
  }
  private peek(n = 1): Token {
    return this.tokens[Math.min(this.i + n, this.tokens.length - 1)] as Token;
  }
  private next(): Token {
    const t = this.cur;
    if (t.type !== "eof") this.i++;
    return t;
  }
  private fail(msg: string, t: Token = this.cur): never {
    throw new TemplateSyntaxError(msg, { line: t.line, column: t.col, name: this.name });
  }
  private isOp(v: string, t: Token = this.cur): boolean {
    return t.type === "op" && t.value === v;
  }
  private isName(v: string, t: Token = this.cur): boolean {
    return t.type === "name" && t.value === v;
  }
  private expectOp(v: string): Token {
    if (!this.isOp(v)) this.fail(`expected token '${v}', got '${describe(this.cur)}'`);
    return this.next();
  }
  private expectName(v?: string): Token {
    if (this.cur.type !== "name" || (v !== undefined && this.cur.value !== v)) {
      this.fail(`expected token '${v ?? "name"}', got '${describe(this.cur)}'`);
    }
    return this.next();
  }
  private expectType(type: Token["type"], what: string): Token {
    if (this.cur.type !== type) this.fail(`expected token '${what}', got '${describe(this.cur)}'`);
    return this.next();
  }

  parseTemplate(): Stmt[] {
    const body = this.subparse(null);
    return body;
  }

  /** Parses statements until a block tag named in `ends` (left unconsumed), or eof when ends is null. */
  private subparse(ends: string[] | null): Stmt[] {
    const out: Stmt[] = [];
    for (;;) {
      const t = this.cur;
      if (t.type === "eof") {
        if (ends) this.unexpectedEnd(ends);
        return out;
      }
      if (t.type === "data") {
        this.next();
        out.push({ k: "data", text: t.value, line: t.line, col: t.col });
      } else if (t.type === "var_begin") {
        this.next();
        const expr = this.parseTuple(true);
        this.expectType("var_end", "end of print statement");
        out.push({ k: "output", expr, line: expr.line, col: expr.col });
      } else if (t.type === "block_begin") {
        const tag = this.peek();
        if (ends && tag.type === "name" && ends.includes(tag.value)) {
          this.next();
          return out;
        }
        this.next();
        out.push(...this.parseStatement());
      } else this.fail(`unexpected token ${t.type}`);
    }
  }

  private unexpectedEnd(ends: string[]): never {
    const expected = ends.map((e) => `'${e}'`).join(" or ");
    const inner = this.endStack[this.endStack.length - 1];
    this.fail(`Unexpected end of template. Jinja was looking for the following tags: ${expected}. The innermost block that needs to be closed is '${inner}'.`);
  }

  private endBlock(): void {
    this.expectType("block_end", "end of statement block");
  }

  private parseStatement(): Stmt[] {
    const t = this.cur;
    if (t.type !== "name") this.fail("tag name expected");
    this.endStack.push(t.value);
    try {
      switch (t.value) {
        case "for":
          return [this.parseFor()];
        case "if":
          return [this.parseIf()];
        case "set":
          return [this.parseSet()];
        case "macro":
          return [this.parseMacro()];
        case "call":
          return [this.parseCallBlock()];
        case "filter":
          return [this.parseFilterBlock()];
        case "with":
          return [this.parseWith()];
        case "autoescape":
          return [this.parseAutoescape()];
        case "block":
          return [this.parseBlock()];
        case "extends":
        case "include":
        case "import":
        case "from":
          this.fail(`'${t.value}' needs a template loader, which lava's rendering does not provide`);
          break;
        case "print":
          this.next();
          {
            const expr = this.parseTuple(true);
            this.endBlock();
            return [{ k: "output", expr, line: t.line, col: t.col }];
          }
      }
      if (t.value.startsWith("end") || t.value === "else" || t.value === "elif") {
        this.fail(`Encountered unknown tag '${t.value}'.${this.endStack.length > 1 ? ` Jinja was looking for the following tags: '${this.endStack.slice(-2)[0]}'.` : ""}`);
      }
      return this.fail(`Encountered unknown tag '${t.value}'.`);
    } finally {
      this.endStack.pop();
    }
  }

  private parseFor(): Stmt {
    const t = this.next();
    const target = this.parseAssignTarget(true, false);
    this.expectName("in");
    const iter = this.parseTuple(false, ["recursive"]);
    let filter: Expr | null = null;
    if (this.isName("if")) {
      this.next();
      filter = this.parseExpression(true);
    }
    const recursive = this.isName("recursive");
    if (recursive) this.next();
    this.endBlock();
    const body = this.subparse(["endfor", "else"]);
    let elseBody: Stmt[] = [];
    if (this.next().value === "else") {
      this.endBlock();
      elseBody = this.subparse(["endfor"]);
      this.next();
    }
    this.endBlock();
    return { k: "for", target, iter, filter, recursive, body, else: elseBody, line: t.line, col: t.col };
  }

  private parseIf(): Stmt {
    const t = this.next();
    const branches: [Expr, Stmt[]][] = [];
    let elseBody: Stmt[] = [];
    let cond = this.parseTuple(false);
    for (;;) {
      this.endBlock();
      const body = this.subparse(["elif", "else", "endif"]);
      branches.push([cond, body]);
      const tag = this.next().value;
      if (tag === "elif") {
        cond = this.parseTuple(false);
        continue;
      }
      if (tag === "else") {
        this.endBlock();
        elseBody = this.subparse(["endif"]);
        this.next();
      }
      break;
    }
    this.endBlock();
    return { k: "if", branches, else: elseBody, line: t.line, col: t.col };
  }

  private parseSet(): Stmt {
    const t = this.next();
    const target = this.parseAssignTarget(true, true);
    if (this.isOp("=")) {
      this.next();
      const value = this.parseTuple(true);
      this.endBlock();
      return { k: "set", target, value, line: t.line, col: t.col };
    }
    const filter = this.isOp("|") ? this.parseFilterChain(null) : null;
    this.endBlock();
    const body = this.subparse(["endset"]);
    this.next();
    this.endBlock();
    return { k: "setblock", target, filter, body, line: t.line, col: t.col };
  }

  private parseParams(): [string, Expr | null][] {
    const params: [string, Expr | null][] = [];
    this.expectOp("(");
    while (!this.isOp(")")) {
      if (params.length) this.expectOp(",");
      const n = this.expectName();
      let dflt: Expr | null = null;
      if (this.isOp("=")) {
        this.next();
        dflt = this.parseExpression(true);
      } else if (params.some(([, d]) => d !== null)) this.fail("non-default argument follows default argument", n);
      params.push([n.value, dflt]);
    }
    this.expectOp(")");
    return params;
  }

  private parseMacro(): Stmt {
    const t = this.next();
    const name = this.expectName().value;
    const params = this.parseParams();
    this.endBlock();
    const body = this.subparse(["endmacro"]);
    this.next();
    this.endBlock();
    return { k: "macro", name, params, body, line: t.line, col: t.col };
  }

  private parseCallBlock(): Stmt {
    const t = this.next();
    const params = this.isOp("(") ? this.parseParams() : [];
    const call = this.parseExpression(true);
    if (call.k !== "call") this.fail("expected call", t);
    this.endBlock();
    const body = this.subparse(["endcall"]);
    this.next();
    this.endBlock();
    return { k: "callblock", call, params, body, line: t.line, col: t.col };
  }

  private parseFilterBlock(): Stmt {
    const t = this.next();
    const filter = this.parseFilterChain(null, true);
    this.endBlock();
    const body = this.subparse(["endfilter"]);
    this.next();
    this.endBlock();
    return { k: "filterblock", filter, body, line: t.line, col: t.col };
  }

  private parseWith(): Stmt {
    const t = this.next();
    const assigns: [Target, Expr][] = [];
    while (this.cur.type !== "block_end") {
      if (assigns.length) this.expectOp(",");
      const target = this.parseAssignTarget(false, false);
      this.expectOp("=");
      assigns.push([target, this.parseExpression(true)]);
    }
    this.endBlock();
    const body = this.subparse(["endwith"]);
    this.next();
    this.endBlock();
    return { k: "with", assigns, body, line: t.line, col: t.col };
  }

  private parseAutoescape(): Stmt {
    const t = this.next();
    const value = this.parseExpression(true);
    this.endBlock();
    const body = this.subparse(["endautoescape"]);
    this.next();
    this.endBlock();
    return { k: "autoescape", value, body, line: t.line, col: t.col };
  }

  private parseBlock(): Stmt {
    const t = this.next();
    const name = this.expectName().value;
    if (this.isName("scoped")) this.next();
    if (this.isName("required")) this.next();
    this.endBlock();
    const body = this.subparse(["endblock"]);
    this.next();
    if (this.cur.type === "name") {
      if (this.cur.value !== name) this.fail(`mismatching name '${this.cur.value}' for block '${name}'`);
      this.next();
    }
    this.endBlock();
    return { k: "scope", body, line: t.line, col: t.col };
  }

  private parseAssignTarget(withTuple: boolean, withNamespace: boolean): Target {
    const t = this.cur;
    if (withNamespace && t.type === "name" && this.isOp(".", this.peek())) {
      this.next();
      this.next();
      const attr = this.expectName().value;
      return { k: "nsattr", ns: t.value, attr, line: t.line, col: t.col };
    }
    const one = (): Target => {
      const n = this.cur;
      if (this.isOp("(")) {
        this.next();
        const inner = this.parseTargetList();
        this.expectOp(")");
        return inner;
      }
      if (n.type !== "name") this.fail(`can't assign to '${describe(n)}'`);
      this.next();
      return { k: "name", name: n.value, line: n.line, col: n.col };
    };
    if (!withTuple) return one();
    const items = [one()];
    while (this.isOp(",")) {
      this.next();
      if (this.cur.type !== "name" && !this.isOp("(")) break;
      items.push(one());
    }
    return items.length === 1 && !this.isOp(",", this.tokens[this.i - 1]) ? (items[0] as Target) : { k: "tuple", items, line: t.line, col: t.col };
  }

  private parseTargetList(): Target {
    const t = this.cur;
    const items: Target[] = [];
    do {
      if (items.length) this.next();
      if (this.isOp(")")) break;
      items.push(this.parseAssignTarget(false, false));
    } while (this.isOp(","));
    return { k: "tuple", items, line: t.line, col: t.col };
  }

  // -------------------------------------------------------------------------------------------
  // Expressions

  /** A comma-separated expression list becomes a tuple (`{{ 1, 2 }}`, `for x in a, b`). */
  private parseTuple(withCondexpr: boolean, extraEnds: string[] = []): Expr {
    const t = this.cur;
    const items: Expr[] = [];
    let trailingComma = false;
    for (;;) {
      if (items.length) {
        if (!this.isOp(",")) break;
        this.next();
        trailingComma = true;
      }
      if (this.isTupleEnd(extraEnds)) break;
      items.push(this.parseExpression(withCondexpr));
      trailingComma = false;
    }
    if (items.length === 0) this.fail(`Expected an expression, got '${describe(this.cur)}'`);
    if (items.length === 1 && !trailingComma) return items[0] as Expr;
    return { k: "tuple", items, line: t.line, col: t.col };
  }

  private isTupleEnd(extra: string[]): boolean {
    const t = this.cur;
    if (t.type === "var_end" || t.type === "block_end" || t.type === "eof") return true;
    if (this.isOp(")") || this.isOp("]") || this.isOp("}") || this.isOp("=")) return true;
    return t.type === "name" && (extra.includes(t.value) || t.value === "if");
  }

  parseExpression(withCondexpr: boolean): Expr {
    return withCondexpr ? this.parseCondexpr() : this.parseOr();
  }

  private parseCondexpr(): Expr {
    let expr = this.parseOr();
    while (this.isName("if")) {
      const t = this.next();
      const test = this.parseOr();
      let elseExpr: Expr | null = null;
      if (this.isName("else")) {
        this.next();
        elseExpr = this.parseCondexpr();
      }
      expr = { k: "cond", test, then: expr, else: elseExpr, line: t.line, col: t.col };
    }
    return expr;
  }

  private parseOr(): Expr {
    let a = this.parseAnd();
    while (this.isName("or")) {
      const t = this.next();
      a = { k: "or", a, b: this.parseAnd(), line: t.line, col: t.col };
    }
    return a;
  }

  private parseAnd(): Expr {
    let a = this.parseNot();
    while (this.isName("and")) {
      const t = this.next();
      a = { k: "and", a, b: this.parseNot(), line: t.line, col: t.col };
    }
    return a;
  }

  private parseNot(): Expr {
    if (this.isName("not")) {
      const t = this.next();
      return { k: "not", a: this.parseNot(), line: t.line, col: t.col };
    }
    return this.parseCompare();
  }

  private parseCompare(): Expr {
    const first = this.parseMath1();
    const ops: [string, Expr][] = [];
    for (;;) {
      const t = this.cur;
      if (t.type === "op" && COMPARE_OPS.has(t.value)) {
        this.next();
        ops.push([t.value, this.parseMath1()]);
      } else if (this.isName("in")) {
        this.next();
        ops.push(["in", this.parseMath1()]);
      } else if (this.isName("not") && this.isName("in", this.peek())) {
        this.next();
        this.next();
        ops.push(["notin", this.parseMath1()]);
      } else break;
    }
    return ops.length ? { k: "compare", first, ops, line: first.line, col: first.col } : first;
  }

  private parseMath1(): Expr {
    let a = this.parseConcat();
    while (this.isOp("+") || this.isOp("-")) {
      const t = this.next();
      a = { k: "bin", op: t.value as "+" | "-", a, b: this.parseConcat(), line: t.line, col: t.col };
    }
    return a;
  }

  private parseConcat(): Expr {
    const first = this.parseMath2();
    const items = [first];
    while (this.isOp("~")) {
      this.next();
      items.push(this.parseMath2());
    }
    return items.length === 1 ? first : { k: "concat", items, line: first.line, col: first.col };
  }

  private parseMath2(): Expr {
    let a = this.parsePow();
    while (this.isOp("*") || this.isOp("/") || this.isOp("//") || this.isOp("%")) {
      const t = this.next();
      a = { k: "bin", op: t.value as "*", a, b: this.parsePow(), line: t.line, col: t.col };
    }
    return a;
  }

  private parsePow(): Expr {
    let a = this.parseUnary(true);
    while (this.isOp("**")) {
      const t = this.next();
      a = { k: "bin", op: "**", a, b: this.parseUnary(true), line: t.line, col: t.col };
    }
    return a;
  }

  private parseUnary(withFilter: boolean): Expr {
    const t = this.cur;
    let node: Expr;
    if (this.isOp("-")) {
      this.next();
      node = { k: "neg", a: this.parseUnary(false), line: t.line, col: t.col };
    } else if (this.isOp("+")) {
      this.next();
      node = { k: "pos", a: this.parseUnary(false), line: t.line, col: t.col };
    } else node = this.parsePrimary();
    node = this.parsePostfix(node);
    if (withFilter) node = this.parseFilterExpr(node);
    return node;
  }

  private parsePrimary(): Expr {
    const t = this.cur;
    const at = { line: t.line, col: t.col };
    if (t.type === "name") {
      this.next();
      switch (t.value) {
        case "true":
        case "True":
          return { k: "const", v: true, ...at };
        case "false":
        case "False":
          return { k: "const", v: false, ...at };
        case "none":
        case "None":
          return { k: "const", v: null, ...at };
      }
      return { k: "name", name: t.value, ...at };
    }
    if (t.type === "string") {
      let s = "";
      while (this.cur.type === "string") s += this.next().literal as string;
      return { k: "const", v: s, ...at };
    }
    if (t.type === "int") {
      this.next();
      return { k: "const", v: t.literal, ...at };
    }
    if (t.type === "float") {
      this.next();
      return { k: "const", v: { float: t.literal }, ...at };
    }
    if (this.isOp("(")) {
      this.next();
      if (this.isOp(")")) {
        this.next();
        return { k: "tuple", items: [], ...at };
      }
      const e = this.parseTuple(true);
      this.expectOp(")");
      return e;
    }
    if (this.isOp("[")) {
      this.next();
      const items: Expr[] = [];
      while (!this.isOp("]")) {
        if (items.length) this.expectOp(",");
        if (this.isOp("]")) break;
        items.push(this.parseExpression(true));
      }
      this.expectOp("]");
      return { k: "list", items, ...at };
    }
    if (this.isOp("{")) {
      this.next();
      const pairs: [Expr, Expr][] = [];
      while (!this.isOp("}")) {
        if (pairs.length) this.expectOp(",");
        if (this.isOp("}")) break;
        const key = this.parseExpression(true);
        this.expectOp(":");
        pairs.push([key, this.parseExpression(true)]);
      }
      this.expectOp("}");
      return { k: "dict", pairs, ...at };
    }
    return this.fail(`unexpected '${describe(t)}'`);
  }

  private parsePostfix(node: Expr): Expr {
    for (;;) {
      const t = this.cur;
      if (this.isOp(".")) {
        this.next();
        const a = this.next();
        if (a.type === "name") node = { k: "getattr", obj: node, name: a.value, line: t.line, col: t.col };
        else if (a.type === "int") node = { k: "getitem", obj: node, key: { k: "const", v: a.literal, line: a.line, col: a.col }, line: t.line, col: t.col };
        else this.fail("expected name or number", a);
      } else if (this.isOp("[")) {
        this.next();
        node = this.parseSubscript(node, t);
        this.expectOp("]");
      } else if (this.isOp("(")) {
        node = { k: "call", fn: node, ...this.parseCallArgs(), line: t.line, col: t.col };
      } else return node;
    }
  }

  private parseSubscript(obj: Expr, t: Token): Expr {
    const parts: (Expr | null)[] = [];
    const isSlice = (): boolean => this.isOp(":");
    let slice = false;
    let cur: Expr | null = null;
    const items: Expr[] = [];
    for (;;) {
      if (isSlice()) {
        slice = true;
        parts.push(cur);
        cur = null;
        this.next();
        continue;
      }
      if (this.isOp("]") || this.isOp(",")) {
        if (this.isOp(",") && !slice) {
          if (cur) items.push(cur);
          cur = null;
          this.next();
          continue;
        }
        break;
      }
      cur = this.parseExpression(true);
    }
    if (slice) {
      parts.push(cur);
      const [start = null, stop = null, step = null] = parts;
      return { k: "slice", obj, start, stop, step, line: t.line, col: t.col };
    }
    if (items.length) {
      if (cur) items.push(cur);
      return { k: "getitem", obj, key: { k: "tuple", items, line: t.line, col: t.col }, line: t.line, col: t.col };
    }
    if (!cur) this.fail("expected subscript expression");
    return { k: "getitem", obj, key: cur as Expr, line: t.line, col: t.col };
  }

  private parseCallArgs(): CallArgs {
    this.expectOp("(");
    const out: CallArgs = { args: [], kwargs: [], dynArgs: null, dynKwargs: null };
    let first = true;
    while (!this.isOp(")")) {
      if (!first) {
        this.expectOp(",");
        if (this.isOp(")")) break;
      }
      first = false;
      if (this.isOp("**")) {
        this.next();
        out.dynKwargs = this.parseExpression(true);
      } else if (this.isOp("*")) {
        this.next();
        out.dynArgs = this.parseExpression(true);
      } else if (this.cur.type === "name" && this.isOp("=", this.peek())) {
        const key = this.next().value;
        this.next();
        out.kwargs.push([key, this.parseExpression(true)]);
      } else {
        if (out.kwargs.length || out.dynKwargs) this.fail("Invalid argument syntax: positional argument follows keyword argument");
        out.args.push(this.parseExpression(true));
      }
    }
    this.expectOp(")");
    return out;
  }

  private parseFilterExpr(node: Expr): Expr {
    for (;;) {
      if (this.isOp("|")) node = this.parseFilterChain(node);
      else if (this.isName("is")) node = this.parseTest(node);
      else if (this.isOp("(")) {
        const t = this.cur;
        node = { k: "call", fn: node, ...this.parseCallArgs(), line: t.line, col: t.col };
      } else return node;
    }
  }

  private parseFilterChain(node: Expr | null, startWithoutPipe = false): Expr {
    let first = true;
    while (this.isOp("|") || (startWithoutPipe && first)) {
      if (!(startWithoutPipe && first)) this.next();
      first = false;
      const t = this.expectName();
      let name = t.value;
      while (this.isOp(".")) {
        this.next();
        name += `.${this.expectName().value}`;
      }
      const args = this.isOp("(") ? this.parseCallArgs() : { args: [], kwargs: [], dynArgs: null, dynKwargs: null };
      node = { k: "filter", name, node, ...args, line: t.line, col: t.col };
    }
    return node as Expr;
  }

  private parseTest(node: Expr): Expr {
    const t = this.next();
    let negated = false;
    if (this.isName("not")) {
      this.next();
      negated = true;
    }
    let name = this.expectName().value;
    while (this.isOp(".")) {
      this.next();
      name += `.${this.expectName().value}`;
    }
    let args: CallArgs = { args: [], kwargs: [], dynArgs: null, dynKwargs: null };
    const c = this.cur;
    if (this.isOp("(")) args = this.parseCallArgs();
    else if (
      (c.type === "name" || c.type === "string" || c.type === "int" || c.type === "float" || this.isOp("[") || this.isOp("{")) &&
      !(c.type === "name" && ["else", "or", "and"].includes(c.value))
    ) {
      // As Jinja: any other name (even `if`, `in`, `not`) is read as the test's one argument.
      if (c.type === "name" && c.value === "is") this.fail("You cannot chain multiple tests with is", c);
      const arg = this.parsePostfix(this.parsePrimary());
      args = { args: [arg], kwargs: [], dynArgs: null, dynKwargs: null };
    }
    return { k: "test", name, node, negated, ...args, line: t.line, col: t.col };
  }
}

function describe(t: Token): string {
  switch (t.type) {
    case "eof":
      return "end of template";
    case "var_end":
      return "end of print statement";
    case "block_end":
      return "end of statement block";
    default:
      return t.value;
  }
}
