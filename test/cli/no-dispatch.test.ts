/**
 * `lava dispatcher --check-dispatch`: the NO_DISPATCH flag (default /tmp/lava/__nodispatch__) lives where
 * other users can write, so only one made by this user or root suppresses dispatch. Run as root here,
 * "another user" is a file chowned to nobody (65534).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chownSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lava } from "./run-lava.ts";

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

let home: string;
let flag: string;
let env: Record<string, string | undefined>;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), "lava-nodispatch-"));
  flag = join(home, "__nodispatch__");
  env = { LAVA_BACKEND: "local", LAVA_HOME: home, LAVA_NO_DISPATCH: flag, LAVA_ARGV0: undefined, LAVA_REALM: undefined, LAVA_LOGLEVEL: undefined };
  const r = await lava(["realm", "create", "-r", "ref", "-w", "core"], env);
  expect(r.code).toBe(0);
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

const dispatch = () => lava(["dispatcher", "-r", "ref", "-w", "core", "--check-dispatch", "ref/job"], env);

test("a flag made by this user suppresses dispatch", async () => {
  writeFileSync(flag, "");
  const r = await dispatch();
  expect(r.code).toBe(0);
  expect(r.stderr).toContain(`Dispatch suppressed by presence of ${flag}`);
  expect(r.stderr).not.toContain("dispatched");
  rmSync(flag);
});

test.if(isRoot)("a flag planted by another user is ignored, with a warning naming its owner", async () => {
  writeFileSync(flag, "");
  chownSync(flag, NOBODY, NOBODY);
  const r = await dispatch();
  expect(r.stderr).toContain(`Ignoring ${flag}: owned by uid ${NOBODY}`);
  expect(r.stderr).toContain("ref/job@ref dispatched");
  expect(r.code).toBe(0);
  rmSync(flag);
});
