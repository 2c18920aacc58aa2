/**
 * The start-up clean-up after dead workers (src/core/orphans.ts) on real processes and directories: which
 * tagged processes count as orphans, which `<worker>.<pid>` dirs are removed, and what is never touched.
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { memoryLogger } from "../../src/core/log.ts";
import { cleanUpAfterDeadWorkers, killOrphans, OWNER_FILE, removeDeadWorkerDirs } from "../../src/core/orphans.ts";
import { isProcessAlive } from "../../src/core/process.ts";
import { PROCESS_TAG_VAR } from "../../src/core/process-tag.ts";
import { procStat } from "../../src/core/procfs.ts";

const root = mkdtempSync(join(tmpdir(), "lava-orphans-unit-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const ownTicks = procStat(process.pid)!.startTicks;
const started: Bun.Subprocess[] = [];
afterEach(() => {
  for (const p of started.splice(0)) p.kill("SIGKILL");
});

/** A pid no process has any more. */
async function deadPid(): Promise<number> {
  const p = Bun.spawn(["true"]);
  await p.exited;
  return p.pid;
}

function tagged(tag: string, extra: Record<string, string> = {}): Bun.Subprocess {
  const p = Bun.spawn(["sleep", "100000"], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", [PROCESS_TAG_VAR]: tag, ...extra } });
  started.push(p);
  return p;
}

async function settled(): Promise<void> {
  // Lets a fresh child exec so its environment shows in /proc.
  await Bun.sleep(100);
}

describe("killOrphans", () => {
  test("kills the processes of a dead worker of the realm, and of a worker whose pid now names another process", async () => {
    const log = memoryLogger();
    const dead = tagged(`${await deadPid()}.123.1/r1/w`, { LAVA_JOB_ID: "j/1", LAVA_RUN_ID: "run-1" });
    const reused = tagged(`${process.pid}.${ownTicks + 1}.7/r1/other`);
    await settled();
    const killed = await killOrphans("r1", 0.2, log);
    expect(killed.sort()).toEqual([dead.pid, reused.pid].sort());
    await Promise.all([dead.exited, reused.exited]);
    expect(isProcessAlive(dead.pid)).toBe(false);
    const warning = log.records.find((r) => String(r.message).includes("of job j/1 (run-1) left running by dead worker w"));
    expect(warning).toMatchObject({ level: "WARNING", fields: { job_id: "j/1", run_id: "run-1" } });
  });

  test("leaves a live worker's processes, other realms' and untagged ones alone", async () => {
    const live = tagged(`${process.pid}.${ownTicks}.1/r1/w`);
    const otherRealm = tagged(`${await deadPid()}.1.1/r2/w`);
    const malformed = tagged("not a tag");
    await settled();
    expect(await killOrphans("r1", 0.2, memoryLogger())).toEqual([]);
    for (const p of [live, otherRealm, malformed]) expect(isProcessAlive(p.pid)).toBe(true);
  });

  test("a process ignoring SIGTERM is SIGKILLed after the grace period", async () => {
    const tag = `${await deadPid()}.5.1/r3/w`;
    const p = Bun.spawn(["sh", "-c", "trap '' TERM; exec sleep 100000"], { env: { PATH: process.env.PATH ?? "", [PROCESS_TAG_VAR]: tag } });
    started.push(p);
    await settled();
    expect(await killOrphans("r3", 0.3, memoryLogger())).toEqual([p.pid]);
    expect(await p.exited).not.toBe(0);
    expect(p.signalCode).toBe("SIGKILL");
  });
});

describe("removeDeadWorkerDirs", () => {
  test("removes <worker>.<pid> dirs of dead workers; keeps live ones, our own, other shapes and symlinks", async () => {
    const realmTmp = join(root, "dirs", "realm");
    mkdirSync(realmTmp, { recursive: true });
    const mk = (name: string, owner?: string): string => {
      const dir = join(realmTmp, name);
      mkdirSync(join(dir, "some-run-id"), { recursive: true });
      if (owner !== undefined) writeFileSync(join(dir, OWNER_FILE), owner);
      return dir;
    };
    const gone = await deadPid();
    const own = mk(`core.${process.pid}`);
    mk(`core.${gone}`); // no owner file, no such pid
    mk(`other.${gone}`, `${gone} 99\n`);
    mk(`reused.${process.pid}`, `${process.pid} ${ownTicks + 1}\n`); // an earlier process with our pid
    mk(`parent.${process.ppid}`); // pid alive, no owner file: kept (the pid may still be its worker)
    mk(`live.${process.ppid}`, `${process.ppid} ${procStat(process.ppid)!.startTicks}\n`);
    mk("not-a-worker-dir");
    mk(`file.${gone}x`);
    writeFileSync(join(realmTmp, `plain.${gone}`), "a file, not a dir");
    symlinkSync(join(root, "dirs"), join(realmTmp, `link.${gone}`));
    const removed = removeDeadWorkerDirs(own, memoryLogger());
    expect(removed.map((p) => p.slice(realmTmp.length + 1)).sort()).toEqual([`core.${gone}`, `other.${gone}`, `reused.${process.pid}`].sort());
    expect(readdirSync(realmTmp).sort()).toEqual(
      [`core.${process.pid}`, `parent.${process.ppid}`, `live.${process.ppid}`, "not-a-worker-dir", `file.${gone}x`, `plain.${gone}`, `link.${gone}`].sort(),
    );
    expect(existsSync(join(root, "dirs"))).toBe(true);
  });
});

describe("cleanUpAfterDeadWorkers", () => {
  test("empties our own tmp dir (left by an earlier process with our pid) and marks it as ours", async () => {
    const own = join(root, "own", "realm", `core.${process.pid}`);
    mkdirSync(join(own, "stale-run"), { recursive: true });
    writeFileSync(join(own, ".heartbeat"), "");
    await cleanUpAfterDeadWorkers({ realm: "r9", ownTmp: own, graceSeconds: 0, log: memoryLogger() });
    expect(readdirSync(own)).toEqual([OWNER_FILE]);
    // A later worker reads the file and sees this (live) process: the dir is kept.
    expect(removeDeadWorkerDirs(join(root, "own", "realm", "next.1"), memoryLogger())).toEqual([]);
  });
});
