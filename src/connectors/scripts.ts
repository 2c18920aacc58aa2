/**
 * Writing `LAVA_CONN_*` executables: each in its own `conn.*` directory (0700) inside the run directory,
 * so it goes when the run directory does; scripts 0700, credential files 0600, written with those modes
 * from the start (never readable by others, not even briefly).
 */
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeUniqueDir } from "../core/payload.ts";

export function connectionDir(workdir: string): string {
  return makeUniqueDir(workdir, "conn.", "");
}

/** A file only the owner can read: passwords, keys, client option files. */
export function writeSecretFile(dir: string, name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content, { mode: 0o600, flag: "wx" });
  chmodSync(path, 0o600);
  return path;
}

/** A bash script only the owner can read and run. */
export function writeScript(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/bash\n${body.endsWith("\n") ? body : `${body}\n`}`, { mode: 0o700, flag: "wx" });
  chmodSync(path, 0o700);
  return path;
}

/** One shell word, single-quoted: nothing inside is expanded. */
export function shQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
