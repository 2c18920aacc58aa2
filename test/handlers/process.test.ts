import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isProcessAlive, ProcessStartError, readHeadOrTail, runProcessGroup, STATUS_TIMEOUT } from "../../src/core/process.ts";
import { findByTag, newPidsFilter, parseProcessTag, PROCESS_TAG_VAR } from "../../src/core/process-tag.ts";
import { forkCounter } from "../../src/core/procfs.ts";
import { eventually, fixture } from "./harness.ts";

const dir = mkdtempSync(join(tmpdir(), "lava-process-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
let n = 0;
function files() {
  n++;
  return { stdout: join(dir, `${n}.out`), stderr: join(dir, `${n}.err`) };
}

function pidsIn(path: string): number[] {
  return readFileSync(path, "utf8").trim().split(/\s+/).map(Number);
}

describe("runProcessGroup", () => {
  test("a normal exit reports the exit status and captures both streams", async () => {
    const f = files();
    const outcome = await runProcessGroup({ argv: ["sh", fixture("exit-code.sh"), "3", "boom"], cwd: dir, env, ...f, timeoutSeconds: 10 });
    expect(outcome).toMatchObject({ kind: "exited", exitStatus: 3 });
    expect(readFileSync(f.stderr, "utf8")).toBe("boom\n");
    expect(readFileSync(f.stdout, "utf8")).toBe("");
  });

  test("the child leads its own process group and has /dev/null as stdin", async () => {
    const f = files();
    const outcome = await runProcessGroup({
      argv: ["sh", "-c", "ps -o pgid= -p $$; ps -o sid= -p $$; echo $$; readlink /proc/$$/fd/0"],
      cwd: dir,
      env,
      ...f,
      timeoutSeconds: 10,
    });
    const [pgid, sid, pid, stdin] = readFileSync(f.stdout, "utf8").trim().split("\n").map((s) => s.trim());
    expect(outcome.kind).toBe("exited");
    expect(Number(pgid)).toBe(Number(pid));
    expect(Number(sid)).toBe(Number(pid));
    expect(Number(pid)).toBe(outcome.pid);
    expect(stdin).toBe("/dev/null");
  });

  test("death by signal is a negative exit status", async () => {
    const outcome = await runProcessGroup({ argv: ["sh", fixture("crash.sh")], cwd: dir, env, ...files(), timeoutSeconds: 10 });
    expect(outcome).toMatchObject({ kind: "exited", exitStatus: -11 });
  });

  test("a missing executable is a start error worded as the original's", async () => {
    const run = runProcessGroup({ argv: ["no-such-command-xyz"], cwd: dir, env, ...files(), timeoutSeconds: 10 });
    await expect(run).rejects.toThrow(ProcessStartError);
    await expect(run).rejects.toThrow("[Errno 2] No such file or directory: 'no-such-command-xyz'");
  });

  test("a script without #! is an exec format error", async () => {
    const script = join(dir, "noshebang");
    writeFileSync(script, "echo hi\n", { mode: 0o755 });
    await expect(runProcessGroup({ argv: [script], cwd: dir, env, ...files(), timeoutSeconds: 10 })).rejects.toThrow(
      `[Errno 8] Exec format error: '${script}'`,
    );
  });

  test("the executable is found on the child's PATH, not the worker's", async () => {
    const bin = mkdtempSync(join(dir, "bin-"));
    writeFileSync(join(bin, "only-here"), "#!/bin/sh\necho found\n", { mode: 0o755 });
    const f = files();
    const outcome = await runProcessGroup({ argv: ["only-here"], cwd: dir, env: { PATH: `${bin}:/usr/bin:/bin` }, ...f, timeoutSeconds: 10 });
    expect(outcome).toMatchObject({ kind: "exited", exitStatus: 0 });
    expect(readFileSync(f.stdout, "utf8")).toBe("found\n");
  });

  test("timeout: a tree that ignores SIGTERM is SIGKILLed after the grace period and nothing survives", async () => {
    const pidFile = join(dir, "tree.pids");
    const outcome = await runProcessGroup({
      argv: ["sh", fixture("fork-ignore-term.sh"), pidFile],
      cwd: dir,
      env,
      ...files(),
      timeoutSeconds: 0.5,
      graceSeconds: 0.3,
    });
    expect(outcome).toMatchObject({ kind: "timedOut", timeoutSeconds: 0.5, killSignal: "SIGKILL" });
    const pids = pidsIn(pidFile);
    expect(pids.length).toBe(2);
    expect(await eventually(() => pids.every((p) => !isProcessAlive(p)), 3000)).toBe(true);
  });

  test("after a normal exit, background children are killed", async () => {
    const pidFile = join(dir, "bg.pid");
    const outcome = await runProcessGroup({ argv: ["sh", fixture("background-child.sh"), pidFile], cwd: dir, env, ...files(), timeoutSeconds: 10 });
    expect(outcome).toMatchObject({ kind: "exited", exitStatus: 0 });
    const [pid] = pidsIn(pidFile);
    expect(await eventually(() => !isProcessAlive(pid!), 3000)).toBe(true);
  });

  test("an abort kills the whole group at once", async () => {
    const pidFile = join(dir, "abort.pids");
    const controller = new AbortController();
    const running = runProcessGroup({
      argv: ["sh", fixture("fork-ignore-term.sh"), pidFile],
      cwd: dir,
      env,
      ...files(),
      timeoutSeconds: 60,
      signal: controller.signal,
    });
    expect(await eventually(() => { try { return pidsIn(pidFile).length === 2; } catch { return false; } })).toBe(true);
    controller.abort();
    expect((await running).kind).toBe("aborted");
    const pids = pidsIn(pidFile);
    expect(await eventually(() => pids.every((p) => !isProcessAlive(p)), 3000)).toBe(true);
  });

  test("timeout: children that left the group (setsid, double fork) and ignore SIGTERM are killed too", async () => {
    const pidFile = join(dir, "escape-timeout.pids");
    const outcome = await runProcessGroup({
      argv: ["sh", fixture("setsid-escape.sh"), pidFile],
      cwd: dir,
      env,
      ...files(),
      timeoutSeconds: 0.5,
      graceSeconds: 0.3,
    });
    expect(outcome).toMatchObject({ kind: "timedOut", killSignal: "SIGKILL" });
    const pids = pidsIn(pidFile);
    expect(pids.length).toBe(2);
    // Gone (or a zombie waiting for init) by the time the step is over, not some time later.
    expect(pids.filter((p) => isProcessAlive(p))).toEqual([]);
  });

  test("after a normal exit, children that left the group are killed", async () => {
    const pidFile = join(dir, "escape-exit.pids");
    const outcome = await runProcessGroup({ argv: ["sh", fixture("setsid-escape.sh"), pidFile, "exit"], cwd: dir, env, ...files(), timeoutSeconds: 10 });
    expect(outcome).toMatchObject({ kind: "exited", exitStatus: 0 });
    const pids = pidsIn(pidFile);
    expect(pids.length).toBe(2);
    expect(pids.filter((p) => isProcessAlive(p))).toEqual([]);
  });

  test("an abort kills children that left the group at once", async () => {
    const pidFile = join(dir, "escape-abort.pids");
    const controller = new AbortController();
    const running = runProcessGroup({ argv: ["sh", fixture("setsid-escape.sh"), pidFile], cwd: dir, env, ...files(), timeoutSeconds: 60, signal: controller.signal });
    expect(await eventually(() => { try { return pidsIn(pidFile).length === 2; } catch { return false; } })).toBe(true);
    controller.abort();
    expect((await running).kind).toBe("aborted");
    expect(pidsIn(pidFile).filter((p) => isProcessAlive(p))).toEqual([]);
  });

  test("each step's processes carry their own tag naming this worker process, realm and worker", async () => {
    const tags: string[] = [];
    for (let i = 0; i < 2; i++) {
      const f = files();
      await runProcessGroup({ argv: ["sh", fixture("env.sh"), PROCESS_TAG_VAR], cwd: dir, env, ...f, timeoutSeconds: 10, owner: { realm: "r1", worker: "w.1" } });
      tags.push(readFileSync(f.stdout, "utf8").trim().slice(PROCESS_TAG_VAR.length + 1));
    }
    expect(tags[0]).not.toBe(tags[1]);
    for (const tag of tags) expect(parseProcessTag(tag)).toMatchObject({ workerPid: process.pid, realm: "r1", worker: "w.1" });
  });

  test("timeout report: SIGTERM time when the tree obeys it, SIGKILL time (after the grace period) when it does not", async () => {
    const obeys = await runProcessGroup({ argv: ["sh", fixture("hang.sh")], cwd: dir, env, ...files(), timeoutSeconds: 0.3, graceSeconds: 5 });
    expect(obeys).toMatchObject({ kind: "timedOut", killSignal: "SIGTERM" });
    if (obeys.kind !== "timedOut") throw new Error("unreachable");
    expect(obeys.killedAfterSeconds).toBeGreaterThanOrEqual(0.29);
    expect(obeys.killedAfterSeconds).toBeLessThan(5);
    const ignores = await runProcessGroup({ argv: ["sh", fixture("fork-ignore-term.sh"), join(dir, "report.pids")], cwd: dir, env, ...files(), timeoutSeconds: 0.3, graceSeconds: 0.5 });
    expect(ignores).toMatchObject({ kind: "timedOut", killSignal: "SIGKILL", timeoutSeconds: 0.3 });
    if (ignores.kind !== "timedOut") throw new Error("unreachable");
    expect(ignores.killedAfterSeconds).toBeGreaterThanOrEqual(0.79);
  });

  test("flooding both streams does not block: everything lands in the files", async () => {
    const f = files();
    const outcome = await runProcessGroup({ argv: ["sh", fixture("flood.sh"), "16"], cwd: dir, env, ...f, timeoutSeconds: 60 });
    expect(outcome).toMatchObject({ kind: "exited", exitStatus: 0 });
    expect(statSync(f.stdout).size).toBe(16 * 1048576);
    expect(statSync(f.stderr).size).toBe(16 * 1048576);
  });

  test("only the given environment reaches the child", async () => {
    const f = files();
    await runProcessGroup({ argv: ["sh", fixture("env.sh"), "ONLY_THIS", "HOME"], cwd: dir, env: { ...env, ONLY_THIS: "x y" }, ...f, timeoutSeconds: 10 });
    expect(readFileSync(f.stdout, "utf8")).toBe("ONLY_THIS=x y\nHOME=<unset>\n");
  });
});

describe("readHeadOrTail", () => {
  const path = join(dir, "ht.txt");
  writeFileSync(path, "0123456789");
  test("head, tail, zero and oversize", () => {
    expect(readHeadOrTail(path, 4)).toBe("0123");
    expect(readHeadOrTail(path, -4)).toBe("6789");
    expect(readHeadOrTail(path, 0)).toBe("");
    expect(readHeadOrTail(path, -100)).toBe("0123456789");
    expect(readHeadOrTail(join(dir, "missing"), 10)).toBe("");
  });
});

test("STATUS_TIMEOUT is the original's 28", () => {
  expect(STATUS_TIMEOUT).toBe(28);
});

describe("newPidsFilter: which pids a step's processes can have", () => {
  const max = 32_768;
  test("no wrap: the pids handed out after the mark, up to the last one", () => {
    const among = newPidsFilter({ forks: 100, lastPid: 5000 }, { forks: 110, lastPid: 5010 }, max)!;
    expect([4999, 5000, 5001, 5010, 5011].map(among)).toEqual([false, false, true, true, false]);
  });
  test("one wrap past pid_max: the top of the range and the bottom after the wrap", () => {
    const among = newPidsFilter({ forks: 100, lastPid: 32_760 }, { forks: 120, lastPid: 310 }, max)!;
    expect([32_760, 32_761, 32_767, 300, 310, 311, 5000].map(among)).toEqual([false, true, true, true, true, false, false]);
  });
  test("nothing forked since the mark: no candidate at all", () => {
    const among = newPidsFilter({ forks: 100, lastPid: 5000 }, { forks: 100, lastPid: 5000 }, max)!;
    expect([4000, 5000, 5001].map(among)).toEqual([false, false, false]);
  });
  test("so many forks that the counter may have lapped, or no counter now: every pid is read", () => {
    expect(newPidsFilter({ forks: 100, lastPid: 5000 }, { forks: 100 + max / 2, lastPid: 5001 }, max)).toBeUndefined();
    expect(newPidsFilter({ forks: 100, lastPid: 5000 }, undefined, max)).toBeUndefined();
  });
  test("a step's process is found through the window that starts before it, and not through a later one", async () => {
    const before = forkCounter();
    if (!before) throw new Error("this test needs /proc");
    const tag = `${process.pid}.1.999999/window/test`;
    const child = Bun.spawn(["sleep", "5"], { env: { ...process.env, [PROCESS_TAG_VAR]: tag } });
    try {
      await eventually(() => findByTag(tag).length === 1);
      expect(findByTag(tag, before).map((p) => p.pid)).toEqual([child.pid]);
      // A mark taken after the spawn leaves the child out: the window is what makes the search cheap.
      expect(findByTag(tag, forkCounter()).map((p) => p.pid)).toEqual([]);
    } finally {
      child.kill("SIGKILL");
      await child.exited;
    }
  });
});
