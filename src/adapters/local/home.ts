/**
 * File modes of a local realm home. The home holds SMTP passwords, secrets and webhooks (in `lava.db`),
 * the KMS stand-in's key and every object, so it is this user's alone:
 * - the home is 0700, created so, and opened only when owned by this user (root may open any);
 * - `lava.db` (and its `-wal`/`-shm`) and `kms.key` are 0600, the objects tree 0700 with 0600 files;
 * - a home or file of ours that group or others may access (a realm made before these rules) is
 *   tightened on open, with a warning naming the old mode.
 */
import { chmodSync, closeSync, mkdirSync, openSync, statSync, type Stats } from "node:fs";
import { dirname } from "node:path";
import { AccessDeniedError, ValidationError } from "../../ports/errors.ts";

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Where warnings about tightened modes go. */
export type Warn = (msg: string) => void;

/** Creates the home (0700) when absent; refuses one owned by another user; tightens a shared one. */
export function securePrivateHome(home: string, warn: Warn): void {
  mkdirSync(dirname(home), { recursive: true });
  try {
    mkdirSync(home, { mode: PRIVATE_DIR_MODE });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  // stat, not lstat: a home may be a symlink its owner made; what counts is the directory it leads to.
  const st = statSync(home);
  if (!st.isDirectory()) throw new ValidationError(`LAVA_HOME ${home} is not a directory`);
  refuseForeign(home, st);
  tighten(home, st, PRIVATE_DIR_MODE, warn);
}

/** A directory inside the home: created 0700 when absent, tightened when others may access it. */
export function privateDir(path: string, warn?: Warn): void {
  mkdirSync(path, { recursive: true, mode: PRIVATE_DIR_MODE });
  tighten(path, statSync(path), PRIVATE_DIR_MODE, warn);
}

/**
 * A file inside the home: created empty with 0600 when `create` and absent; an existing one others may
 * access is tightened to 0600. A missing file is left missing unless `create`.
 */
export function privateFile(path: string, opts: { create?: boolean; warn?: Warn } = {}): void {
  if (opts.create) closeSync(openSync(path, "a", PRIVATE_FILE_MODE));
  let st: Stats;
  try {
    st = statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  tighten(path, st, PRIVATE_FILE_MODE, opts.warn);
}

function refuseForeign(path: string, st: Stats): void {
  const uid = process.getuid?.();
  if (uid === undefined || uid === 0 || st.uid === uid) return;
  throw new AccessDeniedError(`LAVA_HOME ${path} is owned by uid ${st.uid}, not by this user (${uid}): refusing to open it`);
}

function tighten(path: string, st: Stats, mode: number, warn: Warn | undefined): void {
  if ((st.mode & 0o077) === 0) return;
  const uid = process.getuid?.();
  if (uid !== undefined && uid !== 0 && st.uid !== uid) return; // not ours to change (checked by the caller)
  chmodSync(path, mode);
  warn?.(`${path} was mode ${octal(st.mode)}, readable or writable by other users: made ${octal(mode)}`);
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, "0")}`;
}
