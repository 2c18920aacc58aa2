/**
 * The linux-arm64 executable, cross-compiled from the npm-published Bun runtime, runs `lava version`
 * under qemu-user (Debian: qemu-user-static, with libc6-arm64-cross for the arm64 loader and libc).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileExecutable, runnerFor } from "../../build/compile.ts";
import { targetByName } from "../../build/targets.ts";
import { needs } from "../support/availability.ts";

const REPO = join(import.meta.dir, "..", "..");
const ARM64 = targetByName("linux-arm64");
const qemu = process.platform === "linux" && process.arch === "x64" ? runnerFor(ARM64) : undefined;
const ready =
  needs("qemu-aarch64-static", qemu !== undefined, "apt-get install qemu-user-static") &&
  needs("arm64 libc", existsSync("/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1"), "apt-get install libc6-arm64-cross");

describe.if(ready)("dist: linux-arm64 under qemu", () => {
  let work: string;
  let exe: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "lava-arm64-test-"));
    exe = compileExecutable(ARM64, { version: "5.4.3", bytecode: true, minify: true, entry: join(REPO, "src", "main.ts") }, work);
  }, 120_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("it is an aarch64 ELF and `lava version` prints the baked-in version", () => {
    const head = new Uint8Array(readFileSync(exe).subarray(0, 20));
    expect([...head.subarray(0, 4)]).toEqual([0x7f, 0x45, 0x4c, 0x46]);
    expect(head[18]).toBe(183); // e_machine EM_AARCH64
    const res = Bun.spawnSync([...qemu!, exe, "version"], { stdout: "pipe", stderr: "pipe" });
    expect(res.stderr.toString()).toBe("");
    expect(res.stdout.toString().trim()).toBe("5.4.3");
    expect(res.exitCode).toBe(0);
  }, 60_000);
});
