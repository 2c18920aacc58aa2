/**
 * The steering repo's shared/ folder (golden captures of the original, the seed chapter, the spec).
 * It sits beside the checkout, in development and in CI alike; LAVA_SHARED_DIR overrides.
 */
import { join, resolve } from "node:path";

export const SHARED_DIR = process.env.LAVA_SHARED_DIR ?? resolve(import.meta.dir, "../../../shared");
export const GOLDEN_DIR = join(SHARED_DIR, "golden");
export const SEED_CHAPTER = join(SHARED_DIR, "seed", "lava-installation-and-operation.txt");
