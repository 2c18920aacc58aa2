/**
 * Runs one lava command: lazy load, `--help`, `--version`, strict argument checks, exit status.
 * citty parses arguments and renders help; this layer adds what lava needs on top: unknown options
 * are usage errors, every failure is one line on stderr, and the status is 0 ok, 1 failure, 2 usage.
 */
import type { ArgDef, ArgsDef, ParsedArgs } from "citty";
import { parseCommandLine } from "./parse.ts";
import { COMMANDS, findCommand, type LavaCommand } from "./commands/index.ts";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from "../core/errors.ts";
import { VERSION, platformTag } from "../core/version.ts";

const ANSI = /\x1b\[[0-9;]*m/g;

export class CommandUnavailableError extends Error {
  override name = "CommandUnavailableError";
}

/**
 * Writes `text` to standard output (fd 1) or error (fd 2) through Bun's own file writer. `process.stdout`
 * and `node:fs` are not used on purpose: Bun builds the stdio streams (node:stream, node:tty) on first use
 * and loads node:fs on first import, about 15 ms and 5 ms of a start-up whose floor is about 20 ms.
 */
export async function writeOut(text: string, fd: 1 | 2 = 1): Promise<void> {
  try {
    await Bun.write(fd === 1 ? Bun.stdout : Bun.stderr, text);
  } catch (err) {
    // The reader went away (`lava version | true`): nobody is left to tell.
    if ((err as { code?: unknown }).code !== "EPIPE") throw err;
  }
}

/** Prints one error line; the status tells the shell what kind of failure it was. */
export async function reportError(prog: string, error: unknown): Promise<number> {
  if (error instanceof UsageError) {
    await writeOut(`${prog}: error: ${oneLine((error as Error).message)}\n`, 2);
    return EXIT_USAGE;
  }
  const message = error instanceof Error ? error.message : String(error);
  await writeOut(`${prog}: ${oneLine(message)}\n`, 2);
  if (process.env.LAVA_TRACEBACK && error instanceof Error && error.stack) await writeOut(`${error.stack}\n`, 2);
  return EXIT_FAILURE;
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
    // Decided by the loader's code, not its wording: a build that left the command (or a module it needs) out.
    if ((e as { code?: unknown } | null)?.code === "ERR_MODULE_NOT_FOUND") {
      throw new CommandUnavailableError(`command "${name}" is not available in this build`, { cause: e });
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
    await writeOut("lava: error: no command given (see lava --help)\n", 2);
    return EXIT_USAGE;
  }
  if (first === "-h" || first === "--help" || first === "help") {
    await writeOut(topLevelHelp());
    return EXIT_OK;
  }
  if (first === "-v" || first === "--version") {
    await writeOut(`${versionLine("lava")}\n`);
    return EXIT_OK;
  }
  if (first.startsWith("-")) {
    await writeOut(`lava: error: unknown option ${first}; a command comes first (see lava --help)\n`, 2);
    return EXIT_USAGE;
  }
  if (!findCommand(first)) {
    await writeOut(`lava: error: unknown command "${first}" (see lava --help)\n`, 2);
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
    const idx = subCommandIndex(rawArgs, argsDef);
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
  const parsed = parseCommandLine(args, argsDef);
  if (!cmd.run) return EXIT_OK;
  // citty's type has no arrays; `multiple` options are read with listArg().
  const result = await cmd.run({ rawArgs: args, args: parsed as ParsedArgs, cmd: withMeta });
  return typeof result === "number" ? result : EXIT_OK;
}

/**
 * Where the sub-command name is: the first word that is neither an option nor the value of an option the
 * parent declares (`lava-state -r REALM put ...`, as argparse reads the original's top-level options).
 */
function subCommandIndex(args: string[], parentArgs: ArgsDef): number {
  const takesValue = new Set<string>();
  for (const [name, def] of Object.entries(parentArgs)) {
    if (def.type !== "string" && def.type !== "enum") continue;
    takesValue.add(`--${name}`);
    for (const a of aliases(def)) takesValue.add(a.length === 1 ? `-${a}` : `--${a}`);
  }
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith("-")) return i;
    if (takesValue.has(a)) i++;
  }
  return -1;
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
  // Loaded here only: citty's module imports node:util (about 5 ms), which `lava version` does not need.
  const { renderUsage } = await import("citty");
  // `prog` already names the whole command path (`lava realm create`); citty would prefix the parent again.
  const text = await renderUsage(cmd, parent && { ...parent, meta: { ...(await resolve(parent.meta)), name: undefined } });
  // citty colours help unless NO_COLOR/CI is set; a pipe or file gets plain text.
  process.stdout.write(`${process.stdout.isTTY ? text : text.replace(ANSI, "")}\n`);
  return EXIT_OK;
}

async function printVersion(prog: string): Promise<number> {
  await writeOut(`${versionLine(prog.split(" ")[0]!)}\n`);
  return EXIT_OK;
}

function aliases(def: ArgDef): string[] {
  const a = (def as { alias?: string | string[] }).alias;
  return a === undefined ? [] : Array.isArray(a) ? a : [a];
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
