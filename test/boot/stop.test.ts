/** lava-stop: finding worker processes by command line, and the signal / wait / terminate sequence. */
import { afterEach, describe, expect, test } from "bun:test";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findWorkers, lifecycleArgs, parseSignal, stop, workerArgs, workerFromArgv } from "../../src/cli/commands/stop.ts";
import { memoryLogger } from "../../src/core/log.ts";

describe("lava-stop: which processes are workers", () => {
  test.each([
    [["/usr/local/bin/lava-worker", "--realm", "dev", "--worker", "core", "--daemon"], "dev-core"],
    [["lava-worker", "-rdev", "-wcore"], "dev-core"],
    [["/opt/lava/bin/lava", "worker", "--realm=dev", "--worker=core"], "dev-core"],
    [["/work/node_modules/.bin/bun", "/work/src/main.ts", "worker", "-r", "dev", "-w", "core"], "dev-core"],
    [["/usr/bin/python3", "/usr/local/bin/lava-worker", "-r", "dev", "-w", "core"], "dev-core"],
  ])("%p is worker %s", (argv, label) => {
    const w = workerFromArgv(1, argv as string[]);
    expect(w && `${w.realm}-${w.worker}`).toBe(label as string);
  });

  test.each([
    [["/usr/local/bin/lava-dispatcher", "-r", "dev", "-w", "core"]],
    [["/opt/lava/bin/lava", "stop", "-w", "5m"]],
    [["lava-worker", "--realm", "dev"]], // no worker name: not a running worker
    [["vim", "lava-worker", "-r", "dev", "-w", "core"]],
  ])("%p is not", (argv) => {
    expect(workerFromArgv(1, argv as string[])).toBeUndefined();
  });

  test("the npm shim's child is recognised through LAVA_ARGV0", () => {
    expect(workerArgs(["bun", "/x/src/main.ts", "-r", "a", "-w", "b"], { LAVA_ARGV0: "lava-worker" })).toEqual(["-r", "a", "-w", "b"]);
    expect(workerArgs(["bun", "/x/src/main.ts", "-r", "a", "-w", "b"], {})).toBeUndefined();
  });

  test("bun from npm (node_modules/bun/bin/bun.exe, also on Linux) running src/main.ts worker", () => {
    const argv = ["/w/node_modules/bun/bin/bun.exe", "/w/src/main.ts", "worker", "-r", "a", "-w", "b"];
    expect(workerArgs(argv)).toEqual(["-r", "a", "-w", "b"]);
  });

  test("signals by name or number; bad ones are usage errors", () => {
    expect(parseSignal("HUP")).toBe(1);
    expect(parseSignal("sighup")).toBe(1);
    expect(parseSignal("15")).toBe(15);
    expect(() => parseSignal("SIGNOPE")).toThrow(/unknown signal/);
  });

  test("auto-scaling options must come together", () => {
    expect(lifecycleArgs({})).toBeUndefined();
    expect(() => lifecycleArgs({ group: "g" })).toThrow(/Inconsistent/);
    expect(() => lifecycleArgs({ group: "g", hook: "h" })).toThrow(/At least one of --instance-id/);
    expect(() => lifecycleArgs({ instance: "i-1" })).toThrow(/Inconsistent/);
    expect(lifecycleArgs({ group: "g", hook: "h", instance: "i-1" })).toEqual({ AutoScalingGroupName: "g", LifecycleHookName: "h", InstanceId: "i-1" });
  });
});

describe("lava-stop: on real processes", () => {
  const children: ChildProcess[] = [];
  let dir = "";
  afterEach(() => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
    children.length = 0;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A process whose argv is `lava-worker fixture.sh -r <realm> -w <worker>` (bash exec -a). */
  function fakeWorker(realm: string, worker: string, body: string): ChildProcess {
    const script = join(dir, `${worker}.sh`);
    writeFileSync(script, `${body}\necho ready > "${dir}/${worker}.ready"\nwhile :; do sleep 0.05; done\n`);
    const child = spawn("bash", ["-c", `exec -a lava-worker bash "${script}" -r ${realm} -w ${worker}`], { stdio: "ignore" });
    children.push(child);
    return child;
  }

  async function ready(worker: string) {
    for (let i = 0; i < 100 && !existsSync(join(dir, `${worker}.ready`)); i++) await Bun.sleep(20);
  }

  test("HUP, wait, then SIGTERM and SIGKILL for workers that do not stop; NO_DISPATCH touched", async () => {
    dir = mkdtempSync(join(tmpdir(), "lava-stop-test-"));
    const realm = `stoptest${process.pid}`;
    const polite = fakeWorker(realm, "polite", `trap 'echo hup >> "${dir}/polite.log"; exit 0' HUP`);
    const stubborn = fakeWorker(realm, "stubborn", `trap 'echo hup >> "${dir}/stubborn.log"' HUP; trap 'echo term >> "${dir}/stubborn.log"' TERM`);
    await ready("polite");
    await ready("stubborn");
    const mine = findWorkers().filter((w) => w.realm === realm);
    expect(mine.map((w) => w.worker).sort()).toEqual(["polite", "stubborn"]);

    const log = memoryLogger();
    const noDispatch = join(dir, "tmp-lava", "__nodispatch__");
    process.env.LAVA_NO_DISPATCH = noDispatch;
    try {
      const status = await stop({ signal: 1, waitSeconds: 1, noDispatch: true, log, select: (w) => w.realm === realm, timing: { pollMs: 100, signsOfLifeMs: 300, coupDeGraceMs: 300 } });
      expect(status).toBe(0);
    } finally {
      delete process.env.LAVA_NO_DISPATCH;
    }
    expect(existsSync(noDispatch)).toBe(true);
    await Bun.sleep(200);
    expect(readFileSync(join(dir, "polite.log"), "utf8")).toBe("hup\n");
    expect(readFileSync(join(dir, "stubborn.log"), "utf8")).toBe("hup\nterm\n");
    expect(polite.exitCode).toBe(0);
    expect(stubborn.signalCode).toBe("SIGKILL");
    const messages = log.records.map((r) => r.message).join("\n");
    expect(messages).toContain(`${realm}-polite`);
    expect(messages).toMatch(/stubborn \(\d+\): killing/);
  }, 20_000);
});
