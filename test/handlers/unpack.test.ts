import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unpackPackage, UnpackError, type UnpackLimits, type UnpackOptions } from "../../src/handlers/unpack.ts";
import { archiveStager, makeTar, makeZip, type ArchiveEntry } from "../fixtures/archives.ts";
import { commandWorks, needs } from "../support/availability.ts";

const root = mkdtempSync(join(tmpdir(), "lava-unpack-"));
const stage = archiveStager(root);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Generous limits unless a test says otherwise. */
function opts(over: Partial<UnpackOptions> & { limits?: Partial<UnpackLimits> } = {}): UnpackOptions {
  return { timeoutSeconds: 30, ...over, limits: { maxBytes: 1 << 30, maxBytesText: "1GiB", maxEntries: 50_000, ...over.limits } };
}


const good: ArchiveEntry[] = [
  { name: "bin/", type: "dir" },
  { name: "bin/run.sh", content: "#!/bin/sh\necho run\n", mode: 0o755 },
  { name: "data.txt", content: "data" },
  { name: "link-inside", type: "symlink", target: "bin/run.sh" },
];

const hostile: [string, ArchiveEntry[], string][] = [
  ["a '..' member", [{ name: "../evil", content: "x" }], "Refusing member with '..' in its path: ../evil"],
  ["a nested '..' member", [{ name: "ok/../../evil", content: "x" }], "'..' in its path"],
  ["an absolute path", [{ name: "/tmp/evil-abs", content: "x" }], "Refusing member with absolute path: /tmp/evil-abs"],
  ["a symlink escaping the directory", [{ name: "esc", type: "symlink", target: "../../outside" }], "Refusing symlink that escapes the package directory: esc -> ../../outside"],
  ["an absolute symlink", [{ name: "abs", type: "symlink", target: "/etc" }], "Refusing symlink that escapes the package directory: abs -> /etc"],
  [
    "a member written through an archive symlink",
    [
      { name: "d", type: "symlink", target: "." },
      { name: "d/file", content: "x" },
    ],
    "Refusing member under a symlink of the same archive: d/file",
  ],
];

const hardlinkEscape: ArchiveEntry[] = [{ name: "hl", type: "hardlink", target: "../../etc/passwd" }];

describe("tar packages", () => {
  test("a good .tar.gz unpacks with modes and inside symlinks", async () => {
    const { pkg, dir } = stage("pkg.tar.gz", makeTar(good, { gzip: true }));
    await unpackPackage(pkg, dir, opts());
    expect(readFileSync(join(dir, "bin/run.sh"), "utf8")).toBe("#!/bin/sh\necho run\n");
    expect(lstatSync(join(dir, "bin/run.sh")).mode & 0o100).toBe(0o100);
    expect(lstatSync(join(dir, "link-inside")).isSymbolicLink()).toBe(true);
    expect(lstatSync(join(dir, "data.txt")).mtimeMs).toBe(1_700_000_000_000);
  });

  for (const [what, entries, message] of [...hostile, ["a hard link escaping the directory", hardlinkEscape, "Refusing hardlink that escapes"] as const]) {
    test(`refuses ${what}, writing nothing`, async () => {
      const { pkg, dir, sandbox } = stage("evil.tar", makeTar([{ name: "first.txt", content: "1" }, ...entries]));
      const err = await unpackPackage(pkg, dir, opts()).catch((e) => e);
      expect(err).toBeInstanceOf(UnpackError);
      expect(err.message).toContain(message);
      expect(readdirSync(dir)).toEqual([]);
      expect(readdirSync(sandbox).sort()).toEqual(["evil.tar", "pkgdir"]);
      expect(existsSync("/tmp/evil-abs")).toBe(false);
    });
  }

  for (const [tool, ext] of [["bzip2", "bz2"], ["xz", "xz"]] as const) {
    if (!needs(tool, commandWorks([tool, "--help"]), `for .tar.${ext} packages`)) continue;
    test(`.tar.${ext} goes through ${tool} and the same checks`, async () => {
      const plain = stage("x.tar", makeTar(good));
      const compressed = Bun.spawnSync([tool, "-k", plain.pkg]);
      expect(compressed.exitCode).toBe(0);
      const { pkg, dir } = stage(`pkg.tar.${ext}`, readFileSync(`${plain.pkg}.${ext}`));
      await unpackPackage(pkg, dir, opts());
      expect(readFileSync(join(dir, "data.txt"), "utf8")).toBe("data");
    });
  }
});

describe("zip packages", () => {
  test("a good zip unpacks with modes and inside symlinks", async () => {
    const { pkg, dir } = stage("pkg.zip", makeZip(good));
    await unpackPackage(pkg, dir, opts());
    expect(readFileSync(join(dir, "bin/run.sh"), "utf8")).toBe("#!/bin/sh\necho run\n");
    expect(lstatSync(join(dir, "bin/run.sh")).mode & 0o100).toBe(0o100);
    expect(lstatSync(join(dir, "link-inside")).isSymbolicLink()).toBe(true);
  });

  for (const [what, entries, message] of hostile) {
    test(`refuses ${what}, writing nothing`, async () => {
      const { pkg, dir } = stage("evil.zip", makeZip([{ name: "first.txt", content: "1" }, ...entries]));
      const err = await unpackPackage(pkg, dir, opts()).catch((e) => e);
      expect(err).toBeInstanceOf(UnpackError);
      expect(err.message).toContain(message);
      expect(readdirSync(dir)).toEqual([]);
    });
  }
});

test("unknown package names are refused as the original does", async () => {
  const { pkg, dir } = stage("pkg.tgz", makeTar(good, { gzip: true }));
  await expect(unpackPackage(pkg, dir, opts())).rejects.toThrow(`Don't know how to unpack ${pkg}`);
});

test("a corrupt zip is an UnpackError", async () => {
  const { pkg, dir } = stage("bad.zip", new TextEncoder().encode("not a zip at all"));
  await expect(unpackPackage(pkg, dir, opts())).rejects.toThrow("not a zip archive");
});
