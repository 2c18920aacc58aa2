/**
 * The worker's tmp area checks (src/core/private-dir.ts). These tests run as root here, so "another user"
 * is a directory chowned to nobody (65534), and "this user" is either the real uid or an injected one.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, lchownSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensurePrivateDir, flagFileSet, UnsafeDirectoryError } from "../../src/core/private-dir.ts";

const NOBODY = 65534;
const SOMEONE = 4242;
const me = process.getuid!();
const isRoot = me === 0;

let base: string;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), "lava-private-dir-"));
});
afterEach(() => {
  rmSync(base, { recursive: true, force: true });
});

function modeOf(path: string): number {
  return lstatSync(path).mode & 0o7777;
}

function refused(fn: () => unknown): UnsafeDirectoryError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UnsafeDirectoryError);
    return err as UnsafeDirectoryError;
  }
  throw new Error("expected UnsafeDirectoryError");
}

describe("ensurePrivateDir", () => {
  test("creates every missing level 0700, whatever the umask", () => {
    const old = process.umask(0o022);
    try {
      const root = join(base, "lava");
      const { path, fixed } = ensurePrivateDir(root, ["realm", "worker.123"]);
      expect(path).toBe(join(root, "realm", "worker.123"));
      expect(fixed).toEqual([]);
      for (const p of [root, join(root, "realm"), path]) expect(modeOf(p)).toBe(0o700);
    } finally {
      process.umask(old);
    }
  });

  test("/tmp itself (root-owned, world-writable, sticky) is an acceptable ancestor", () => {
    expect(lstatSync(tmpdir()).mode & 0o1000).toBe(0o1000);
    expect(() => ensurePrivateDir(join(base, "lava"), ["r"])).not.toThrow();
  });

  test.if(isRoot)("a TMPDIR pre-created by another user is refused, and nothing is made inside it", () => {
    const root = join(base, "lava");
    mkdirSync(root, { mode: 0o777 });
    chmodSync(root, 0o777);
    chownSync(root, NOBODY, NOBODY);
    const err = refused(() => ensurePrivateDir(root, ["realm", "w.1"]));
    expect(err.path).toBe(root);
    expect(err.message).toContain(`owned by uid ${NOBODY}`);
    expect(existsSync(join(root, "realm"))).toBe(false);
  });

  test.if(isRoot)("a level below TMPDIR owned by another user is refused", () => {
    const root = join(base, "lava");
    mkdirSync(join(root, "realm"), { recursive: true, mode: 0o700 });
    chownSync(join(root, "realm"), NOBODY, NOBODY);
    expect(refused(() => ensurePrivateDir(root, ["realm", "w.1"])).path).toBe(join(root, "realm"));
  });

  test("a symlink at any level we use is refused, even to a directory of ours", () => {
    const root = join(base, "lava");
    const elsewhere = join(base, "elsewhere");
    mkdirSync(root, { mode: 0o700 });
    mkdirSync(elsewhere, { mode: 0o700 });
    symlinkSync(elsewhere, join(root, "realm"));
    expect(refused(() => ensurePrivateDir(root, ["realm", "w.1"])).message).toContain("a symlink");
    symlinkSync(elsewhere, join(base, "linked"));
    expect(refused(() => ensurePrivateDir(join(base, "linked"), ["realm"])).path).toBe(join(base, "linked"));
    expect(existsSync(join(elsewhere, "w.1"))).toBe(false);
  });

  test("a level of ours that others may access is made 0700 and reported", () => {
    const root = join(base, "lava");
    mkdirSync(join(root, "realm"), { recursive: true });
    chmodSync(root, 0o1777);
    chmodSync(join(root, "realm"), 0o755);
    const { fixed } = ensurePrivateDir(root, ["realm", "w.1"]);
    expect(fixed).toEqual([
      { path: root, from: 0o1777 },
      { path: join(root, "realm"), from: 0o755 },
    ]);
    expect(modeOf(root)).toBe(0o700);
    expect(modeOf(join(root, "realm"))).toBe(0o700);
  });

  test.if(isRoot)("an ancestor owned by another user, or writable by others and not sticky, is refused", () => {
    const parent = join(base, "shared");
    mkdirSync(parent, { mode: 0o755 });
    chownSync(parent, NOBODY, NOBODY);
    expect(refused(() => ensurePrivateDir(join(parent, "lava"), ["r"])).path).toBe(parent);
    chownSync(parent, me, 0);
    chmodSync(parent, 0o777);
    expect(refused(() => ensurePrivateDir(join(parent, "lava"), ["r"])).message).toContain("not sticky");
    chmodSync(parent, 0o1777);
    expect(() => ensurePrivateDir(join(parent, "lava"), ["r"])).not.toThrow();
  });

  test.if(isRoot)("an ancestor symlink owned by another user is refused", () => {
    const real = join(base, "real");
    mkdirSync(real, { mode: 0o755 });
    const link = join(base, "link");
    symlinkSync(real, link);
    lchownSync(link, NOBODY, NOBODY); // the link itself: its target stays root's
    expect(refused(() => ensurePrivateDir(join(link, "lava"), ["r"])).path).toBe(link);
  });

  test.if(isRoot)("seen as an ordinary user: root's own directories are trusted, ours are tightened, others refused", () => {
    const root = join(base, "lava");
    mkdirSync(root, { mode: 0o755 }); // root's, nobody else may write: fine for SOMEONE
    mkdirSync(join(root, "realm"), { mode: 0o750 });
    chownSync(join(root, "realm"), SOMEONE, SOMEONE);
    const { fixed } = ensurePrivateDir(root, ["realm", "w.1"], SOMEONE);
    expect(fixed).toEqual([{ path: join(root, "realm"), from: 0o750 }]);
    // w.1 was created by this (root) process on SOMEONE's behalf: owned by root, 0700, trusted.
    chmodSync(root, 0o777);
    expect(refused(() => ensurePrivateDir(root, ["realm"], SOMEONE)).message).toContain("owned by root and writable");
    chmodSync(root, 0o755);
    chownSync(join(root, "realm"), NOBODY, NOBODY);
    expect(refused(() => ensurePrivateDir(root, ["realm"], SOMEONE)).message).toContain(`owned by uid ${NOBODY}, not by this user (${SOMEONE})`);
  });

  test("a level that is not a single path segment is refused", () => {
    for (const bad of ["a/b", "..", "", "."]) refused(() => ensurePrivateDir(join(base, "lava"), [bad]));
  });
});

describe("flagFileSet (NO_DISPATCH)", () => {
  test("absent: not set", () => {
    expect(flagFileSet(join(base, "__nodispatch__"))).toEqual({ set: false });
  });

  test("made by this user: set", () => {
    const flag = join(base, "__nodispatch__");
    writeFileSync(flag, "");
    expect(flagFileSet(flag)).toEqual({ set: true });
  });

  test.if(isRoot)("made by another user: ignored, naming the owner; made by root: set for anyone", () => {
    const flag = join(base, "__nodispatch__");
    writeFileSync(flag, "");
    chownSync(flag, NOBODY, NOBODY);
    expect(flagFileSet(flag)).toEqual({ set: false, ignoredOwner: NOBODY });
    chownSync(flag, 0, 0);
    expect(flagFileSet(flag, SOMEONE)).toEqual({ set: true });
  });
});
