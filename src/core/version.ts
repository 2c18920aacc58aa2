/**
 * lava's version. The build may define `LAVA_BUILD_VERSION` (`bun build --define
 * LAVA_BUILD_VERSION='"1.2.3"'`); otherwise package.json's version is used, which Bun also inlines
 * at compile time, so a compiled executable never reads package.json at run time.
 */
import pkg from "../../package.json" with { type: "json" };

declare const LAVA_BUILD_VERSION: string | undefined;

function buildVersion(): string | undefined {
  try {
    return typeof LAVA_BUILD_VERSION === "string" && LAVA_BUILD_VERSION ? LAVA_BUILD_VERSION : undefined;
  } catch {
    return undefined;
  }
}

export const VERSION: string = buildVersion() ?? pkg.version;
/** Release name, printed by `lava version --name` (the original names its releases after volcanoes). */
export const VERSION_NAME = "Surtsey";

export function platformTag(): string {
  return `${process.platform}-${process.arch}`;
}

/** `0.1.0 (Surtsey) linux-x64` */
export function fullVersion(): string {
  return `${VERSION} (${VERSION_NAME}) ${platformTag()}`;
}

/**
 * Orders two versions by their numeric release parts (`8.2.0` < `8.10`), missing parts counting as 0;
 * a pre-release suffix (`1.0.0rc1`, `1.0.0-beta`) sorts before its release. Throws on text that is
 * not a version.
 */
export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  const n = Math.max(pa.release.length, pb.release.length);
  for (let i = 0; i < n; i++) {
    const d = (pa.release[i] ?? 0) - (pb.release[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  if (pa.pre === pb.pre) return 0;
  if (pa.pre === "") return 1;
  if (pb.pre === "") return -1;
  return pa.pre < pb.pre ? -1 : 1;
}

function parseVersion(text: string): { release: number[]; pre: string } {
  const m = /^\s*v?(\d+(?:\.\d+)*)(?:[-.]?((?:a|b|rc|alpha|beta|pre|dev)[.\w-]*))?(?:\+[\w.]+)?\s*$/i.exec(text);
  if (!m) throw new Error(`invalid version: ${text}`);
  return { release: m[1]!.split(".").map(Number), pre: (m[2] ?? "").toLowerCase() };
}
