/** The whole tree type-checks (`tsc --noEmit` with tsconfig.json), as part of the README's test command. */
import { expect, test } from "bun:test";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");

test("tsc --noEmit reports no type errors", () => {
  const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
  const r = Bun.spawnSync([process.execPath, tsc, "--noEmit", "-p", ROOT], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const out = `${r.stdout.toString()}${r.stderr.toString()}`;
  expect(out.trim()).toBe("");
  expect(r.exitCode).toBe(0);
}, 120_000);
