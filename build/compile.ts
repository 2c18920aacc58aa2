#!/usr/bin/env bun
/**
 * Compile the `lava` executable and pack release bundles.
 *
 *   bun run build/compile.ts                 this machine only: dist/lava + its bundle
 *   bun run build/compile.ts --all           every target in build/targets.ts
 *   bun run build/compile.ts --target linux-arm64,linux-x64-baseline
 *
 * Options (defaults in brackets):
 *   --out DIR          output directory [dist]
 *   --version V        version baked into the executable and the bundle names [package.json version]
 *   --no-bytecode      skip `--bytecode` (smaller build time, slower cold start)
 *   --no-minify        skip `--minify`
 *   --no-bundle        compile only (no tar.gz, no checksums)
 *   --measure          print size and cold start (`lava version`) of each executable this machine can run
 *   --entry FILE       entry point [src/main.ts]
 *
 * Output: `<out>/lava` (host target only), `<out>/pkg/<os>/lava-<version>-<os>-<arch>.tar.gz` with a
 * `.sha256` beside each, and `<out>/pkg/SHA256SUMS` listing every bundle of this run.
 * The same source, version and Bun give byte-identical executables and bundles (see docs/DISTRIBUTION.md).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { checksumLine, makeBundle, type BuiltBundle } from "./bundle.ts";
import { pinnedBunVersion, runtimeFor } from "./runtimes.ts";
import { TARGETS, hostTarget, targetByName, type Target } from "./targets.ts";

const ROOT = resolve(import.meta.dir, "..");

/** Files started as worker threads (`new Worker(new URL(..., import.meta.url))`), bundled beside the entry. */
export const THREAD_ENTRIES = ["src/core/worker/render-thread.ts"] as const;

export interface CompileOptions {
  targets: Target[];
  outDir: string;
  version: string;
  bytecode: boolean;
  minify: boolean;
  bundle: boolean;
  measure: boolean;
  entry: string;
}

export class BuildError extends Error {
  override name = "BuildError";
  constructor(
    readonly target: string,
    detail: string,
  ) {
    super(`build of ${target} failed: ${detail}`);
  }
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
}

/**
 * Compiles `entry` for `target` into `<workDir>/<target>/lava`. The output file is always named `lava`
 * because Bun records the output name inside the executable: a different name would change its bytes.
 */
export function compileExecutable(target: Target, opts: Pick<CompileOptions, "version" | "bytecode" | "minify" | "entry">, workDir: string): string {
  const outFile = join(workDir, target.name, "lava");
  mkdirSync(dirname(outFile), { recursive: true });
  const cmd = [
    process.execPath,
    "build",
    "--compile",
    `--target=${target.bunTarget}`,
    `--define=LAVA_BUILD_VERSION=${JSON.stringify(opts.version)}`,
    "--outfile",
    outFile,
  ];
  // ESM keeps top-level await working; Bun would default to CJS with --bytecode.
  if (opts.bytecode) cmd.push("--bytecode", "--format=esm");
  if (opts.minify) cmd.push("--minify");
  // Each lazily imported module (a command, an SDK client) becomes its own chunk, read only when imported:
  // a short-lived command then maps a fraction of the code (bench/dispatch.ts: ~11 MiB less RSS).
  cmd.push("--splitting");
  cmd.push(`--compile-executable-path=${runtimeExecutable(target)}`);
  cmd.push(opts.entry);
  // Worker-thread entry points are not found through imports: each must be listed to be in the executable.
  for (const threadEntry of THREAD_ENTRIES) cmd.push(threadEntry);
  const res = Bun.spawnSync(cmd, { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  if (res.exitCode !== 0) {
    const output = `${res.stdout.toString()}\n${res.stderr.toString()}`.trim();
    throw new BuildError(target.name, output.slice(-2000));
  }
  return outFile;
}

/**
 * Every target, the host's included, is built from the runtime npm publishes for it. The running Bun is
 * not used even for its own platform: npm's `bun` package may have installed another flavour (on this
 * project's x64 machines it is the baseline build), and the bytes must not depend on who builds.
 * Only when npm cannot be reached does the host target fall back to the running Bun, with a warning.
 */
function runtimeExecutable(target: Target): string {
  try {
    return runtimeFor(target);
  } catch (e) {
    if (target.name !== hostTarget().name) throw e;
    process.stderr.write(`build/compile.ts: warning: ${e instanceof Error ? e.message : String(e)}; using the running Bun\n`);
    return process.execPath;
  }
}

/** How to run an executable of `target` here, if at all (qemu-user for arm64 on an x64 Linux host). */
export function runnerFor(target: Target): string[] | undefined {
  const host = hostTarget();
  if (target.os !== host.os) return undefined;
  if (target.name === host.name) return [];
  if (target.name === "linux-x64-baseline" && host.name === "linux-x64") return [];
  if (target.name === "linux-arm64" && host.os === "linux") {
    const qemu = Bun.which("qemu-aarch64-static") ?? Bun.which("qemu-aarch64");
    return qemu ? [qemu, "-L", "/usr/aarch64-linux-gnu"] : undefined;
  }
  return undefined;
}

/** Median wall time (ms) of `lava version` over `runs` runs, after one warm-up run. */
export function coldStartMs(exe: string, runner: string[], runs = 5): number {
  const times: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const started = performance.now();
    const res = Bun.spawnSync([...runner, exe, "version"], { stdout: "pipe", stderr: "pipe" });
    const elapsed = performance.now() - started;
    if (res.exitCode !== 0) throw new Error(`${exe} version exited ${res.exitCode}: ${res.stderr.toString().trim()}`);
    if (i > 0) times.push(elapsed);
  }
  times.sort((a, b) => a - b);
  return Math.round(times[Math.floor(times.length / 2)]!);
}

export interface TargetResult {
  target: Target;
  executable: string;
  size: number;
  bundle?: { path: string; sha256: string };
  coldStartMs?: number;
}

export function build(opts: CompileOptions): TargetResult[] {
  const workDir = mkdtempSync(join(tmpdir(), "lava-build-"));
  const results: TargetResult[] = [];
  const sums: string[] = [];
  const bunVersion = pinnedBunVersion();
  if (bunVersion !== Bun.version) {
    throw new BuildError("all", `running Bun ${Bun.version} differs from the pinned bun ${bunVersion}; run via node_modules/.bin/bun`);
  }
  try {
    for (const target of opts.targets) {
      const exe = compileExecutable(target, opts, workDir);
      const bytes = new Uint8Array(readFileSync(exe));
      const result: TargetResult = { target, executable: exe, size: bytes.length };
      if (target.name === hostTarget().name) {
        mkdirSync(opts.outDir, { recursive: true });
        // Beside it, then renamed over it: a running lava (a worker) keeps its old file, where copying onto
        // it would fail with ETXTBSY (and a half-copied file could be run).
        const next = join(opts.outDir, `.lava.${process.pid}.new`);
        copyFileSync(exe, next);
        renameSync(next, join(opts.outDir, "lava"));
        result.executable = join(opts.outDir, "lava");
      }
      if (opts.bundle) {
        const built: BuiltBundle = makeBundle(target, bytes, opts.version, bunVersion);
        const dir = join(opts.outDir, "pkg", target.os);
        mkdirSync(dir, { recursive: true });
        const path = join(dir, built.fileName);
        writeFileSync(path, built.bytes);
        writeFileSync(`${path}.sha256`, checksumLine(built.sha256, built.fileName));
        // For build/install-lava.sh over HTTP, where it cannot list the folder.
        writeFileSync(join(dir, "LATEST"), `${opts.version}\n`);
        sums.push(checksumLine(built.sha256, `${target.os}/${built.fileName}`));
        result.bundle = { path, sha256: built.sha256 };
      }
      if (opts.measure) {
        const runner = runnerFor(target);
        if (runner) result.coldStartMs = coldStartMs(exe, runner);
      }
      results.push(result);
    }
    if (opts.bundle && sums.length > 0) writeFileSync(join(opts.outDir, "pkg", "SHA256SUMS"), sums.join(""));
    return results;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

const USAGE = `Usage: bun run build/compile.ts [--all | --target T[,T...]] [--out DIR] [--version V]
                              [--no-bytecode] [--no-minify] [--no-bundle] [--measure] [--entry FILE]
Targets: ${TARGETS.map((t) => t.name).join(", ")} (default: this machine, ${hostTarget().name})
`;

function parseArgs(argv: string[]): CompileOptions {
  const opts: CompileOptions = {
    targets: [hostTarget()],
    outDir: join(ROOT, "dist"),
    version: packageVersion(),
    bytecode: true,
    minify: true,
    bundle: true,
    measure: false,
    entry: join(ROOT, "src", "main.ts"),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === "--all") opts.targets = [...TARGETS];
    else if (arg === "--target") opts.targets = value().split(",").map((t) => targetByName(t.trim()));
    else if (arg === "--out") opts.outDir = resolve(value());
    else if (arg === "--version") opts.version = value();
    else if (arg === "--entry") opts.entry = resolve(value());
    else if (arg === "--no-bytecode") opts.bytecode = false;
    else if (arg === "--no-minify") opts.minify = false;
    else if (arg === "--no-bundle") opts.bundle = false;
    else if (arg === "--measure") opts.measure = true;
    else if (arg === "-h" || arg === "--help") {
      process.stdout.write(USAGE);
      process.exit(0);
    } else throw new Error(`unknown option ${arg} (see --help)`);
  }
  if (!/^\d+(\.\d+)*([a-z0-9.+]*)?$/i.test(opts.version)) {
    throw new Error(`version "${opts.version}" must start with dotted numbers and contain no "-" (bundle names split on "-")`);
  }
  return opts;
}

if (import.meta.main) {
  try {
    const opts = parseArgs(process.argv.slice(2));
    const results = build(opts);
    for (const r of results) {
      const mb = (r.size / 1024 / 1024).toFixed(1);
      const start = r.coldStartMs === undefined ? "" : `  cold start ${r.coldStartMs} ms`;
      const where = r.bundle ? relative(process.cwd(), r.bundle.path) : relative(process.cwd(), r.executable);
      process.stdout.write(`${r.target.name.padEnd(20)} ${mb.padStart(6)} MiB${start}  ${where}\n`);
    }
  } catch (e) {
    process.stderr.write(`build/compile.ts: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}
