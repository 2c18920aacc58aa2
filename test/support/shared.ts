/**
 * The steering repo's shared/ folder (golden captures of the original, the seed chapter, the spec).
 * It sits beside the checkout, in development and in CI alike; LAVA_SHARED_DIR overrides.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { needs } from "./availability.ts";

export const SHARED_DIR = process.env.LAVA_SHARED_DIR ?? resolve(import.meta.dir, "../../../shared");
export const GOLDEN_DIR = join(SHARED_DIR, "golden");
export const SEED_CHAPTER = join(SHARED_DIR, "seed", "lava-installation-and-operation.txt");

/**
 * The golden captures are data from the steering repo, not part of this one. A test file that compares
 * with them calls this once and guards those tests with `test.if(result)`: without shared/ they are
 * skipped loudly (and fail under CI=true, where shared/ is always laid beside the checkout).
 */
export function haveGolden(): boolean {
  return needs("golden captures of the original lava (shared/golden or LAVA_SHARED_DIR)", existsSync(GOLDEN_DIR));
}

/** Parsed JSON of a golden file, or `fallback` when the captures are absent (their tests are skipped). */
export async function goldenJson<T>(relative: string, fallback: T): Promise<T> {
  const path = join(GOLDEN_DIR, relative);
  return existsSync(path) ? ((await Bun.file(path).json()) as T) : fallback;
}

/** Text of a golden file, or "" when the captures are absent. */
export async function goldenText(relative: string): Promise<string> {
  const path = join(GOLDEN_DIR, relative);
  return existsSync(path) ? Bun.file(path).text() : "";
}
