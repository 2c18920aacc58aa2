/** The README's first command: `lava demo` runs the example jobs end to end on a local realm. */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const home = mkdtempSync(join(tmpdir(), "lava-demo-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

test("lava demo creates a realm, runs every example job and shows events and outputs", async () => {
  const main = join(import.meta.dir, "../../src/main.ts");
  const proc = Bun.spawn([process.execPath, main, "demo", "--home", home], { stdout: "pipe", stderr: "pipe", env: { ...process.env, LAVA_BACKEND: "" } });
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  expect(code).toBe(0);
  expect(out).toMatch(/demo\/hello run [0-9a-f-]{36}: starting -> running -> complete/);
  expect(out).toMatch(/demo\/uname run [0-9a-f-]{36}: starting -> running -> complete/);
  expect(out).toMatch(/demo\/greet run [0-9a-f-]{36}: starting -> running -> complete/);
  expect(out).toMatch(/Hello from demo\/greet on \w+day \d\d \w+ \d{4} iteration 1/);
  // Enabled by a template that renders false: the worker records the run as skipped.
  expect(out).toMatch(/demo\/disabled run [0-9a-f-]{36}: starting -> skipped/);
}, 120_000);
