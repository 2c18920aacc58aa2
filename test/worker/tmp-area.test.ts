/**
 * The worker's tmp area `<TMPDIR>/<realm>/<worker>.<pid>` (TMPDIR /tmp/lava by default) sits where other
 * users can write: start() checks every level and refuses one another user could control.
 * Run as root here, "another user" is a directory chowned to nobody (65534).
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { UnsafeDirectoryError } from "../../src/core/private-dir.ts";
import { localRealm, makeWorker, type LocalRealm } from "./support.ts";

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

let realm: LocalRealm;
beforeEach(async () => {
  realm = await localRealm();
});
afterEach(async () => {
  await realm.close();
});

async function startError(tmp: string): Promise<unknown> {
  const { worker } = makeWorker(realm.ports, tmp);
  return worker.start().then(
    () => undefined,
    (err: unknown) => err,
  );
}

test.if(isRoot)("a TMPDIR another user created first is refused; the worker puts nothing in it", async () => {
  mkdirSync(realm.tmp, { mode: 0o777 });
  chmodSync(realm.tmp, 0o777);
  chownSync(realm.tmp, NOBODY, NOBODY);
  const err = await startError(realm.tmp);
  expect(err).toBeInstanceOf(UnsafeDirectoryError);
  expect((err as Error).message).toContain(`owned by uid ${NOBODY}`);
  expect(readdirSync(realm.tmp)).toEqual([]);
});

test("a realm level swapped for a symlink is refused; the link's target is untouched", async () => {
  const elsewhere = join(realm.home, "elsewhere");
  mkdirSync(elsewhere, { mode: 0o700 });
  mkdirSync(realm.tmp, { mode: 0o700 });
  symlinkSync(elsewhere, join(realm.tmp, "ref"));
  const err = await startError(realm.tmp);
  expect(err).toBeInstanceOf(UnsafeDirectoryError);
  expect(readdirSync(elsewhere)).toEqual([]);
});

test("every level is private after start; a world-writable TMPDIR of ours is tightened, with a warning", async () => {
  mkdirSync(realm.tmp);
  chmodSync(realm.tmp, 0o1777);
  const { worker, log } = makeWorker(realm.ports, realm.tmp);
  await worker.start();
  expect(worker.workerTmp).toBe(join(realm.tmp, "ref", `core.${process.pid}`));
  for (const p of [realm.tmp, join(realm.tmp, "ref"), worker.workerTmp]) expect(lstatSync(p).mode & 0o7777).toBe(0o700);
  expect(log.records.some((r) => r.level === "WARNING" && r.message.includes(`${realm.tmp} was mode 01777`))).toBe(true);
  await worker.cleanup();
  expect(existsSync(worker.workerTmp)).toBe(false);
});
