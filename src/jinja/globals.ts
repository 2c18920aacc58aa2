/**
 * Jinja2's default global functions: range, dict, namespace, cycler, joiner.
 */
import { objectAddress } from "./address.ts";
import { PyError, typeError } from "./errors.ts";
import { eq } from "./ops.ts";
import {
  type Kwargs,
  MISSING,
  PyFunction,
  PyNamespace,
  PyObject,
  dictEntries,
  isDict,
  isInt,
  iterate,
  newDict,
  num,
  repr,
  setOwn,
  typeName,
} from "./values.ts";

/** Python's range object. */
export class PyRange extends PyObject {
  readonly pyType = "range";
  constructor(
    readonly start: number,
    readonly stop: number,
    readonly step: number,
  ) {
    super();
    if (step === 0) throw new PyError("ValueError", "range() arg 3 must not be zero");
  }
  override len(): number {
    const n = Math.ceil((this.stop - this.start) / this.step);
    return Math.max(0, n);
  }
  override iter(): unknown[] {
    const n = this.len();
    if (n > 10_000_000) throw new PyError("OverflowError", "range too large to iterate in a template");
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = this.start + i * this.step;
    return out;
  }
  override getItem(key: unknown): unknown {
    if (!isInt(key)) return MISSING;
    let i = num(key);
    const n = this.len();
    if (i < 0) i += n;
    return i >= 0 && i < n ? this.start + i * this.step : MISSING;
  }
  override truthy(): boolean {
    return this.len() > 0;
  }
  /** self[from:to:step] for bounds already normalised against len(). */
  sliced(from: number, to: number, step: number): PyRange {
    return new PyRange(this.start + from * this.step, this.start + to * this.step, this.step * step);
  }
  override eq(other: unknown): boolean {
    return other instanceof PyRange && eq(this.iter(), other.iter());
  }
  override getAttr(name: string): unknown {
    if (name === "start" || name === "stop" || name === "step") return this[name];
    return MISSING;
  }
  repr(): string {
    return `range(${this.start}, ${this.stop}${this.step !== 1 ? `, ${this.step}` : ""})`;
  }
}

function intArg(v: unknown): number {
  if (v instanceof PyObject && v.pyType === "int") return num(v);
  if (!isInt(v)) throw typeError(`'${typeName(v)}' object cannot be interpreted as an integer`);
  return num(v);
}

class Cycler extends PyObject {
  readonly pyType = "Cycler";
  private pos = 0;
  constructor(private readonly items: unknown[]) {
    super();
  }
  override getAttr(name: string): unknown {
    switch (name) {
      case "current":
        return this.items[this.pos];
      case "next":
        return new PyFunction("next", () => {
          const v = this.items[this.pos];
          this.pos = (this.pos + 1) % this.items.length;
          return v;
        });
      case "reset":
        return new PyFunction("reset", () => {
          this.pos = 0;
          return null;
        });
    }
    return MISSING;
  }
  repr(): string {
    return `<jinja2.utils.Cycler object at ${objectAddress(this)}>`;
  }
}

class Joiner extends PyObject {
  readonly pyType = "Joiner";
  private used = false;
  constructor(private readonly sep: unknown) {
    super();
  }
  call(): unknown {
    if (!this.used) {
      this.used = true;
      return "";
    }
    return this.sep;
  }
  repr(): string {
    return `<jinja2.utils.Joiner object at ${objectAddress(this)}>`;
  }
}

function namespace(args: unknown[], kwargs: Kwargs): PyNamespace {
  const attrs: Record<string, unknown> = {};
  for (const a of args) {
    if (isDict(a)) for (const [k, v] of dictEntries(a)) setOwn(attrs, String(k), v);
    else throw typeError("namespace() positional argument must be a mapping");
  }
  for (const [k, v] of Object.entries(kwargs)) setOwn(attrs, k, v);
  const ns = new PyNamespace("Namespace", "", attrs, true);
  Object.defineProperty(ns, "label", { get: () => `<Namespace ${repr(newDict(Object.entries(attrs)))}>` });
  return ns;
}

export const GLOBALS: Record<string, unknown> = {
  range: new PyFunction(
    "range",
    (args) => {
      const a = args.map(intArg);
      if (a.length === 1) return new PyRange(0, a[0] as number, 1);
      if (a.length === 2) return new PyRange(a[0] as number, a[1] as number, 1);
      if (a.length === 3) return new PyRange(a[0] as number, a[1] as number, a[2] as number);
      throw typeError(`range expected at most 3 arguments, got ${a.length}`);
    },
    {},
    "type",
  ),
  dict: new PyFunction(
    "dict",
    (args, kwargs) => {
      const d = newDict();
      if (args[0] !== undefined) {
        if (isDict(args[0])) for (const [k, v] of dictEntries(args[0])) d.set(k, v);
        else
          for (const pair of iterate(args[0])) {
            const [k, v] = iterate(pair);
            d.set(k, v);
          }
      }
      for (const [k, v] of Object.entries(kwargs)) d.set(k, v);
      return d;
    },
    {},
    "type",
  ),
  namespace: new PyFunction("jinja2.utils.Namespace", namespace, {}, "type"),
  cycler: new PyFunction("jinja2.utils.Cycler", (args) => new Cycler(args), {}, "type"),
  joiner: new PyFunction("jinja2.utils.Joiner", (args) => new Joiner(args[0] ?? ", "), {}, "type"),
};
