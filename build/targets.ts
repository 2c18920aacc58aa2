/**
 * The platforms we ship a `lava` executable for, and how each maps onto Bun's compile targets and the npm
 * packages that carry Bun's runtime for that platform.
 */

export type TargetName = "linux-x64" | "linux-x64-baseline" | "linux-arm64" | "darwin-x64" | "darwin-arm64";

export interface Target {
  /** Our name, also the `<os>-<arch>` tail of the bundle name. */
  name: TargetName;
  /** Bundle OS key: the `_dist_/pkg/<os>/` folder and the OS part of the bundle name. */
  os: "linux" | "darwin";
  /** Bundle arch key: Bun's spelling (`x64`, `x64-baseline`, `arm64`). */
  arch: "x64" | "x64-baseline" | "arm64";
  /** `uname -m` values of machines that can run it (boot and the desktop installer map these). */
  unameMachines: string[];
  /** `bun build --compile --target=...` value. */
  bunTarget: string;
  /** npm package that carries this platform's Bun runtime (same version as the building Bun). */
  runtimePackage: string;
}

export const TARGETS: readonly Target[] = [
  {
    name: "linux-x64",
    os: "linux",
    arch: "x64",
    unameMachines: ["x86_64"],
    bunTarget: "bun-linux-x64",
    runtimePackage: "@oven/bun-linux-x64",
  },
  {
    // For x86-64 CPUs without AVX2 (pre-Haswell, some virtualised CPUs).
    name: "linux-x64-baseline",
    os: "linux",
    arch: "x64-baseline",
    unameMachines: ["x86_64"],
    bunTarget: "bun-linux-x64-baseline",
    runtimePackage: "@oven/bun-linux-x64-baseline",
  },
  {
    name: "linux-arm64",
    os: "linux",
    arch: "arm64",
    unameMachines: ["aarch64", "arm64"],
    bunTarget: "bun-linux-arm64",
    runtimePackage: "@oven/bun-linux-aarch64",
  },
  {
    name: "darwin-x64",
    os: "darwin",
    arch: "x64",
    unameMachines: ["x86_64"],
    bunTarget: "bun-darwin-x64",
    runtimePackage: "@oven/bun-darwin-x64",
  },
  {
    name: "darwin-arm64",
    os: "darwin",
    arch: "arm64",
    unameMachines: ["arm64", "aarch64"],
    bunTarget: "bun-darwin-arm64",
    runtimePackage: "@oven/bun-darwin-aarch64",
  },
];

export class UnknownTargetError extends Error {
  override name = "UnknownTargetError";
  constructor(readonly requested: string) {
    super(`unknown target "${requested}"; known targets: ${TARGETS.map((t) => t.name).join(", ")}`);
  }
}

export function targetByName(name: string): Target {
  const found = TARGETS.find((t) => t.name === name);
  if (!found) throw new UnknownTargetError(name);
  return found;
}

/**
 * The target matching the Bun that runs this build. Its executable is compiled from the running Bun
 * itself, so it needs no runtime download. The running Bun is never the baseline flavour (npm's `bun`
 * package installs the AVX2 build on x64), so the host target is `linux-x64`, not `linux-x64-baseline`.
 */
export function hostTarget(): Target {
  const os = process.platform === "darwin" ? "darwin" : process.platform === "linux" ? "linux" : undefined;
  const arch = process.arch === "x64" ? "x64" : process.arch === "arm64" ? "arm64" : undefined;
  if (!os || !arch) throw new UnknownTargetError(`${process.platform}-${process.arch}`);
  return targetByName(`${os}-${arch}`);
}

/** `lava-<version>-<os>-<arch>.tar.gz`. */
export function bundleName(version: string, target: Target): string {
  return `lava-${version}-${target.os}-${target.arch}.tar.gz`;
}
