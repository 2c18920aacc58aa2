import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { COMMANDS } from "../../src/cli/commands/index.ts";
import { lava, ROOT } from "./run-lava.ts";

const pkgVersion = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
const noArgv0 = { LAVA_ARGV0: undefined };

describe("lava --help", () => {
  test("lists every registered command and exits 0", async () => {
    const r = await lava(["--help"], noArgv0);
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${c.name} `, "m"));
    expect(r.stderr).toBe("");
  });

  test("each command of mine has --help", async () => {
    for (const name of ["version", "realm", "put", "get", "delete", "config"]) {
      const r = await lava([name, "--help"], noArgv0);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`lava ${name}`);
    }
  });

  test("sub-command help", async () => {
    const r = await lava(["realm", "create", "--help"], noArgv0);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("--worker");
    expect(r.stdout).toContain("lava realm create");
    expect(r.stdout).not.toContain("lava realm lava realm");
  });
});

describe("usage errors: status 2 and one stderr line", () => {
  test.each([
    [[]],
    [["no-such-command"]],
    [["--bogus"]],
    [["version", "--bogus"]],
    [["version", "-n", "-a"]],
    [["version", "--ge"]],
    [["put"]],
    [["get", "widget"]],
    [["config", "--level"]],
    [["realm"]],
    [["worker", "-r", "qa", "-w", "--batch"]],
    [["dispatcher", "-r", "qa", "--queue", "-w", "core", "a/job"]],
  ])("lava %p", async (args) => {
    const r = await lava(args as string[], { ...noArgv0, LAVA_REALM: undefined });
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/error: /);
    expect(r.stdout).toBe("");
  });

  test("a missing realm is a usage error", async () => {
    const r = await lava(["realm", "create"], { ...noArgv0, LAVA_REALM: undefined });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("-r/--realm");
  });

  test("a bad --level is a usage error", async () => {
    const r = await lava(["realm", "create", "-r", "x", "--level", "loud"], noArgv0);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown log level");
  });
});

describe("version", () => {
  test("no option: the number from package.json", async () => {
    const r = await lava(["version"], noArgv0);
    expect(r).toEqual({ code: 0, stdout: `${pkgVersion}\n`, stderr: "" });
  });

  test("-n, -a", async () => {
    const n = await lava(["version", "-n"], noArgv0);
    expect(n.code).toBe(0);
    expect(n.stdout.trim()).toMatch(/^\w+$/);
    const a = await lava(["version", "--all"], noArgv0);
    expect(a.stdout.trim()).toBe(`${pkgVersion} (${n.stdout.trim()}) ${process.platform}-${process.arch}`);
  });

  test("--ge and --eq: exit status only", async () => {
    expect(await lava(["version", "--ge", "0.0.1"], noArgv0)).toEqual({ code: 0, stdout: "", stderr: "" });
    expect((await lava(["version", "--ge", "999.0"], noArgv0)).code).toBe(1);
    expect((await lava(["version", "--eq", pkgVersion], noArgv0)).code).toBe(0);
    expect((await lava(["version", "--eq", "0.0.0"], noArgv0)).code).toBe(1);
    const bad = await lava(["version", "--eq", "not.a.version"], noArgv0);
    expect(bad.code).toBe(2);
  });

  test("-v/--version on lava and on any command", async () => {
    for (const args of [["-v"], ["--version"], ["get", "--version"], ["realm", "-v"]]) {
      const r = await lava(args, noArgv0);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(pkgVersion);
      expect(r.stdout).toContain(`${process.platform}-${process.arch}`);
    }
  });
});

describe("multi-call names", () => {
  test("LAVA_ARGV0=lava-version runs the version command", async () => {
    const r = await lava(["-n"], { LAVA_ARGV0: "/usr/local/bin/lava-version" });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\w+$/);
    const plain = await lava([], { LAVA_ARGV0: "lava-version" });
    expect(plain.stdout).toBe(`${pkgVersion}\n`);
  });

  test("errors are named after the program", async () => {
    const r = await lava(["--nope"], { LAVA_ARGV0: "lava-version" });
    expect(r.code).toBe(2);
    expect(r.stderr).toStartWith("lava-version: error: unknown option --nope");
  });

  test("an unknown lava-<name> runs as plain lava", async () => {
    const r = await lava(["version"], { LAVA_ARGV0: "lava-nothing" });
    expect(r.stdout).toBe(`${pkgVersion}\n`);
  });

  test("the npm shim passes its name through", async () => {
    const proc = Bun.spawn(["node", join(ROOT, "bin/lava.cjs"), "version", "-a"], { stdout: "pipe", stderr: "pipe" });
    const out = await new Response(proc.stdout).text();
    expect(await proc.exited).toBe(0);
    expect(out).toContain(pkgVersion);
  });
});

describe("lazy loading", () => {
  /** Files reachable from `entry` through static imports only (dynamic `import()` is what keeps commands lazy). */
  function staticClosure(entry: string): { files: Set<string>; packages: Set<string> } {
    const transpiler = new Bun.Transpiler({ loader: "ts" });
    const files = new Set<string>();
    const packages = new Set<string>();
    const visit = (file: string): void => {
      if (files.has(file)) return;
      files.add(file);
      if (!file.endsWith(".ts")) return;
      const { imports } = transpiler.scan(readFileSync(file, "utf8"));
      for (const imp of imports) {
        if (imp.kind === "dynamic-import") continue;
        if (imp.path.startsWith(".")) visit(join(file, "..", imp.path));
        else packages.add(imp.path);
      }
    };
    visit(entry);
    return { files, packages };
  }

  test("starting lava loads neither the AWS SDK nor any command module", () => {
    const { files, packages } = staticClosure(join(ROOT, "src/main.ts"));
    expect([...packages].filter((p) => p.startsWith("@aws-sdk"))).toEqual([]);
    expect([...files].filter((f) => f.includes("/adapters/") || f.includes("/commands/") && !f.endsWith("commands/index.ts"))).toEqual([]);
  });

  test("lava version and lava get load no AWS SDK code statically", () => {
    for (const cmd of ["version.ts", "get.ts", "put.ts", "realm.ts", "config.ts"]) {
      const { packages } = staticClosure(join(ROOT, "src/cli/commands", cmd));
      expect([...packages].filter((p) => p.startsWith("@aws-sdk"))).toEqual([]);
    }
  });

  test("lava version imports no package or node built-in statically", () => {
    // Bun loads each built-in on first import (node:util, node:fs, node:path: a few ms each), close to
    // the whole start-up of a compiled hello world; `lava version` is held to 1.3 times that.
    const packages = new Set([
      ...staticClosure(join(ROOT, "src/main.ts")).packages,
      ...staticClosure(join(ROOT, "src/cli/commands/version.ts")).packages,
    ]);
    expect([...packages]).toEqual([]);
  });

  test("the dispatcher and the worker load neither citty, node:util, node:tty nor the template engine statically", () => {
    // Each costs a command's start-up milliseconds it does not need (docs/BENCHMARKS.md): citty and
    // node:util 5-13 ms, node:tty ~10 ms, the engine ~150 KB of code; help and templates load them lazily.
    for (const cmd of ["dispatcher.ts", "worker.ts"]) {
      const { files, packages } = staticClosure(join(ROOT, "src/cli/commands", cmd));
      expect([...packages].filter((p) => ["citty", "node:util", "util", "node:tty", "tty"].includes(p))).toEqual([]);
      expect([...files].filter((f) => f.includes("/jinja/") && !f.endsWith("jinja/errors.ts"))).toEqual([]);
    }
  });
});

describe("common flags", () => {
  test("-c, --no-colour and --no-color are accepted", async () => {
    for (const flag of ["-c", "--no-colour", "--no-color"]) {
      const r = await lava(["realm", "create", flag, "--level", "loud", "-r", "x"], noArgv0);
      // reaching the level check proves the colour flag parsed
      expect(r.stderr).toContain("unknown log level");
    }
  });
});

describe("npm shim under another name", () => {
  test("a lava-version symlink to bin/lava.cjs runs the version command", async () => {
    const { mkdtempSync, symlinkSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(join(tmpdir(), "lava-shim-"));
    try {
      symlinkSync(join(ROOT, "bin/lava.cjs"), join(dir, "lava-version"));
      const proc = Bun.spawn(["node", join(dir, "lava-version"), "--name"], { stdout: "pipe", stderr: "pipe" });
      const out = await new Response(proc.stdout).text();
      expect(await proc.exited).toBe(0);
      expect(out.trim()).toMatch(/^\w+$/);
      expect(out).not.toContain(pkgVersion);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test("a reader that goes away (lava version | true) gets no EPIPE complaint", () => {
  const main = join(ROOT, "src", "main.ts");
  const r = Bun.spawnSync(["sh", "-c", `"${process.execPath}" "${main}" version | true`], { stderr: "pipe" });
  expect(r.stderr.toString()).not.toContain("EPIPE");
  expect(r.exitCode).toBe(0);
});
