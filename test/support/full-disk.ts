/**
 * A small filesystem that fills up, for full-disk tests: a tmpfs mounted on a temporary directory (needs
 * root, or CAP_SYS_ADMIN). `fill` writes a filler file until the filesystem refuses more; removing it
 * frees the space again.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface SmallDisk {
  dir: string;
  /** Fills the filesystem; returns the filler's path. */
  fill(): string;
  /** Unmounts and removes the directory. */
  dispose(): void;
}

export function mountSmallDisk(sizeBytes: number): SmallDisk {
  const dir = mkdtempSync(join(tmpdir(), "lava-small-disk-"));
  const mount = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", `size=${sizeBytes},mode=0700`, "tmpfs", dir], { stderr: "pipe" });
  if (mount.exitCode !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`cannot mount a tmpfs: ${mount.stderr.toString().trim()}`);
  }
  return {
    dir,
    fill() {
      const filler = join(dir, `filler-${Math.random().toString(36).slice(2)}`);
      const fd = openSync(filler, "w");
      try {
        for (const size of [1 << 16, 4096, 512, 1]) {
          const chunk = Buffer.alloc(size, 0x5a);
          try {
            for (;;) writeSync(fd, chunk);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
          }
        }
      } finally {
        closeSync(fd);
      }
      return filler;
    },
    dispose() {
      Bun.spawnSync(["umount", "-l", dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Whether this process may mount a tmpfs (tried once). */
export function canMountSmallDisk(): boolean {
  if (process.platform !== "linux" || process.getuid?.() !== 0) return false;
  try {
    mountSmallDisk(64 * 1024).dispose();
    return true;
  } catch {
    return false;
  }
}
