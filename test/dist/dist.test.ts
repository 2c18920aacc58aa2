/**
 * The host build, once: the executable, its bundle (contents, checksum, reproducibility), the bundle's
 * install.sh into a temporary prefix, and the desktop installer from a file:// location.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { commandLinks, makeBundle, sha256Hex } from "../../build/bundle.ts";
import { build, compileExecutable, packageVersion, type TargetResult } from "../../build/compile.ts";
import { pinnedBunVersion } from "../../build/runtimes.ts";
import { hostTarget } from "../../build/targets.ts";
import { tarBytes } from "../../build/tarball.ts";
import { COMMANDS } from "../../src/cli/commands/index.ts";
import { openLocalPorts } from "../../src/adapters/local/index.ts";
import { createRealm } from "../../src/core/realm-setup.ts";
import { realmTable } from "../../src/core/names.ts";
import { silentLogger } from "../../src/core/log.ts";
import { dispatchJob } from "../../src/core/dispatch.ts";

const REPO = join(import.meta.dir, "..", "..");
const VERSION = "9.8.7";

function run(cmd: string[], env: Record<string, string> = {}) {
  const res = Bun.spawnSync(cmd, { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  return { exitCode: res.exitCode, stdout: res.stdout.toString(), stderr: res.stderr.toString() };
}

describe("dist: host build", () => {
  let work: string;
  let result: TargetResult;
  let bundlePath: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "lava-dist-test-"));
    [result] = build({
      targets: [hostTarget()],
      outDir: join(work, "dist"),
      version: VERSION,
      bytecode: true,
      minify: true,
      bundle: true,
      measure: false,
      entry: join(REPO, "src", "main.ts"),
    }) as [TargetResult];
    bundlePath = result.bundle!.path;
  }, 120_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("the executable reports the version baked in at build time", () => {
    expect(result.executable).toBe(join(work, "dist", "lava"));
    const res = run([result.executable, "version"]);
    expect(res.stdout.trim()).toBe(VERSION);
    expect(res.exitCode).toBe(0);
  });

  // Templates render in a thread whose entry the executable finds by its bundled name (render-pool.ts):
  // a `cmd` job renders its payload, so it completes only if that thread starts.
  test("the executable's worker runs a cmd job (its payload rendered in a render thread)", async () => {
    const home = join(work, "realm-home");
    const ports = await openLocalPorts({ home });
    try {
      await createRealm(ports, { realm: "ref", workers: ["core"], bucket: "lava-ref" }, silentLogger());
      await ports.tables.put(realmTable("ref", "jobs"), { job_id: "ref/true", type: "cmd", worker: "core", payload: "true", enabled: true, owner: "t", description: "t" });
      const runId = await dispatchJob(ports, { realm: "ref", jobId: "ref/true" });
      const res = run([result.executable, "worker", "-r", "ref", "-w", "core", "--batch", "--wait", "0", "--root"], {
        LAVA_BACKEND: "local",
        LAVA_HOME: home,
        LAVA_TMPDIR: join(home, "tmp"),
      });
      expect(res.exitCode).toBe(0);
      const item = await ports.tables.get(realmTable("ref", "events"), { job_id: "ref/true", run_id: runId });
      expect(item?.status).toBe("complete");
    } finally {
      await ports.close();
    }
  }, 60_000);

  test("bundle name, checksum file and SHA256SUMS agree", () => {
    const t = hostTarget();
    expect(bundlePath).toBe(join(work, "dist", "pkg", t.os, `lava-${VERSION}-${t.os}-${t.arch}.tar.gz`));
    const sum = sha256Hex(new Uint8Array(readFileSync(bundlePath)));
    expect(readFileSync(`${bundlePath}.sha256`, "utf8")).toBe(`${sum}  lava-${VERSION}-${t.os}-${t.arch}.tar.gz\n`);
    expect(readFileSync(join(work, "dist", "pkg", "SHA256SUMS"), "utf8")).toContain(`${sum}  ${t.os}/lava-${VERSION}`);
    if (Bun.which("sha256sum")) {
      const check = Bun.spawnSync(["sha256sum", "-c", `${basename(bundlePath)}.sha256`], { cwd: dirname(bundlePath), stdout: "pipe" });
      expect(check.exitCode).toBe(0);
    }
  });

  test("bundle holds the executable, a link per registered command, install.sh and a manifest", () => {
    const listing = run(["tar", "-tvzf", bundlePath]).stdout;
    for (const c of COMMANDS) expect(listing).toMatch(new RegExp(`bin/lava-${c.name} -> lava`));
    expect(listing).toContain("bin/lava\n");
    expect(listing).toContain("install.sh");
    const manifest = JSON.parse(run(["tar", "-xzOf", bundlePath, "manifest.json"]).stdout);
    const exe = new Uint8Array(readFileSync(result.executable));
    expect(manifest).toEqual({
      name: "lava",
      version: VERSION,
      os: hostTarget().os,
      arch: hostTarget().arch,
      target: hostTarget().name,
      bun: pinnedBunVersion(),
      executable: "bin/lava",
      sha256: sha256Hex(exe),
      size: exe.length,
      commands: commandLinks(),
    });
    expect(JSON.stringify(manifest)).not.toMatch(/time|date/i);
  });

  test("reproducible: compiling again and packing again give the same bytes", () => {
    // Two compiles back to back (not against beforeAll's build: a source edit in between would differ).
    const opts = { version: VERSION, bytecode: true, minify: true, entry: join(REPO, "src", "main.ts") };
    const first = new Uint8Array(readFileSync(compileExecutable(hostTarget(), opts, join(work, "again1"))));
    const second = new Uint8Array(readFileSync(compileExecutable(hostTarget(), opts, join(work, "again2"))));
    expect(sha256Hex(second)).toBe(sha256Hex(first));
    const built = new Uint8Array(readFileSync(result.executable));
    expect(makeBundle(hostTarget(), built, VERSION, pinnedBunVersion()).sha256).toBe(result.bundle!.sha256);
    expect(makeBundle(hostTarget(), first, VERSION, pinnedBunVersion()).sha256).toBe(makeBundle(hostTarget(), second, VERSION, pinnedBunVersion()).sha256);
  }, 120_000);

  test("install.sh run bare prints help", () => {
    const dir = join(work, "bare");
    mkdirSync(dir, { recursive: true });
    run(["tar", "-xzf", bundlePath, "-C", dir, "install.sh"]);
    const res = run(["bash", join(dir, "install.sh")]);
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toContain("Usage: install.sh [-c]");
  });

  test("install.sh -c installs into a prefix; lava-worker --help and lava-version run from there", () => {
    const prefix = join(work, "prefix");
    const dir = join(work, "x");
    mkdirSync(dir, { recursive: true });
    run(["tar", "-xzf", bundlePath, "-C", dir, "install.sh"]);
    const res = run(["bash", join(dir, "install.sh"), "-c", "-p", prefix, bundlePath]);
    expect(res.stderr).toBe("");
    expect(res.exitCode).toBe(0);
    expect(res.stdout).toContain("Checksum verified");
    expect(readlinkSync(join(prefix, "bin", "lava-worker"))).toBe(join(prefix, "lib", "lava", "bin", "lava-worker"));
    const help = run([join(prefix, "bin", "lava-worker"), "--help"]);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/realm/);
    expect(run([join(prefix, "bin", "lava-version")]).stdout.trim()).toBe(VERSION);

    // Clean again over our own install: allowed. Over a directory that is not a lava install: refused.
    expect(run(["bash", join(dir, "install.sh"), "-c", "-p", prefix, bundlePath]).exitCode).toBe(0);
    const other = join(work, "not-lava");
    mkdirSync(join(other, "precious"), { recursive: true });
    const refused = run(["bash", join(dir, "install.sh"), "-c", "-d", other, "-b", join(work, "obin"), bundlePath]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain("does not look like a lava install directory");
    expect(existsSync(join(other, "precious"))).toBe(true);
  });

  test("install.sh -c replaces an original Python install (same markers it checks)", () => {
    const base = join(work, "pyinstall");
    for (const d of ["lava", "pylib", "bin"]) mkdirSync(join(base, d), { recursive: true });
    writeFileSync(join(base, "install.sh"), "");
    writeFileSync(join(base, "lava", "version.py"), "");
    const res = run(["bash", join(REPO, "build", "install.sh"), "-c", "-d", base, "-b", join(work, "pybin"), bundlePath]);
    expect(res.exitCode).toBe(0);
    expect(existsSync(join(base, "manifest.json"))).toBe(true);
    // And our install keeps the markers the Python installer wants before it cleans (rollback).
    for (const marker of ["lava", "pylib", "install.sh", "lava/version.py"]) expect(existsSync(join(base, marker))).toBe(true);
  });

  test("install-lava.sh: picks this machine's bundle from a file:// location and verifies its checksum", () => {
    const prefix = join(work, "desk");
    const res = run(["bash", join(REPO, "build", "install-lava.sh"), "-p", prefix, `file://${join(work, "dist", "pkg")}`]);
    expect(res.stderr).toBe("");
    expect(res.exitCode).toBe(0);
    expect(res.stdout).toContain("sha256 verified");
    expect(run([join(prefix, "bin", "lava-version")]).stdout.trim()).toBe(VERSION);

    // A tampered bundle is refused.
    const bad = join(work, "badpkg");
    cpSync(join(work, "dist", "pkg"), bad, { recursive: true });
    const t = hostTarget();
    const victim = join(bad, t.os, `lava-${VERSION}-${t.os}-${t.arch}.tar.gz`);
    writeFileSync(victim, Buffer.concat([readFileSync(victim), Buffer.from("x")]));
    const refused = run(["bash", join(REPO, "build", "install-lava.sh"), "-p", join(work, "desk2"), `file://${bad}`]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain("Checksum mismatch");
    expect(existsSync(join(work, "desk2", "bin", "lava"))).toBe(false);
  });
});

describe("dist: tar writer", () => {
  test("fixed owner and mtime, sorted entries, symlinks; readable by tar", () => {
    const dir = mkdtempSync(join(tmpdir(), "lava-tar-test-"));
    try {
      const enc = new TextEncoder();
      const bytes = tarBytes(
        [
          { kind: "symlink", path: "bin/lava-x", target: "lava" },
          { kind: "file", path: "bin/lava", mode: 0o755, data: enc.encode("#!/bin/sh\necho hi\n") },
          { kind: "dir", path: "bin", mode: 0o755 },
          { kind: "file", path: `deep/${"d".repeat(120)}/f.txt`, mode: 0o644, data: enc.encode("x".repeat(1000)) },
        ],
        1_700_000_000,
      );
      writeFileSync(join(dir, "t.tar"), bytes);
      const listing = run(["tar", "--numeric-owner", "-tvf", join(dir, "t.tar")]).stdout.trim().split("\n");
      expect(listing[0]).toMatch(/^drwxr-xr-x 0\/0 .* 2023-11-1[45] \d\d:\d\d bin\/$/);
      expect(listing[1]).toMatch(/^-rwxr-xr-x 0\/0 +18 .* bin\/lava$/);
      expect(listing[2]).toMatch(/^lrwxrwxrwx .* bin\/lava-x -> lava$/);
      expect(listing[3]).toContain(`deep/${"d".repeat(120)}/f.txt`);
      mkdirSync(join(dir, "out"));
      expect(run(["tar", "-xf", join(dir, "t.tar"), "-C", join(dir, "out")]).exitCode).toBe(0);
      expect(lstatSync(join(dir, "out", "bin", "lava-x")).isSymbolicLink()).toBe(true);
      expect(readFileSync(join(dir, "out", "deep", "d".repeat(120), "f.txt"), "utf8")).toBe("x".repeat(1000));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test("package version is what npm run build bakes in by default", () => {
  expect(packageVersion()).toMatch(/^\d+\.\d+\.\d+/);
});
