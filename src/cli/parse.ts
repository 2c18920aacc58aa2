/**
 * The one command-line parser. citty describes each command (options, help text) and renders its help;
 * it parses with node's `util.parseArgs` in lenient mode, which accepts unknown options and keeps only the
 * last value of a repeated one. lava's commands need the opposite (`-p a=1 -p b=2`, and a typo is a usage
 * error, as argparse makes it in the original), so the same built-in parser runs here in strict mode, driven
 * by the citty definitions: no second hand-written parser.
 *
 * An option definition may carry `multiple: true` (an array of every value, in order).
 */
import type { ParseArgsConfig } from "node:util";
import type { ArgDef, ArgsDef } from "citty";
import { UsageError } from "../core/errors.ts";

export type Parsed = Record<string, unknown> & { _: string[] };

type Options = NonNullable<ParseArgsConfig["options"]>;
type LavaArgDef = ArgDef & { multiple?: boolean; alias?: string | string[] };

const kebab = (s: string): string => s.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
const camel = (s: string): string => s.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

function aliasesOf(def: LavaArgDef): string[] {
  const a = def.alias;
  return a === undefined ? [] : Array.isArray(a) ? a : [a];
}

/** parseArgs options from the citty definitions; long aliases become options of their own, folded back later. */
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
 * argparse takes `-1` as the value of `--retries -1`; parseArgs calls it ambiguous. A negative number after
 * an option that takes a value is joined to it (`--retries=-1`).
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

interface NodeParseError {
  code?: string;
  message: string;
}

/** parseArgs errors are typed by `code`; the option named in the text is quoted for the user. */
function usageErrorOf(err: NodeParseError): UsageError | undefined {
  const option = /'([^']+)'/.exec(err.message)?.[1];
  switch (err.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return new UsageError(`unknown option ${option ?? ""}`.trim());
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return new UsageError(option ? `option ${option.split(",")[0]} needs a value` : err.message.split("\n")[0]!);
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return new UsageError(err.message.split("\n")[0]!);
    default:
      return undefined;
  }
}

/**
 * node:util is loaded when first needed: loading it costs Bun about 5 ms, and a command given no
 * arguments (`lava version`), for which parseArgs would find nothing, starts without it.
 */
function parseArgs(config: ParseArgsConfig & { args: string[] }): { values: Record<string, unknown>; positionals: string[] } {
  if (config.args.length === 0) return { values: {}, positionals: [] };
  return process.getBuiltinModule("node:util").parseArgs(config);
}

/** Parses `args` by the citty definitions: values, defaults, positionals by name, enum and required checks. */
export function parseCommandLine(args: string[], argsDef: ArgsDef): Parsed {
  const { options, mainOf } = optionsOf(argsDef);
  let values: Record<string, unknown>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: joinNegativeValues(args, options), options, strict: true, allowPositionals: true, allowNegative: true }));
  } catch (err) {
    throw usageErrorOf(err as NodeParseError) ?? err;
  }
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
