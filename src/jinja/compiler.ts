/**
 * Compiles the template AST into a tree of closures once; rendering only runs closures.
 * Scoping follows Jinja2: `for`, macros, `with` and blocks open scopes, `if` does not, and
 * assignments inside a loop body do not leak out of it.
 */
import { TemplateSyntaxError, positioned, type TemplatePosition } from "./errors.ts";
import { FILTERS, TESTS, type EvalEnv, type Filter, type Test } from "./filters.ts";
import { adapt, binop, call, compare, contains, eq, getattr, getitem, negate, plus, slice, type CmpOp } from "./ops.ts";
import { type CallArgs, type Expr, type Pos, type Stmt, type Target, parse } from "./parser.ts";
import { GLOBALS } from "./globals.ts";
import {
  type Kwargs,
  MISSING,
  Markup,
  PyNamespace,
  PyObject,
  Undefined,
  dictEntries,
  escapeHtml,
  isDict,
  iterate,
  mkFloat,
  newDict,
  setOwn,
  str,
  truthy,
  tuple,
  typeName,
  undefinedName,
} from "./values.ts";
import { PyError } from "./errors.ts";

export interface Scope {
  vars: Map<string, unknown>;
  parent: Scope | null;
  ctx: Record<string, unknown> | Map<string, unknown>;
}

class Out {
  s = "";
}

type ExprFn = (s: Scope) => unknown;
type StmtFn = (s: Scope, out: Out) => void;

interface CompileState {
  name: string | undefined;
  autoescape: boolean;
}

const child = (s: Scope): Scope => ({ vars: new Map(), parent: s, ctx: s.ctx });

function lookup(s: Scope, name: string): unknown {
  for (let sc: Scope | null = s; sc; sc = sc.parent) {
    const v = sc.vars.get(name);
    if (v !== undefined || sc.vars.has(name)) return v;
  }
  const ctx = s.ctx;
  if (ctx instanceof Map) {
    if (ctx.has(name)) return adapt(ctx.get(name));
  } else if (Object.hasOwn(ctx, name)) {
    const v = ctx[name];
    return v === undefined ? undefinedName(name) : adapt(v);
  }
  if (Object.hasOwn(GLOBALS, name)) return GLOBALS[name];
  return undefinedName(name);
}

// ---------------------------------------------------------------------------------------------
// Output conversion

function toText(v: unknown): string {
  return typeof v === "string" ? v : str(v);
}

function toEscaped(v: unknown): string {
  if (typeof v === "string") return escapeHtml(v);
  if (v instanceof Markup) return v.s;
  if (typeof v === "number") return str(v);
  return escapeHtml(str(v));
}

// ---------------------------------------------------------------------------------------------
// Expressions

/** An unknown filter or test met in a soft frame: fails only when called. */
function missingCallable(kind: "filter" | "test", name: string): () => never {
  return () => {
    throw new PyError("TemplateRuntimeError", `No ${kind} named '${name}' found.`);
  };
}

class Compiler {
  /**
   * Inside an if-statement or inline if (Jinja's soft frame), an unknown filter or test is an error
   * only when evaluated; loop and macro bodies start hard again.
   */
  private soft = false;

  constructor(private readonly st: CompileState) {}

  private withSoft<T>(soft: boolean, build: () => T): T {
    const saved = this.soft;
    this.soft = soft;
    try {
      return build();
    } finally {
      this.soft = saved;
    }
  }

  private pos(p: Pos): TemplatePosition {
    return { line: p.line, column: p.col, name: this.st.name };
  }

  /** Wraps a closure so errors it raises carry this node's position. */
  private guard(p: Pos, fn: ExprFn): ExprFn {
    const pos = this.pos(p);
    return (s) => {
      try {
        return fn(s);
      } catch (e) {
        throw positioned(e, pos);
      }
    };
  }

  private fail(msg: string, p: Pos, pyType = "TemplateSyntaxError"): never {
    throw new TemplateSyntaxError(msg, this.pos(p), pyType);
  }

  expr(e: Expr): ExprFn {
    switch (e.k) {
      case "const": {
        const v = e.v;
        if (v !== null && typeof v === "object" && "float" in v) {
          const f = mkFloat((v as { float: number }).float);
          return () => f;
        }
        return () => v;
      }
      case "name": {
        const name = e.name;
        return (s) => lookup(s, name);
      }
      case "list": {
        const items = e.items.map((i) => this.expr(i));
        return (s) => items.map((f) => f(s));
      }
      case "tuple": {
        const items = e.items.map((i) => this.expr(i));
        return (s) => tuple(items.map((f) => f(s)));
      }
      case "dict": {
        const pairs = e.pairs.map(([k, v]) => [this.expr(k), this.expr(v)] as const);
        return this.guard(e, (s) => newDict(pairs.map(([k, v]) => [k(s), v(s)])));
      }
      case "getattr": {
        const obj = this.expr(e.obj);
        const name = e.name;
        return this.guard(e, (s) => getattr(obj(s), name));
      }
      case "getitem": {
        const obj = this.expr(e.obj);
        const key = this.expr(e.key);
        return this.guard(e, (s) => getitem(obj(s), key(s)));
      }
      case "slice": {
        const obj = this.expr(e.obj);
        const none = (): null => null;
        const a = e.start ? this.expr(e.start) : none;
        const b = e.stop ? this.expr(e.stop) : none;
        const c = e.step ? this.expr(e.step) : none;
        return this.guard(e, (s) => slice(obj(s), a(s), b(s), c(s)));
      }
      case "call": {
        const fn = this.expr(e.fn);
        const args = this.callArgs(e);
        return this.guard(e, (s) => {
          const f = fn(s);
          const [a, k] = args(s);
          return call(f, a, k);
        });
      }
      case "filter":
        return this.filter(e, e.node ? this.expr(e.node) : () => "");
      case "test":
        return this.test(e);
      case "bin": {
        const a = this.expr(e.a);
        const b = this.expr(e.b);
        const op = e.op;
        return this.guard(e, (s) => binop(op, a(s), b(s)));
      }
      case "concat": {
        const items = e.items.map((i) => this.expr(i));
        if (!this.st.autoescape) return this.guard(e, (s) => items.map((f) => toText(f(s))).join(""));
        return this.guard(e, (s) => {
          const values = items.map((f) => f(s));
          if (!values.some((v) => v instanceof Markup)) return values.map(toText).join("");
          return new Markup(values.map(toEscaped).join(""));
        });
      }
      case "and": {
        const a = this.expr(e.a);
        const b = this.expr(e.b);
        return (s) => {
          const x = a(s);
          return truthy(x) ? b(s) : x;
        };
      }
      case "or": {
        const a = this.expr(e.a);
        const b = this.expr(e.b);
        return (s) => {
          const x = a(s);
          return truthy(x) ? x : b(s);
        };
      }
      case "not": {
        const a = this.expr(e.a);
        return (s) => !truthy(a(s));
      }
      case "neg": {
        const a = this.expr(e.a);
        return this.guard(e, (s) => negate(a(s)));
      }
      case "pos": {
        const a = this.expr(e.a);
        return this.guard(e, (s) => plus(a(s)));
      }
      case "compare":
        return this.compare(e);
      case "cond": {
        const [test, then, elseFn] = this.withSoft(true, () => [this.expr(e.test), this.expr(e.then), e.else ? this.expr(e.else) : undefined] as const);
        const line = e.line;
        const otherwise = elseFn ?? (() => new Undefined(`the inline if-expression on line ${line} evaluated to false and no else section was defined.`));
        return (s) => (truthy(test(s)) ? then(s) : otherwise(s));
      }
    }
  }

  private compare(e: Extract<Expr, { k: "compare" }>): ExprFn {
    const first = this.expr(e.first);
    const ops = e.ops.map(([op, x]) => [op, this.expr(x)] as const);
    const one = (op: string, a: unknown, b: unknown): boolean => {
      switch (op) {
        case "==":
          return eq(a, b);
        case "!=":
          return !eq(a, b);
        case "in":
          return contains(b, a);
        case "notin":
          return !contains(b, a);
        default:
          return compare(op as CmpOp, a, b);
      }
    };
    return this.guard(e, (s) => {
      let a = first(s);
      for (const [op, f] of ops) {
        const b = f(s);
        if (!one(op, a, b)) return false;
        a = b;
      }
      return true;
    });
  }

  private callArgs(c: CallArgs): (s: Scope) => [unknown[], Kwargs] {
    const args = c.args.map((a) => this.expr(a));
    const kwargs = c.kwargs.map(([k, v]) => [k, this.expr(v)] as const);
    const dynArgs = c.dynArgs ? this.expr(c.dynArgs) : null;
    const dynKwargs = c.dynKwargs ? this.expr(c.dynKwargs) : null;
    if (!dynArgs && !dynKwargs && kwargs.length === 0) {
      return (s) => [args.map((f) => f(s)), Object.create(null) as Kwargs];
    }
    return (s) => {
      const a = args.map((f) => f(s));
      if (dynArgs) a.push(...iterate(dynArgs(s)));
      const k = Object.create(null) as Kwargs;
      for (const [name, f] of kwargs) k[name] = f(s);
      if (dynKwargs) {
        const d = dynKwargs(s);
        if (!isDict(d)) throw new PyError("TypeError", `argument after ** must be a mapping, not ${typeName(d)}`);
        for (const [name, v] of dictEntries(d)) k[str(name)] = v;
      }
      return [a, k];
    };
  }

  private filter(e: Extract<Expr, { k: "filter" }>, value: ExprFn): ExprFn {
    const fl: Filter | undefined = Object.hasOwn(FILTERS, e.name) ? FILTERS[e.name] : undefined;
    if (!fl && !this.soft) this.fail(`No filter named '${e.name}'.`, e, "TemplateAssertionError");
    const filter = fl ?? missingCallable("filter", e.name);
    const args = this.callArgs(e);
    const env: EvalEnv = { autoescape: this.st.autoescape };
    return this.guard(e, (s) => {
      const v = value(s);
      const [a, k] = args(s);
      return filter(env, v, a, k);
    });
  }

  /** A filter chain whose innermost value comes from `value` (filter blocks, `{% set x | f %}`). */
  filterChain(e: Expr, value: ExprFn): ExprFn {
    if (e.k !== "filter") return value;
    const inner = e.node ? this.filterChain(e.node, value) : value;
    return this.filter(e, inner);
  }

  private test(e: Extract<Expr, { k: "test" }>): ExprFn {
    const tst: Test | undefined = Object.hasOwn(TESTS, e.name) ? TESTS[e.name] : undefined;
    if (!tst && !this.soft) this.fail(`No test named '${e.name}'.`, e, "TemplateAssertionError");
    const test = tst ?? missingCallable("test", e.name);
    const node = this.expr(e.node);
    const args = this.callArgs(e);
    const negated = e.negated;
    const env: EvalEnv = { autoescape: this.st.autoescape };
    return this.guard(e, (s) => {
      const v = node(s);
      const [a, k] = args(s);
      return test(env, v, a, k) !== negated;
    });
  }

  // -------------------------------------------------------------------------------------------
  // Statements

  stmts(list: Stmt[]): StmtFn {
    const fns = list.map((x) => this.stmt(x));
    if (fns.length === 1) return fns[0] as StmtFn;
    return (s, out) => {
      for (const f of fns) f(s, out);
    };
  }

  private stmt(x: Stmt): StmtFn {
    switch (x.k) {
      case "data": {
        const text = x.text;
        return (_s, out) => {
          out.s += text;
        };
      }
      case "output": {
        const e = this.expr(x.expr);
        const pos = this.pos(x);
        const conv = this.st.autoescape ? toEscaped : toText;
        return (s, out) => {
          try {
            out.s += conv(e(s));
          } catch (err) {
            throw positioned(err, pos);
          }
        };
      }
      case "if": {
        const [branches, otherwise] = this.withSoft(true, () => [x.branches.map(([c, b]) => [this.guard(c, this.expr(c)), this.stmts(b)] as const), this.stmts(x.else)] as const);
        return (s, out) => {
          for (const [c, b] of branches) {
            if (truthy(c(s))) return b(s, out);
          }
          otherwise(s, out);
        };
      }
      case "for":
        return this.withSoft(false, () => this.forLoop(x));
      case "set": {
        const value = this.expr(x.value);
        const assign = this.assigner(x.target);
        return (s) => assign(s, value(s));
      }
      case "setblock": {
        const body = this.stmts(x.body);
        const assign = this.assigner(x.target);
        const wrap = this.st.autoescape ? (t: string): unknown => new Markup(t) : (t: string): unknown => t;
        const render = (s: Scope): unknown => {
          const o = new Out();
          body(s, o);
          return wrap(o.s);
        };
        const value = x.filter ? this.filterChain(x.filter, render) : render;
        return (s) => assign(s, value(s));
      }
      case "macro": {
        const name = x.name;
        const make = this.macro(name, x.params, x.body);
        return (s) => {
          s.vars.set(name, make(s));
        };
      }
      case "callblock":
        return this.callBlock(x);
      case "filterblock": {
        const body = this.stmts(x.body);
        const wrap = this.st.autoescape ? (t: string): unknown => new Markup(t) : (t: string): unknown => t;
        const value = this.filterChain(x.filter, (s) => {
          const o = new Out();
          body(s, o);
          return wrap(o.s);
        });
        const conv = this.st.autoescape ? toEscaped : toText;
        return (s, out) => {
          out.s += conv(value(s));
        };
      }
      case "with": {
        const assigns = x.assigns.map(([t, v]) => [this.assigner(t), this.expr(v)] as const);
        const body = this.stmts(x.body);
        return (s, out) => {
          const inner = child(s);
          for (const [assign, v] of assigns) assign(inner, v(s));
          body(inner, out);
        };
      }
      case "autoescape": {
        if (x.value.k !== "const") this.fail("autoescape needs a constant value", x);
        const saved = this.st.autoescape;
        this.st.autoescape = truthy(x.value.v);
        const body = this.stmts(x.body);
        this.st.autoescape = saved;
        return body;
      }
      case "scope": {
        const body = this.stmts(x.body);
        return (s, out) => body(child(s), out);
      }
    }
  }

  private assigner(t: Target): (s: Scope, v: unknown) => void {
    switch (t.k) {
      case "name": {
        const name = t.name;
        return (s, v) => {
          s.vars.set(name, v);
        };
      }
      case "tuple": {
        const parts = t.items.map((i) => this.assigner(i));
        const pos = this.pos(t);
        return (s, v) => {
          let items: unknown[];
          try {
            items = iterate(v);
            if (items.length < parts.length) throw new PyError("ValueError", `not enough values to unpack (expected ${parts.length}, got ${items.length})`);
            if (items.length > parts.length) throw new PyError("ValueError", `too many values to unpack (expected ${parts.length})`);
          } catch (e) {
            throw positioned(e, pos);
          }
          parts.forEach((p, i) => p(s, items[i]));
        };
      }
      case "nsattr": {
        const { ns, attr } = t;
        const pos = this.pos(t);
        return (s, v) => {
          const target = lookup(s, ns);
          if (!(target instanceof PyNamespace) || !target.mutable) {
            throw positioned(new PyError("TemplateRuntimeError", "cannot assign attribute on non-namespace object"), pos);
          }
          setOwn(target.attrs, attr, v);
        };
      }
    }
  }

  private forLoop(x: Extract<Stmt, { k: "for" }>): StmtFn {
    const iter = this.guard(x.iter, this.expr(x.iter));
    const assign = this.assigner(x.target);
    const filter = x.filter ? this.guard(x.filter, this.expr(x.filter)) : null;
    const body = this.stmts(x.body);
    const otherwise = this.stmts(x.else);
    const pos = this.pos(x.iter);
    const recursive = x.recursive;
    const run = (s: Scope, out: Out, value: unknown, depth: number): void => {
      let items: unknown[];
      try {
        items = iterate(value);
      } catch (e) {
        throw positioned(e, pos);
      }
      if (filter) {
        items = items.filter((item) => {
          const sc = child(s);
          assign(sc, item);
          return truthy(filter(sc));
        });
      }
      if (items.length === 0) {
        otherwise(s, out);
        return;
      }
      const recurse = recursive
        ? (v: unknown): string => {
            const o = new Out();
            run(s, o, v, depth + 1);
            return o.s;
          }
        : null;
      const loop = new LoopContext(items, depth, recurse, this.st.autoescape);
      for (let i = 0; i < items.length; i++) {
        loop.index0 = i;
        const sc = child(s);
        sc.vars.set("loop", loop);
        assign(sc, items[i]);
        body(sc, out);
      }
    };
    return (s, out) => run(s, out, iter(s), 1);
  }

  private macro(name: string, params: [string, Expr | null][], bodyStmts: Stmt[]): (s: Scope) => Macro {
    const defaults = params.map(([p, d]) => [p, d ? this.expr(d) : null] as const);
    const body = this.withSoft(false, () => this.stmts(bodyStmts));
    const usesVarargs = usesName(bodyStmts, "varargs");
    const usesKwargs = usesName(bodyStmts, "kwargs");
    const usesCaller = usesName(bodyStmts, "caller");
    const autoescape = this.st.autoescape;
    return (s) => new Macro(name, defaults, body, s, autoescape, usesVarargs, usesKwargs, usesCaller);
  }

  private callBlock(x: Extract<Stmt, { k: "callblock" }>): StmtFn {
    const call0 = x.call as Extract<Expr, { k: "call" }>;
    const fn = this.expr(call0.fn);
    const args = this.callArgs(call0);
    const makeCaller = this.macro("caller", x.params, x.body);
    const pos = this.pos(x);
    const conv = this.st.autoescape ? toEscaped : toText;
    return (s, out) => {
      try {
        const [a, k] = args(s);
        k.caller = makeCaller(s);
        out.s += conv(call(fn(s), a, k));
      } catch (e) {
        throw positioned(e, pos);
      }
    };
  }
}

function usesName(node: unknown, name: string): boolean {
  if (Array.isArray(node)) return node.some((n) => usesName(n, name));
  if (node === null || typeof node !== "object") return false;
  const rec = node as Record<string, unknown>;
  if (rec.k === "name" && rec.name === name && "line" in rec) return true;
  return Object.values(rec).some((v) => typeof v === "object" && usesName(v, name));
}

// ---------------------------------------------------------------------------------------------
// Runtime objects: loop and macros

class LoopContext extends PyObject {
  readonly pyType = "LoopContext";
  index0 = 0;
  private lastChanged: unknown = MISSING;
  constructor(
    private readonly items: unknown[],
    private readonly depth: number,
    private readonly recurse: ((v: unknown) => string) | null,
    private readonly autoescape: boolean,
  ) {
    super();
  }
  override getAttr(name: string): unknown {
    const n = this.items.length;
    const i = this.index0;
    switch (name) {
      case "index":
        return i + 1;
      case "index0":
        return i;
      case "revindex":
        return n - i;
      case "revindex0":
        return n - i - 1;
      case "first":
        return i === 0;
      case "last":
        return i === n - 1;
      case "length":
        return n;
      case "depth":
        return this.depth;
      case "depth0":
        return this.depth - 1;
      case "previtem":
        return i > 0 ? this.items[i - 1] : new Undefined("there is no previous item");
      case "nextitem":
        return i < n - 1 ? this.items[i + 1] : new Undefined("there is no next item");
      case "cycle":
        return new MethodObject("cycle", (args) => {
          if (args.length === 0) throw new PyError("TypeError", "no items for cycling given");
          return args[i % args.length];
        });
      case "changed":
        return new MethodObject("changed", (args) => {
          const v = tuple(args);
          if (this.lastChanged !== MISSING && eq(this.lastChanged, v)) return false;
          this.lastChanged = v;
          return true;
        });
    }
    return MISSING;
  }
  call(args: unknown[]): unknown {
    if (!this.recurse) throw new PyError("TypeError", "Tried to call non recursive loop.  Maybe you forgot the 'recursive' modifier.");
    const text = this.recurse(args[0]);
    return this.autoescape ? new Markup(text) : text;
  }
  repr(): string {
    return `<LoopContext ${this.index0 + 1}/${this.items.length}>`;
  }
}

class MethodObject extends PyObject {
  readonly pyType = "method";
  constructor(
    private readonly name: string,
    private readonly fn: (args: unknown[], kwargs: Kwargs) => unknown,
  ) {
    super();
  }
  call(args: unknown[], kwargs: Kwargs): unknown {
    return this.fn(args, kwargs);
  }
  repr(): string {
    return `<bound method ${this.name}>`;
  }
}

export class Macro extends PyObject {
  readonly pyType = "Macro";
  constructor(
    readonly name: string,
    private readonly params: readonly (readonly [string, ExprFn | null])[],
    private readonly body: StmtFn,
    private readonly scope: Scope,
    private readonly autoescape: boolean,
    private readonly catchVarargs: boolean,
    private readonly catchKwargs: boolean,
    private readonly usesCaller: boolean,
  ) {
    super();
  }
  call(args: unknown[], kwargs: Kwargs): unknown {
    const sc = child(this.scope);
    const rest: Kwargs = { ...kwargs };
    const caller = rest.caller;
    delete rest.caller;
    if (caller !== undefined && !this.usesCaller) {
      throw new PyError("TypeError", `macro '${this.name}' was invoked with two values for the special caller argument. This is most likely a bug.`);
    }
    this.params.forEach(([p, dflt], i) => {
      let v: unknown;
      if (i < args.length) {
        if (Object.hasOwn(rest, p)) throw new PyError("TypeError", `macro '${this.name}' got multiple values for argument '${p}'`);
        v = args[i];
      } else if (Object.hasOwn(rest, p)) {
        v = rest[p];
        delete rest[p];
      } else if (dflt) v = dflt(sc);
      else v = new Undefined(`parameter '${p}' was not provided`);
      sc.vars.set(p, v);
    });
    const extra = args.slice(this.params.length);
    if (extra.length && !this.catchVarargs) {
      throw new PyError("TypeError", `macro '${this.name}' takes not more than ${this.params.length} argument(s)`);
    }
    const extraKw = Object.keys(rest);
    if (extraKw.length && !this.catchKwargs) {
      throw new PyError("TypeError", `macro '${this.name}' takes no keyword argument '${extraKw[0]}'`);
    }
    sc.vars.set("varargs", tuple(extra));
    sc.vars.set("kwargs", newDict(Object.entries(rest)));
    sc.vars.set("caller", caller ?? new Undefined("No caller defined"));
    const out = new Out();
    this.body(sc, out);
    return this.autoescape ? new Markup(out.s) : out.s;
  }
  override getAttr(name: string): unknown {
    switch (name) {
      case "name":
        return this.name;
      case "arguments":
        return tuple(this.params.map(([p]) => p));
      case "catch_kwargs":
        return this.catchKwargs;
      case "catch_varargs":
        return this.catchVarargs;
      case "caller":
        return this.usesCaller;
    }
    return MISSING;
  }
  repr(): string {
    return `<Macro '${this.name}'>`;
  }
}

// ---------------------------------------------------------------------------------------------

export interface CompiledTemplate {
  render(ctx: Record<string, unknown> | Map<string, unknown>): string;
}

export function compile(source: string, opts: { autoescape?: boolean; name?: string } = {}): CompiledTemplate {
  const ast = parse(source, opts.name);
  const compiler = new Compiler({ name: opts.name, autoescape: opts.autoescape ?? false });
  const body = compiler.stmts(ast);
  const pos = { line: 1, column: 1, name: opts.name };
  return {
    render(ctx) {
      const scope: Scope = { vars: new Map(), parent: null, ctx };
      const out = new Out();
      try {
        body(scope, out);
      } catch (e) {
        throw positioned(e, pos);
      }
      return out.s;
    },
  };
}
