/**
 * Runs one lava command: lazy load, `--help`, `--version`, strict argument checks, exit status.
 * citty parses arguments and renders help; this layer adds what lava needs on top: unknown options
 * are usage errors, every failure is one line on stderr, and the status is 0 ok, 1 failure, 2 usage.
 */
import { parseArgs, renderUsage, type ArgDef, type ArgsDef } from "citty";
import { COMMANDS, findCommand, type LavaCommand } from "./commands/index.ts";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from "../core/errors.ts";
import { VERSION, platformTag } from "../core/version.ts";

const ANSI = /\x1b\[[0-9;]*m/g;

export class CommandUnavailableError extends Error {
  override name = "CommandUnavailableError";
}

/** Prints one error line; the status tells the shell what kind of failure it was. */
export function reportError(prog: string, error: unknown): number {
  if (error instanceof UsageError || isCittyUsageError(error)) {
    process.stderr.write(`${prog}: error: ${oneLine((error as Error).message)}\n`);
    return EXIT_USAGE;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`${prog}: ${oneLine(message)}\n`);
  if (process.env.LAVA_TRACEBACK && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  return EXIT_FAILURE;
}

function isCittyUsageError(error: unknown): boolean {
  return error instanceof Error && error.name === "CLIError";
}

function oneLine(text: string): string {
  return text.replace(ANSI, "").replace(/\s*\n\s*/g, " ").trim();
}

export async function loadCommand(name: string): Promise<LavaCommand> {
  const entry = findCommand(name);
  if (!entry) throw new UsageError(`unknown command "${name}" (see lava --help)`);
  try {
    return (await entry.load()).default;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/cannot find module|could not resolve|not found/i.test(msg) && msg.includes(name)) {
      throw new CommandUnavailableError(`command "${name}" is not available in this build`);
    }
    throw e;
  }
}

export function topLevelHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.description}`);
  return [
    `lava ${VERSION}: an AWS-native distributed job scheduler and runner`,
    "",
    "Usage: lava <command> [options]",
    "       lava-<command> [options]   (the same program run under another name)",
    "",
    "Commands:",
    ...lines,
    "",
    "Options:",
    "  -h, --help     Show help (also after a command: lava <command> --help)",
    "  -v, --version  Show the version",
    "",
  ].join("\n");
}

export function versionLine(prog: string): string {
  return `${prog} ${VERSION} (${platformTag()})`;
}

/** `lava [--help|--version] <command> args...` */
export async function runLava(argv: string[]): Promise<number> {
  const first = argv[0];
  if (first === undefined) {
    process.stderr.write("lava: error: no command given (see lava --help)\n");
    return EXIT_USAGE;
  }
  if (first === "-h" || first === "--help" || first === "help") {
    process.stdout.write(topLevelHelp());
    return EXIT_OK;
  }
  if (first === "-v" || first === "--version") {
    process.stdout.write(`${versionLine("lava")}\n`);
    return EXIT_OK;
  }
  if (first.startsWith("-")) {
    process.stderr.write(`lava: error: unknown option ${first}; a command comes first (see lava --help)\n`);
    return EXIT_USAGE;
  }
  if (!findCommand(first)) {
    process.stderr.write(`lava: error: unknown command "${first}" (see lava --help)\n`);
    return EXIT_USAGE;
  }
  return runNamed(first, argv.slice(1), `lava ${first}`);
}

/** Runs command `name` with `args`; `prog` is how it is named in messages (`lava worker`, `lava-worker`). */
export async function runNamed(name: string, args: string[], prog: string): Promise<number> {
  try {
    const cmd = await loadCommand(name);
    return await runCommandDef(cmd, args, prog);
  } catch (e) {
    return reportError(prog, e);
  }
}

async function resolve<T>(value: T | Promise<T> | (() => T) | (() => Promise<T>) | undefined): Promise<T | undefined> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}

async function runCommandDef(cmd: LavaCommand, rawArgs: string[], prog: string, parent?: LavaCommand): Promise<number> {
  const argsDef: ArgsDef = (await resolve(cmd.args)) ?? {};
  const subCommands = await resolve(cmd.subCommands);
  const meta = (await resolve(cmd.meta)) ?? {};
  const withMeta: LavaCommand = { ...cmd, meta: { ...meta, name: prog } };

  if (subCommands && Object.keys(subCommands).length > 0) {
    const idx = rawArgs.findIndex((a) => !a.startsWith("-"));
    const subName = idx >= 0 ? rawArgs[idx]! : undefined;
    if (subName !== undefined && subName in subCommands) {
      const sub = (await resolve(subCommands[subName])) as LavaCommand;
      return runCommandDef(sub, [...rawArgs.slice(0, idx), ...rawArgs.slice(idx + 1)], `${prog} ${subName}`, withMeta);
    }
    if (wantsHelp(rawArgs)) return printHelp(withMeta, parent);
    if (wantsVersion(rawArgs)) return printVersion(prog);
    if (subName === undefined && !cmd.run) {
      throw new UsageError(`a sub-command is needed: ${Object.keys(subCommands).join(", ")}`);
    }
    if (subName !== undefined && !cmd.run) throw new UsageError(`unknown sub-command "${subName}"`);
  }
  if (wantsHelp(rawArgs)) return printHelp(withMeta, parent);
  if (wantsVersion(rawArgs) && !declares(argsDef, "version") && !declaresShort(argsDef, "v")) return printVersion(prog);

  const args = rewriteNoColourShort(rawArgs, argsDef);
  checkOptions(args, argsDef);
  const parsed = parseArgs(args, argsDef);
  if (!cmd.run) return EXIT_OK;
  const result = await cmd.run({ rawArgs: args, args: parsed, cmd: withMeta });
  return typeof result === "number" ? result : EXIT_OK;
}

function beforeDoubleDash(args: string[]): string[] {
  const i = args.indexOf("--");
  return i < 0 ? args : args.slice(0, i);
}

function wantsHelp(args: string[]): boolean {
  return beforeDoubleDash(args).some((a) => a === "-h" || a === "--help");
}

function wantsVersion(args: string[]): boolean {
  return beforeDoubleDash(args).some((a) => a === "-v" || a === "--version");
}

async function printHelp(cmd: LavaCommand, parent?: LavaCommand): Promise<number> {
  // `prog` already names the whole command path (`lava realm create`); citty would prefix the parent again.
  const text = await renderUsage(cmd, parent && { ...parent, meta: { ...(await resolve(parent.meta)), name: undefined } });
  // citty colours help unless NO_COLOR/CI is set; a pipe or file gets plain text.
  process.stdout.write(`${process.stdout.isTTY ? text : text.replace(ANSI, "")}\n`);
  return EXIT_OK;
}

function printVersion(prog: string): number {
  process.stdout.write(`${versionLine(prog.split(" ")[0]!)}\n`);
  return EXIT_OK;
}

interface OptionInfo {
  takesValue: boolean;
}

function aliases(def: ArgDef): string[] {
  const a = (def as { alias?: string | string[] }).alias;
  return a === undefined ? [] : Array.isArray(a) ? a : [a];
}

const kebab = (s: string): string => s.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
const camel = (s: string): string => s.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

function optionTable(argsDef: ArgsDef): Map<string, OptionInfo> {
  const table = new Map<string, OptionInfo>();
  for (const [name, def] of Object.entries(argsDef)) {
    if (def.type === "positional") continue;
    const takesValue = def.type === "string" || def.type === "enum";
    for (const n of [name, kebab(name), camel(name), ...aliases(def)]) {
      table.set(n, { takesValue });
      if (!takesValue) table.set(`no-${n}`, { takesValue: false });
    }
  }
  return table;
}

function declares(argsDef: ArgsDef, name: string): boolean {
  return name in argsDef;
}

function declaresShort(argsDef: ArgsDef, letter: string): boolean {
  return Object.values(argsDef).some((d) => aliases(d).includes(letter));
}

/**
 * `-c` is the original's short form of `--no-colour`, and it accepts the US spelling too; citty has no
 * short negation and would list an alias as `-color`, so spell both out here.
 */
function rewriteNoColourShort(args: string[], argsDef: ArgsDef): string[] {
  if (!("colour" in argsDef)) return args;
  const shortC = !declaresShort(argsDef, "c");
  const end = args.indexOf("--");
  const spelled: Record<string, string> = { "--no-color": "--no-colour", "--color": "--colour" };
  return args.map((a, i) => {
    if (end >= 0 && i >= end) return a;
    if (a === "-c" && shortC) return "--no-colour";
    return spelled[a] ?? a;
  });
}

/** Unknown options and missing option values are usage errors (citty itself accepts anything). */
function checkOptions(args: string[], argsDef: ArgsDef): void {
  const table = optionTable(argsDef);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") return;
    if (!a.startsWith("-") || a === "-" || /^-\d/.test(a)) continue;
    if (a.startsWith("--")) {
      const [name, inline] = splitOnce(a.slice(2), "=");
      const info = table.get(name);
      if (!info) throw new UsageError(`unknown option --${name}`);
      if (info.takesValue && inline === undefined) {
        if (!isValue(args[i + 1])) throw new UsageError(`option --${name} needs a value`);
        i++;
      }
      continue;
    }
    // Short options may be bundled (-dj) and a value may follow directly (-rprod).
    const letters = a.slice(1);
    for (let j = 0; j < letters.length; j++) {
      const info = table.get(letters[j]!);
      if (!info) throw new UsageError(`unknown option -${letters[j]}`);
      if (info.takesValue) {
        if (j === letters.length - 1) {
          if (!isValue(args[i + 1])) throw new UsageError(`option -${letters[j]} needs a value`);
          i++;
        }
        break;
      }
    }
  }
}

/** As argparse: the word after an option is its value unless it looks like another option (`-w --batch`). */
function isValue(next: string | undefined): boolean {
  return next !== undefined && (next === "-" || !next.startsWith("-") || /^-\d/.test(next));
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}
