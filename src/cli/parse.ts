/**
 * The one command-line parser. citty describes each command (options, help text) and renders its help;
 * it parses with node's `util.parseArgs` in lenient mode, which accepts unknown options and keeps only the
 * last value of a repeated one. lava's commands need the opposite (`-p a=1 -p b=2`, and a typo is a usage
 * error, as argparse makes it in the original), so options are parsed here, strictly, driven by the citty
 * definitions, the way `util.parseArgs` parses in strict mode (see parseOptions for why not by it).
 *
 * An option definition may carry `multiple: true` (an array of every value, in order).
 */
import type { ArgDef, ArgsDef } from "citty";
import { UsageError } from "../core/errors.ts";

export type Parsed = Record<string, unknown> & { _: string[] };

export type Options = Record<string, { type: "string" | "boolean"; multiple: boolean; short?: string }>;
type LavaArgDef = ArgDef & { multiple?: boolean; alias?: string | string[] };

const kebab = (s: string): string => s.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
const camel = (s: string): string => s.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

function aliasesOf(def: LavaArgDef): string[] {
  const a = def.alias;
  return a === undefined ? [] : Array.isArray(a) ? a : [a];
}

/** parseOptions' options from the citty definitions; long aliases become options of their own, folded back later. */
function optionsOf(argsDef: ArgsDef): { options: Options; mainOf: Map<string, string> } {
  const options: Options = {};
  const mainOf = new Map<string, string>();
  for (const [name, raw] of Object.entries(argsDef)) {
    const def = raw as LavaArgDef;
    if (def.type === "positional") continue;
    const type = def.type === "boolean" ? "boolean" : "string";
    const multiple = def.multiple === true;
    const short = aliasesOf(def).find((a) => a.length === 1);
    const longs = new Set([name, kebab(name), camel(name), ...aliasesOf(def).filter((a) => a.length > 1)]);
    for (const long of longs) {
      options[long] = long === name && short ? { type, multiple, short } : { type, multiple };
      mainOf.set(long, name);
    }
  }
  return { options, mainOf };
}

/**
 * argparse takes `-1` as the value of `--retries -1`; parseArgs (and parseOptions) call it ambiguous. A
 * negative number after an option that takes a value is joined to it (`--retries=-1`).
 */
function joinNegativeValues(args: string[], options: Options): string[] {
  const takesValue = new Set<string>();
  for (const [long, o] of Object.entries(options)) {
    if (o.type !== "string") continue;
    takesValue.add(`--${long}`);
    if (o.short) takesValue.add(`-${o.short}`);
  }
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      out.push(...args.slice(i));
      break;
    }
    const next = args[i + 1];
    if (takesValue.has(a) && next !== undefined && /^-\d/.test(next)) {
      out.push(a.startsWith("--") ? `${a}=${next}` : `${a}${next}`);
      i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

/**
 * Options and positionals as node's `util.parseArgs` finds them with `strict`, `allowPositionals` and
 * `allowNegative`: `--name value`, `--name=value`, `--no-name` (booleans), `-x value`, `-xvalue`, bundled
 * booleans (`-ab`, `-abx value`), `--` ending the options, a lone `-` a positional; an unknown option, a
 * value-taking option with no value (or with an option-like one next: pass `--name=-x`) or a value given
 * to a boolean is a usage error. Hand-written because loading node:util costs Bun 7–13 ms (paired, in a
 * compiled program), a fifth of a dispatcher's whole run, for this one function.
 */
export function parseOptions(args: string[], options: Options): { values: Record<string, unknown>; positionals: string[] } {
  const longOf = new Map<string, string>();
  // As parseArgs: a letter no option claims as its short form names the one-letter option itself (`n` as `-n`).
  for (const [long, o] of Object.entries(options)) if (long.length === 1 && !o.short) longOf.set(long, long);
  for (const [long, o] of Object.entries(options)) if (o.short) longOf.set(o.short, long);
  const values: Record<string, unknown> = {};
  const positionals: string[] = [];
  const store = (long: string, value: string | boolean) => {
    if (options[long]!.multiple) ((values[long] ??= []) as (string | boolean)[]).push(value);
    else values[long] = value;
  };
  // Named as parseArgs names an option in its messages: by its short form when it has one.
  const label = (long: string) => (options[long]!.short ? `-${options[long]!.short}` : `--${long}`);
  const valueAfter = (long: string, i: number): string => {
    const next = args[i + 1];
    if (next === undefined || (next.length > 1 && next.startsWith("-"))) throw new UsageError(`option ${label(long)} needs a value`);
    return next;
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      if (!Object.hasOwn(options, name)) {
        const positive = name.slice(3);
        if (eq < 0 && name.startsWith("no-") && Object.hasOwn(options, positive) && options[positive]!.type === "boolean") {
          store(positive, false);
          continue;
        }
        throw new UsageError(`unknown option --${name}`);
      }
      if (options[name]!.type === "boolean") {
        if (eq >= 0) throw new UsageError(`option ${label(name)} takes no value`);
        store(name, true);
      } else if (eq >= 0) {
        store(name, arg.slice(eq + 1));
      } else {
        store(name, valueAfter(name, i++));
      }
      continue;
    }
    if (arg.length < 2 || !arg.startsWith("-")) {
      positionals.push(arg);
      continue;
    }
    for (let j = 1; j < arg.length; j++) {
      const long = longOf.get(arg[j]!);
      if (long === undefined) throw new UsageError(`unknown option -${arg[j]}`);
      if (options[long]!.type === "boolean") {
        store(long, true);
        continue;
      }
      // A value-taking short option ends the group: the rest of the word is its value, or the next word.
      if (j < arg.length - 1) store(long, arg.slice(j + 1));
      else store(long, valueAfter(long, i++));
      break;
    }
  }
  return { values, positionals };
}

/** Parses `args` by the citty definitions: values, defaults, positionals by name, enum and required checks. */
export function parseCommandLine(args: string[], argsDef: ArgsDef): Parsed {
  const { options, mainOf } = optionsOf(argsDef);
  const { values, positionals } = parseOptions(joinNegativeValues(args, options), options);
  const out: Parsed = { _: positionals };
  for (const [long, value] of Object.entries(values)) {
    const main = mainOf.get(long)!;
    const prior = out[main];
    out[main] = Array.isArray(prior) && Array.isArray(value) ? [...prior, ...value] : value;
  }
  const rest = [...positionals];
  for (const [name, raw] of Object.entries(argsDef)) {
    const def = raw as LavaArgDef;
    if (def.type === "positional") {
      const next = rest.shift();
      if (next !== undefined) out[name] = next;
      else if (def.default !== undefined) out[name] = def.default;
      else if (def.required !== false) throw new UsageError(`the following arguments are required: ${name}`);
      continue;
    }
    if (out[name] === undefined && def.multiple) out[name] = [];
    if (out[name] === undefined && def.default !== undefined) out[name] = def.default;
    if (def.type === "enum" && out[name] !== undefined && def.options?.length && !def.options.includes(out[name] as string)) {
      throw new UsageError(`argument --${name}: invalid choice: ${String(out[name])} (choose from ${def.options.join(", ")})`);
    }
    if (def.required && out[name] === undefined) throw new UsageError(`the following arguments are required: --${name}`);
  }
  for (const name of Object.keys(argsDef)) {
    for (const alias of [kebab(name), camel(name)]) if (alias !== name && out[name] !== undefined) out[alias] = out[name];
  }
  return out;
}

/** Every value of a `multiple: true` option, in order (an empty list when absent). */
export function listArg(args: unknown, name: string): string[] {
  const v = (args as Record<string, unknown>)[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v.map(String) : [String(v)];
}

/** The positional words, in order (commands taking several ids). */
export function positionalArgs(args: unknown): string[] {
  return [...((args as { _?: string[] })._ ?? [])];
}
