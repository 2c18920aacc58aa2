/**
 * Archive limits and containment (docs/SECURITY.md "Archive limits"): decompression bombs of every shape stop
 * at PKG_MAX_UNPACKED_SIZE / PKG_MAX_ENTRIES with an error naming the limit, the timeout cancels the work,
 * memory stays bounded and the event loop keeps turning; links are judged where they really lead.
 *
 * The bombs expand to 1 GiB from about 1 MB and are built here from repeated compressed chunks. The caps are
 * set low (16 MiB), so a bounded unpack stops early and fast; an unbounded one would hold or write the GiB.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UnpackError, UnpackLimitError, UnpackTimeoutError, unpackPackage, type UnpackOptions } from "../../src/handlers/unpack.ts";
import { archiveStager, deflateBomb, makeTar, makeZip, tarBomb, toolCompressor, type ArchiveEntry } from "../fixtures/archives.ts";
import { commandWorks, needs } from "../support/availability.ts";

const root = mkdtempSync(join(tmpdir(), "lava-unpack-limits-"));
const stage = archiveStager(root);
afterAll(() => rmSync(root, { recursive: true, force: true }));
const MiB = 1 << 20;
const BOMB_MIB = 1024;


function opts(maxBytes = 16 * MiB, maxEntries = 50_000, timeoutSeconds = 30): UnpackOptions {
  return { timeoutSeconds, limits: { maxBytes, maxBytesText: maxBytes === 16 * MiB ? "16MiB" : String(maxBytes), maxEntries } };
}

/**
 * Samples this process's RSS and the event loop's lag while `work` runs. An unbounded unpack of a 1 GiB bomb
 * holds the GiB (RSS grows by more than that) or stalls the loop for seconds; a streamed one holds a few
 * 256 KiB chunks. The bounds below (RSS +256 MiB, lag 500 ms) leave room for GC noise and a loaded 2-core
 * machine while staying far below what an unbounded unpack costs; they are bounds, not timings.
 */
async function watched<T>(work: () => Promise<T>): Promise<{ result: T | Error; rssGrowth: number; maxLag: number }> {
  Bun.gc(true);
  const base = process.memoryUsage.rss();
  let peak = base;
  let maxLag = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    maxLag = Math.max(maxLag, now - last - 10);
    last = now;
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 10);
  let result: T | Error;
  try {
    result = await work();
  } catch (e) {
    result = e as Error;
  } finally {
    clearInterval(timer);
  }
  peak = Math.max(peak, process.memoryUsage.rss());
  return { result, rssGrowth: peak - base, maxLag };
}

const RSS_BOUND = 256 * MiB;
const LAG_BOUND_MS = 500;

/** Bytes under `dir`, following nothing. */
function diskUse(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const st = lstatSync(join(dir, name));
    total += st.isDirectory() ? diskUse(join(dir, name)) : st.size;
  }
  return total;
}

/** Live processes whose command line mentions `text`. */
function processesMentioning(text: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (cmd.includes(text)) found.push(`${pid}: ${cmd.replaceAll("\0", " ")}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

describe("expanded size: PKG_MAX_UNPACKED_SIZE, counted while streaming", () => {
  test("a 1 MB tar.gz expanding to 1 GiB stops at the cap; memory and the event loop stay free; nothing is left", async () => {
    const { pkg, dir, sandbox } = stage("bomb.tar.gz", tarBomb(BOMB_MIB));
    expect(statSync(pkg).size).toBeLessThan(2 * MiB);
    const { result, rssGrowth, maxLag } = await watched(() => unpackPackage(pkg, dir, opts()));
    expect(result).toBeInstanceOf(UnpackLimitError);
    expect((result as Error).message).toBe("Package expands to more than PKG_MAX_UNPACKED_SIZE (16MiB)");
    expect(rssGrowth).toBeLessThan(RSS_BOUND);
    expect(maxLag).toBeLessThan(LAG_BOUND_MS);
    expect(readdirSync(dir)).toEqual([]);
    expect(readdirSync(sandbox).sort()).toEqual(["bomb.tar.gz", "pkgdir"]);
  });

  test("a bomb no header announces (a 1 GiB pax header a reader skips) is stopped by counting the stream", async () => {
    const { pkg, dir } = stage("pax.tar.gz", tarBomb(BOMB_MIB, undefined, { paxHeader: true }));
    const { result, rssGrowth, maxLag } = await watched(() => unpackPackage(pkg, dir, opts()));
    expect(result).toBeInstanceOf(UnpackLimitError);
    expect((result as Error).message).toBe("Package expands to more than PKG_MAX_UNPACKED_SIZE (16MiB)");
    expect(rssGrowth).toBeLessThan(RSS_BOUND);
    expect(maxLag).toBeLessThan(LAG_BOUND_MS);
  });

  test("a header announcing more than the cap is refused before its body is read", async () => {
    // The declared size alone trips the cap: the body is never decompressed (here there is none at all).
    const header = makeTar([{ name: "huge.bin", content: "" }]);
    const announced = new Uint8Array(header);
    const size = (64 * MiB).toString(8).padStart(11, "0") + "\0";
    announced.set(new TextEncoder().encode(size), 124);
    let sum = 0;
    announced.set(new TextEncoder().encode("        "), 148);
    for (const b of announced.subarray(0, 512)) sum += b;
    announced.set(new TextEncoder().encode(sum.toString(8).padStart(6, "0") + "\0 "), 148);
    const { pkg, dir } = stage("announce.tar", announced);
    const err = await unpackPackage(pkg, dir, opts()).catch((e) => e);
    expect(err).toBeInstanceOf(UnpackLimitError);
    expect(err.message).toContain("PKG_MAX_UNPACKED_SIZE (16MiB)");
  });

  for (const [tool, ext] of [["xz", "xz"], ["bzip2", "bz2"]] as const) {
    if (!needs(tool, commandWorks([tool, "--help"]), `for .tar.${ext} bombs`)) continue;
    test(`a .tar.${ext} bomb streams through ${tool}: stopped at the cap, no temporary file, ${tool} killed`, async () => {
      const { pkg, dir, sandbox } = stage(`bomb.tar.${ext}`, tarBomb(BOMB_MIB, toolCompressor(tool)));
      const { result, rssGrowth, maxLag } = await watched(() => unpackPackage(pkg, dir, opts()));
      expect(result).toBeInstanceOf(UnpackLimitError);
      expect((result as Error).message).toContain("PKG_MAX_UNPACKED_SIZE (16MiB)");
      expect(rssGrowth).toBeLessThan(RSS_BOUND);
      expect(maxLag).toBeLessThan(LAG_BOUND_MS);
      // The old code decompressed to <pkg>.decompressed.tar first, unbounded.
      expect(readdirSync(sandbox).sort()).toEqual([`bomb.tar.${ext}`, "pkgdir"].sort());
      expect(diskUse(sandbox)).toBeLessThan(4 * MiB);
      expect(processesMentioning(pkg)).toEqual([]);
    });
  }

  test("a zip member inflating past the size it declares is stopped there (memory bounded)", async () => {
    const { pkg, dir } = stage("liar.zip", makeZip([{ name: "big.bin", deflated: { data: deflateBomb(BOMB_MIB), declaredSize: 100 } }]));
    const { result, rssGrowth, maxLag } = await watched(() => unpackPackage(pkg, dir, opts(4 * 1024 * MiB)));
    expect(result).toBeInstanceOf(UnpackError);
    expect((result as Error).message).toBe("Corrupt zip member: big.bin expands past its declared size of 100 bytes");
    expect(rssGrowth).toBeLessThan(RSS_BOUND);
    expect(maxLag).toBeLessThan(LAG_BOUND_MS);
    expect(readdirSync(dir)).toEqual([]);
  });

  test("zip members whose declared sizes add up past the cap are refused before anything is inflated", async () => {
    const { pkg, dir } = stage("honest.zip", makeZip([{ name: "big.bin", deflated: { data: deflateBomb(BOMB_MIB), declaredSize: BOMB_MIB * MiB } }]));
    const { result, rssGrowth } = await watched(() => unpackPackage(pkg, dir, opts()));
    expect(result).toBeInstanceOf(UnpackLimitError);
    expect((result as Error).message).toBe("Package expands to more than PKG_MAX_UNPACKED_SIZE (16MiB)");
    expect(rssGrowth).toBeLessThan(RSS_BOUND);
  });

  test.each([
    ["lying about its size", 16, "Corrupt zip member: link expands past its declared size of 16 bytes"],
    ["declaring its size", BOMB_MIB * MiB, "Refusing symlink with a target longer than 4096 bytes: link"],
  ])("a zip symlink whose target is a 1 GiB bomb (%s) is refused without inflating it", async (_what, declaredSize, message) => {
    const zip = makeZip([{ name: "link", type: "symlink", deflated: { data: deflateBomb(BOMB_MIB), declaredSize } }]);
    const { pkg, dir } = stage("linkbomb.zip", zip);
    const { result, rssGrowth, maxLag } = await watched(() => unpackPackage(pkg, dir, opts(4 * 1024 * MiB)));
    expect(result).toBeInstanceOf(UnpackError);
    expect((result as Error).message).toBe(message);
    expect(rssGrowth).toBeLessThan(RSS_BOUND);
    expect(maxLag).toBeLessThan(LAG_BOUND_MS);
  });
});

describe("member count: PKG_MAX_ENTRIES", () => {
  const many: ArchiveEntry[] = Array.from({ length: 200 }, (_, i) => ({ name: `f${i}`, content: "" }));
  test.each([
    ["tar", (e: ArchiveEntry[]) => makeTar(e, { gzip: true }), "many.tar.gz"],
    ["zip", (e: ArchiveEntry[]) => makeZip(e), "many.zip"],
  ])("a %s with more members than the cap is refused, nothing left", async (_kind, build, name) => {
    const { pkg, dir } = stage(name, build(many));
    const err = await unpackPackage(pkg, dir, opts(16 * MiB, 100)).catch((e) => e);
    expect(err).toBeInstanceOf(UnpackLimitError);
    expect(err.message).toBe("Package has more than PKG_MAX_ENTRIES (100) members");
    expect(readdirSync(dir)).toEqual([]);
  });

  test("exactly the cap is fine", async () => {
    const { pkg, dir } = stage("cap.tar", makeTar(many.slice(0, 100)));
    await unpackPackage(pkg, dir, opts(16 * MiB, 100));
    expect(readdirSync(dir).length).toBe(100);
  });
});

describe("the unpack timeout cancels the work itself", () => {
  test("in-process (tar.gz): the extraction stops; nothing is written after the timeout", async () => {
    const { pkg, dir } = stage("slow.tar.gz", tarBomb(BOMB_MIB));
    const err = await unpackPackage(pkg, dir, opts(4 * 1024 * MiB, 50_000, 0.2)).catch((e) => e);
    expect(err).toBeInstanceOf(UnpackTimeoutError);
    expect(err.message).toBe("Timed out after 0.2 seconds (PKG_UNPACK_TIMEOUT)");
    expect(readdirSync(dir)).toEqual([]);
    await Bun.sleep(500);
    expect(readdirSync(dir)).toEqual([]);
  });

  for (const [tool, ext] of [["xz", "xz"], ["bzip2", "bz2"]] as const) {
    if (!needs(tool, commandWorks([tool, "--help"]), `for .tar.${ext} timeouts`)) continue;
    test(`${tool}: the decompressor is killed at the timeout`, async () => {
      const { pkg, dir, sandbox } = stage(`slow.tar.${ext}`, tarBomb(BOMB_MIB, toolCompressor(tool)));
      const err = await unpackPackage(pkg, dir, opts(4 * 1024 * MiB, 50_000, 0.2)).catch((e) => e);
      expect(err).toBeInstanceOf(UnpackTimeoutError);
      expect(processesMentioning(pkg)).toEqual([]);
      await Bun.sleep(300);
      expect(readdirSync(sandbox).sort()).toEqual(["pkgdir", `slow.tar.${ext}`]);
      expect(readdirSync(dir)).toEqual([]);
    });
  }

  test("a stop of the worker aborts the unpack too", async () => {
    const { pkg, dir } = stage("stop.tar.gz", tarBomb(BOMB_MIB));
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 100);
    const err = await unpackPackage(pkg, dir, { ...opts(4 * 1024 * MiB), signal: stop.signal }).catch((e) => e);
    expect(err).toBeInstanceOf(UnpackError);
    expect(err.message).toBe("Stopped: the worker is stopping");
    expect(readdirSync(dir)).toEqual([]);
  });
});

/** `d -> .`, then `p1 -> d/..`, `p2 -> p1/..`, …: each target looks like `.` on paper; `pN` really is N levels up. */
function climbingChain(depth: number): ArchiveEntry[] {
  const entries: ArchiveEntry[] = [{ name: "d", type: "symlink", target: "." }, { name: "p1", type: "symlink", target: "d/.." }];
  for (let i = 2; i <= depth; i++) entries.push({ name: `p${i}`, type: "symlink", target: `p${i - 1}/..` });
  return entries;
}
const CLIMB_DEPTH = 40;

describe("containment on resolved paths", () => {
  test.each([
    ["tar", (e: ArchiveEntry[]) => makeTar(e), "chain.tar"],
    ["zip", (e: ArchiveEntry[]) => makeZip(e), "chain.zip"],
  ])("%s: a chain of links that each look inside but resolve to / is refused, nothing left", async (_kind, build, name) => {
    const { pkg, dir } = stage(name, build(climbingChain(CLIMB_DEPTH)));
    const err = await unpackPackage(pkg, dir, opts()).catch((e) => e);
    expect(err).toBeInstanceOf(UnpackError);
    expect(err.message).toBe("Refusing symlink that resolves outside the package directory: p1 -> d/..");
    expect(readdirSync(dir)).toEqual([]);
  });

  test("a hard link through an archive symlink is refused before it is made", async () => {
    const entries = [...climbingChain(CLIMB_DEPTH), { name: "passwd", type: "hardlink" as const, target: `p${CLIMB_DEPTH}/etc/passwd` }];
    const { pkg, dir } = stage("hardchain.tar", makeTar(entries));
    const err = await unpackPackage(pkg, dir, opts()).catch((e) => e);
    expect(err).toBeInstanceOf(UnpackError);
    expect(err.message).toBe(`Refusing hardlink through a symlink of the same archive: passwd -> p${CLIMB_DEPTH}/etc/passwd`);
    expect(readdirSync(dir)).toEqual([]);
  });

  test("a directory member named like a link that leads out is refused (its mode would be set out there)", async () => {
    const entries: ArchiveEntry[] = [...climbingChain(1), { name: "p1/", type: "dir", mode: 0o777 }];
    const { pkg, dir, sandbox } = stage("dirover.tar", makeTar(entries));
    const before = statSync(sandbox).mode;
    const err = await unpackPackage(pkg, dir, opts()).catch((e) => e);
    expect(err).toBeInstanceOf(UnpackError);
    expect(err.message).toBe("Refusing member under a symlink of the same archive: p1/");
    expect(statSync(sandbox).mode).toBe(before);
  });

  test("links that stay inside, and dangling links whose target would be inside, are kept", async () => {
    const entries: ArchiveEntry[] = [
      { name: "sub/", type: "dir" },
      { name: "sub/file", content: "x" },
      { name: "sub/up", type: "symlink", target: ".." },
      { name: "via", type: "symlink", target: "sub/up/sub/file" },
      { name: "later", type: "symlink", target: "not-yet/created" },
    ];
    const { pkg, dir } = stage("inside.tar", makeTar(entries));
    await unpackPackage(pkg, dir, opts());
    expect(readFileSync(join(dir, "via"), "utf8")).toBe("x");
    expect(lstatSync(join(dir, "later")).isSymbolicLink()).toBe(true);
  });

  test.each([
    ["MS-DOS", 0],
    ["NTFS", 10],
  ])("a zip symlink made on %s (symlink mode bits, non-Unix host) is recognised and checked", async (_host, host) => {
    const escaping = stage("dos.zip", makeZip([{ name: "out", type: "symlink", target: "../../outside" }], { host }));
    const err = await unpackPackage(escaping.pkg, escaping.dir, opts()).catch((e) => e);
    expect(err).toBeInstanceOf(UnpackError);
    expect(err.message).toBe("Refusing symlink that escapes the package directory: out -> ../../outside");
    const inside = stage("dos-ok.zip", makeZip([{ name: "data", content: "d", mode: 0o700 }, { name: "ln", type: "symlink", target: "data" }], { host }));
    await unpackPackage(inside.pkg, inside.dir, opts());
    expect(lstatSync(join(inside.dir, "ln")).isSymbolicLink()).toBe(true);
    // Permission bits are taken only from Unix-made archives.
    expect(statSync(join(inside.dir, "data")).mode & 0o777).toBe(0o644);
  });
});
