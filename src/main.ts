#!/usr/bin/env bun
/**
 * Entry point of the one lava executable. Run as `lava <command>`, or under another name
 * (`lava-worker`, `lava-dispatcher`, `lava-version`, ...) to run that command directly.
 *
 * The name comes from: argv[0] of a compiled executable (so symlinks and copies work); else
 * `LAVA_ARGV0`, set by the npm shim bin/lava.cjs; else `lava`.
 */
import { findCommand } from "./cli/commands/index.ts";
import { runLava, runNamed } from "./cli/run.ts";
import { setProgramName } from "./core/program.ts";

function isCompiled(): boolean {
  // Bun serves a compiled executable's own modules from a virtual file system.
  return typeof Bun !== "undefined" && (Bun.main.startsWith("/$bunfs/") || Bun.main.includes("~BUN"));
}

export function invokedName(env: NodeJS.ProcessEnv = process.env): string {
  const raw = isCompiled() ? process.argv0 : env.LAVA_ARGV0 || "lava";
  // Not node:path's basename: importing node:path costs a few ms of a start-up whose floor is about 20 ms.
  return raw.slice(raw.lastIndexOf("/") + 1).replace(/\.(exe|cjs|js|ts)$/i, "");
}

/** `lava-worker` → `worker` when that command exists; anything else runs as plain `lava`. */
export function commandForName(name: string): string | undefined {
  const m = /^lava-(.+)$/.exec(name);
  return m && findCommand(m[1]!) ? m[1] : undefined;
}

async function main(): Promise<number> {
  const name = invokedName();
  setProgramName(name);
  // Not inherited by jobs we start: they may run another lava program under its own name.
  delete process.env.LAVA_ARGV0;
  const argv = process.argv.slice(2);
  const command = commandForName(name);
  return command ? runNamed(command, argv, name) : runLava(argv);
}

if (import.meta.main) {
  // A command returns when it is done (the worker, when it stops); leftover handles must not keep us alive.
  // No top-level await: it would stop `bun build --bytecode` (which needs CommonJS) from working.
  void main().then((status) => process.exit(status));
}
