/**
 * Python oracles: this machine's Debian python3 (/usr/bin/python3, 3.11 as the original's fleet runs) with
 * the sqlparse the original pins (0.5.3), unpacked from the sqlparse mirror when it is here, else Debian's
 * python3-sqlparse (0.4.2, whose splitter lacks 0.5's CASE and GO rules).
 */
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const PYTHON = "/usr/bin/python3";
const SQLPARSE_MIRROR = "/work/.mirror/andialbrecht+sqlparse/repo";

export const pythonPresent = (): boolean => existsSync(PYTHON);

let sqlparsePath: string | null | undefined;

/** A PYTHONPATH holding sqlparse 0.5.3, or null when only the Debian package is available. */
export function sqlparse053(): string | null {
  if (sqlparsePath !== undefined) return sqlparsePath;
  sqlparsePath = null;
  if (existsSync(SQLPARSE_MIRROR)) {
    const dir = mkdtempSync(join(tmpdir(), "lava-sqlparse-"));
    const r = Bun.spawnSync(["sh", "-c", `git --git-dir=${SQLPARSE_MIRROR} archive 0.5.3 sqlparse | tar -x -C ${dir}`]);
    if (r.exitCode === 0) sqlparsePath = dir;
  }
  return sqlparsePath;
}

/** Runs a Python script with `input` as JSON on stdin; returns its stdout parsed as JSON. */
export function runPython(script: string, input: unknown, pythonPath?: string | null): unknown {
  const r = Bun.spawnSync([PYTHON, "-c", script], {
    stdin: Buffer.from(JSON.stringify(input)),
    env: { ...process.env, ...(pythonPath ? { PYTHONPATH: pythonPath } : {}) },
  });
  if (r.exitCode !== 0) throw new Error(`python failed: ${r.stderr.toString()}`);
  return JSON.parse(r.stdout.toString());
}
