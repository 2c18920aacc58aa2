/**
 * A release bundle: one tar.gz per target that unpacks straight into the install directory.
 *
 *   bin/lava                the executable
 *   bin/lava-<command>      symlinks to `lava`, one per registered command (the program picks the
 *                           command from the name it was run under)
 *   install.sh              the installer (also run on its own after `tar xf bundle install.sh`)
 *   manifest.json           name, version, os, arch, target, bun version, sha256 of bin/lava, commands
 *   lava/version.py         markers the original Python installer checks before `install.sh -c` removes
 *   pylib/README            an install directory, so a rollback to a Python bundle can replace ours
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { COMMANDS } from "../src/cli/commands/index.ts";
import { bundleName, type Target } from "./targets.ts";
import { tarGz, type TarEntry } from "./tarball.ts";

const ROOT = resolve(import.meta.dir, "..");

export interface Manifest {
  name: "lava";
  version: string;
  os: string;
  arch: string;
  target: string;
  bun: string;
  executable: string;
  sha256: string;
  size: number;
  commands: string[];
}

export interface BuiltBundle {
  fileName: string;
  bytes: Uint8Array;
  sha256: string;
  manifest: Manifest;
}

export function sha256Hex(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** `lava-<name>` for every registered command, sorted. */
export function commandLinks(): string[] {
  return COMMANDS.map((c) => `lava-${c.name}`).sort();
}

function pythonMarker(version: string): string {
  return [
    "# Marker file: this directory holds a Bun-compiled lava install (see bin/lava).",
    "# The original Python installer's clean mode (-c) looks for this file before it removes the",
    "# directory, so keeping it lets a Python bundle replace this install on rollback.",
    `__version__ = '${version}'`,
    "if __name__ == '__main__':",
    "    print(__version__)",
    "",
  ].join("\n");
}

export function makeBundle(target: Target, executable: Uint8Array, version: string, bunVersion: string): BuiltBundle {
  const commands = commandLinks();
  const manifest: Manifest = {
    name: "lava",
    version,
    os: target.os,
    arch: target.arch,
    target: target.name,
    bun: bunVersion,
    executable: "bin/lava",
    sha256: sha256Hex(executable),
    size: executable.length,
    commands,
  };
  const installer = readFileSync(join(ROOT, "build", "install.sh"));
  const entries: TarEntry[] = [
    { kind: "dir", path: "bin", mode: 0o755 },
    { kind: "file", path: "bin/lava", mode: 0o755, data: executable },
    ...commands.map((name): TarEntry => ({ kind: "symlink", path: `bin/${name}`, target: "lava" })),
    { kind: "file", path: "install.sh", mode: 0o755, data: installer },
    { kind: "file", path: "manifest.json", mode: 0o644, data: new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`) },
    { kind: "dir", path: "lava", mode: 0o755 },
    { kind: "file", path: "lava/version.py", mode: 0o755, data: new TextEncoder().encode(pythonMarker(version)) },
    { kind: "dir", path: "pylib", mode: 0o755 },
    {
      kind: "file",
      path: "pylib/README",
      mode: 0o644,
      data: new TextEncoder().encode("Empty on purpose: a marker for the original Python installer (see lava/version.py).\n"),
    },
  ];
  const bytes = tarGz(entries);
  return { fileName: bundleName(version, target), bytes, sha256: sha256Hex(bytes), manifest };
}

/** A `sha256sum -c` line. */
export function checksumLine(sha256: string, fileName: string): string {
  return `${sha256}  ${fileName}\n`;
}
