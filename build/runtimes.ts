/**
 * Bun runtimes for cross-compilation, fetched from npm instead of GitHub.
 *
 * `bun build --compile --target=<foreign>` normally downloads the target runtime from GitHub releases.
 * Build machines here reach npm only, and Bun publishes the same runtimes as `@oven/bun-<os>-<arch>`
 * packages. They declare `os`/`cpu` fields, so they cannot be ordinary dependencies of this project;
 * instead `npm pack` fetches the tarball (npm checks the registry's integrity hash) into a cache, and the
 * executable inside is handed to `bun build --compile-executable-path`.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Target } from "./targets.ts";

export class RuntimeFetchError extends Error {
  override name = "RuntimeFetchError";
  constructor(
    readonly pkg: string,
    readonly detail: string,
  ) {
    super(`cannot fetch Bun runtime ${pkg}: ${detail}`);
  }
}

const ROOT = resolve(import.meta.dir, "..");

/** The Bun version the project pins (node_modules/bun), which every runtime must match. */
export function pinnedBunVersion(): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, "node_modules", "bun", "package.json"), "utf8")) as { version: string };
  return pkg.version;
}

/** Default cache: inside node_modules so it is never committed and `npm ci` starts it afresh. */
export function defaultCacheDir(): string {
  return process.env.LAVA_RUNTIME_CACHE ?? join(ROOT, "node_modules", ".cache", "lava-bun-runtimes");
}

function run(cmd: string[], cwd: string): string {
  const res = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe" });
  if (res.exitCode !== 0) {
    throw new RuntimeFetchError(cmd.join(" "), `exit ${res.exitCode}: ${res.stderr.toString().trim().slice(-400)}`);
  }
  return res.stdout.toString();
}

/**
 * Path of the Bun executable for `target`, fetched with `npm pack` on first use and cached after.
 */
export function runtimeFor(target: Target, version = pinnedBunVersion(), cacheDir = defaultCacheDir()): string {
  const dir = join(cacheDir, `${target.runtimePackage.replace("/", "+")}-${version}`);
  const exe = join(dir, "bun");
  if (existsSync(exe)) return exe;

  mkdirSync(cacheDir, { recursive: true });
  const work = `${dir}.tmp-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    const spec = `${target.runtimePackage}@${version}`;
    const packed = JSON.parse(run(["npm", "pack", spec, "--json", "--silent", "--pack-destination", work], work)) as {
      filename: string;
    }[];
    const tgz = packed[0]?.filename;
    if (!tgz) throw new RuntimeFetchError(spec, "npm pack reported no file");
    run(["tar", "-xzf", join(work, tgz), "-C", work, "package/bin/bun"], work);
    renameSync(join(work, "package", "bin", "bun"), join(work, "bun"));
    rmSync(join(work, "package"), { recursive: true, force: true });
    rmSync(join(work, tgz), { force: true });
    // Another build may have finished the same fetch meanwhile; either copy is the same file.
    if (!existsSync(exe)) renameSync(work, dir);
    return exe;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
