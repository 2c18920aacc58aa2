/**
 * The README's "Payloads and outputs on the local backend": a payload copied by hand under
 * `$LAVA_HOME/objects/<bucket>/payloads/` runs as an exe job, and its output lands under `tmp/`.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lava } from "./run-lava.ts";

let home: string;
let env: Record<string, string | undefined>;

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), "lava-payload-"));
  env = {
    LAVA_BACKEND: "local",
    LAVA_HOME: home,
    LAVA_TMPDIR: join(home, "run"),
    LAVA_ARGV0: undefined,
    LAVA_REALM: undefined,
    LAVA_LOGLEVEL: undefined,
  };
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

test("an exe payload copied into the local object tree runs; its stdout is under tmp/<job_id>/<run_id>/", async () => {
  expect((await lava(["realm", "create", "-r", "dev", "-w", "core"], env)).code).toBe(0);
  const dir = join(home, "objects", "lava-dev", "payloads", "team");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "hello.sh"), '#!/bin/sh\necho "hello $1"\n');
  chmodSync(join(dir, "hello.sh"), 0o755);
  const job = join(home, "job.yaml");
  writeFileSync(
    job,
    "job_id: team/hello\ntype: exe\nworker: core\nenabled: true\nowner: me\ndescription: d\npayload: team/hello.sh\nparameters: { args: [world] }\n",
  );
  expect((await lava(["put", "job", "-r", "dev", job], env)).code).toBe(0);
  const d = await lava(["dispatcher", "-r", "dev", "team/hello"], env);
  expect(d.code).toBe(0);
  const runId = /dispatched \(([0-9a-f-]+)\)/.exec(d.stderr)?.[1];
  expect(runId).toBeDefined();
  const w = await lava(["worker", "-r", "dev", "-w", "core", "--root", "--batch", "--wait", "0", "-s", "0"], env);
  expect(w.code).toBe(0);
  const out = join(home, "objects", "lava-dev", "tmp", "team", "hello", runId!);
  expect(readdirSync(out)).toEqual(["hello.sh.stdout"]);
  expect(readFileSync(join(out, "hello.sh.stdout"), "utf8")).toBe("hello world\n");
}, 30_000);
