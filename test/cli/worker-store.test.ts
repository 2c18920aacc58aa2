/** `lava worker` whose local realm database is deleted while it runs: it says so and exits 1. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lava, ROOT } from "./run-lava.ts";

let home: string;
let env: Record<string, string>;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), "lava-worker-store-"));
  env = {} as Record<string, string>;
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("LAVA_")) env[k] = v;
  Object.assign(env, { NO_COLOR: "1", LAVA_BACKEND: "local", LAVA_HOME: home, LAVA_TMPDIR: join(home, "tmp") });
  expect((await lava(["realm", "create", "-r", "ref", "-w", "core"], env)).code).toBe(0);
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

test("the database deleted under a running worker: an error line naming it, exit status 1", async () => {
  const proc = Bun.spawn([process.execPath, join(ROOT, "src/main.ts"), "worker", "-r", "ref", "-w", "core", "--root", "--wait", "1", "-s", "0"], {
    cwd: ROOT,
    env,
    stdout: "ignore",
    stderr: "pipe",
  });
  let stderr = "";
  const reading = (async () => {
    for await (const chunk of proc.stderr) stderr += new TextDecoder().decode(chunk);
  })();
  const deadline = Date.now() + 20_000;
  while (!stderr.includes("Worker ready") && Date.now() < deadline) await Bun.sleep(20);
  expect(stderr).toContain("Worker ready");
  for (const f of ["lava.db", "lava.db-wal", "lava.db-shm"]) rmSync(join(home, f), { force: true });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 8000);
  const code = await proc.exited;
  clearTimeout(timer);
  await reading;
  expect(stderr).toContain(`local realm database ${join(home, "lava.db")} was deleted while open`);
  expect(code).toBe(1);
});
