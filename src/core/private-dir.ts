/**
 * The worker's tmp area (`<TMPDIR>/<realm>/<worker>.<pid>`, TMPDIR `/tmp/lava` by default) lives in a
 * directory every local user can write to. Another user could create `/tmp/lava` first, or swap a level
 * for a symlink, and so read or replace what runs write there. So before the worker uses it, every level
 * is checked without following symlinks (lstat):
 *
 * - Levels above TMPDIR (`/`, `/tmp`, ...) are shared system directories: each must be owned by this user
 *   or root, and if others may write to it, it must be sticky (as `/tmp` is), so nobody can rename our
 *   entries away. A symlink among them is followed only when owned by this user or root, and the
 *   directories it leads to are checked the same way.
 * - TMPDIR and the levels below are ours: real directories (no symlink), owned by this user (or root, when
 *   nobody else may write to them), created 0700 when missing. One of ours that group or others may
 *   access is tightened to 0700 (and reported); anything else is refused.
 *
 * A level cannot change between the check and its use: nobody else can write to the directory holding it.
 */
import { chmodSync, lstatSync, mkdirSync, realpathSync, type Stats } from "node:fs";
import { dirname, join, parse, resolve, sep } from "node:path";

/** A directory the worker must not use: another user could read or replace what it holds. */
export class UnsafeDirectoryError extends Error {
  override name = "UnsafeDirectoryError";
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`Unsafe directory ${path}: ${reason}; refusing to use it`);
  }
}

/** A level whose mode was tightened: its path and the mode it had. */
export interface ModeFix {
  path: string;
  from: number;
}

const PRIVATE_MODE = 0o700;
const ROOT_UID = 0;

/** The real uid of this process (the check's "this user"); injectable so tests can play another user. */
function currentUid(): number {
  return process.getuid?.() ?? -1;
}

/**
 * Makes sure `<root>/<levels...>` exists and is private to this user (rules above). Returns the full path
 * and the levels whose mode was tightened. Throws UnsafeDirectoryError for anything it will not use.
 */
export function ensurePrivateDir(root: string, levels: string[], uid = currentUid()): { path: string; fixed: ModeFix[] } {
  const base = resolve(root);
  for (const level of levels) {
    if (!level || level === "." || level === ".." || level.includes("/") || level.includes(sep)) {
      throw new UnsafeDirectoryError(join(base, level), "not a single path level");
    }
  }
  checkAncestors(dirname(base), uid);
  const fixed: ModeFix[] = [];
  let path = base;
  for (const next of [undefined, ...levels]) {
    if (next !== undefined) path = join(path, next);
    const fix = ensureOwnLevel(path, uid);
    if (fix) fixed.push(fix);
  }
  return { path, fixed };
}

/**
 * Whether a flag file (NO_DISPATCH) counts: it exists and was made by this user or root. One planted by
 * another user in a shared directory is ignored: `ignoredOwner` then names who made it, for the warning.
 */
export function flagFileSet(path: string, uid = currentUid()): { set: boolean; ignoredOwner?: number } {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch (err) {
    if (isMissing(err)) return { set: false };
    throw err;
  }
  if (st.uid === uid || st.uid === ROOT_UID) return { set: true };
  return { set: false, ignoredOwner: st.uid };
}

/** Every directory above TMPDIR, as written and as resolved. Missing ones are created (and then ours). */
function checkAncestors(dir: string, uid: number): void {
  for (const path of prefixes(dir)) {
    const st = lstatOrCreate(path);
    if (st.isSymbolicLink()) {
      if (!trustedOwner(st, uid)) throw new UnsafeDirectoryError(path, `symlink owned by uid ${st.uid}, not by this user (${uid}) or root`);
      continue;
    }
    checkShared(path, st, uid);
  }
  const real = realpathSync(dir);
  if (real === dir) return;
  for (const path of prefixes(real)) checkShared(path, lstatSync(path), uid);
}

function checkShared(path: string, st: Stats, uid: number): void {
  if (!st.isDirectory()) throw new UnsafeDirectoryError(path, "not a directory");
  if (!trustedOwner(st, uid)) throw new UnsafeDirectoryError(path, `owned by uid ${st.uid}, not by this user (${uid}) or root`);
  if (othersMayWrite(st) && !sticky(st)) {
    throw new UnsafeDirectoryError(path, `writable by group or others (mode ${octal(st.mode)}) and not sticky`);
  }
}

function ensureOwnLevel(path: string, uid: number): ModeFix | undefined {
  const st = lstatOrCreate(path);
  if (st.isSymbolicLink()) throw new UnsafeDirectoryError(path, "a symlink");
  if (!st.isDirectory()) throw new UnsafeDirectoryError(path, "not a directory");
  if (st.uid === uid) {
    if ((st.mode & 0o7077) === 0) return undefined;
    chmodSync(path, PRIVATE_MODE);
    return { path, from: st.mode & 0o7777 };
  }
  if (st.uid !== ROOT_UID) throw new UnsafeDirectoryError(path, `owned by uid ${st.uid}, not by this user (${uid})`);
  // Root's own directory: safe while nobody but root can change what it holds.
  if (othersMayWrite(st) && !sticky(st)) {
    throw new UnsafeDirectoryError(path, `owned by root and writable by group or others (mode ${octal(st.mode)})`);
  }
  return undefined;
}

/** lstat, creating the directory (0700) when it is missing. Someone creating it first is seen by lstat. */
function lstatOrCreate(path: string): Stats {
  try {
    return lstatSync(path);
  } catch (err) {
    if (!isMissing(err)) throw err;
  }
  try {
    mkdirSync(path, { mode: PRIVATE_MODE });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  return lstatSync(path);
}

/** `/a/b/c` → `/`, `/a`, `/a/b`, `/a/b/c`. */
function prefixes(abs: string): string[] {
  const { root } = parse(abs);
  const out = [root];
  let path = root;
  for (const part of abs.slice(root.length).split(sep).filter(Boolean)) {
    path = join(path, part);
    out.push(path);
  }
  return out;
}

function trustedOwner(st: Stats, uid: number): boolean {
  return st.uid === uid || st.uid === ROOT_UID;
}

function othersMayWrite(st: Stats): boolean {
  return (st.mode & 0o022) !== 0;
}

function sticky(st: Stats): boolean {
  return (st.mode & 0o1000) !== 0;
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === "ENOENT";
}

export function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, "0")}`;
}
