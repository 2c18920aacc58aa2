/** Heartbeat record, worker metrics, pidfile and daemon mode. */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Heartbeat } from "../../src/core/worker/heartbeat.ts";
import { WorkerMetrics } from "../../src/core/worker/metrics.ts";
import { acquirePidfile, pidfileName } from "../../src/core/worker/daemon.ts";
import { haveGolden } from "../support/shared.ts";
import { GOLDEN, localRealm, makeWorker, type LocalRealm } from "./support.ts";

let realm: LocalRealm;
beforeEach(async () => {
  realm = await localRealm();
});
afterEach(async () => {
  await realm.close();
});

test.if(haveGolden())("heartbeat: the original's record layout, and the heartbeat file is touched", async () => {
  const { worker, log } = makeWorker(realm.ports, realm.tmp, { threads: 5 });
  await worker.start();
  const hb = new Heartbeat(worker, 30, {
    threads: () => ({ event: "OK", "worker-00": "OK", heartbeat: "OK" }),
    deferredTasks: () => 1,
  });
  hb.start();
  while (hb.beats < 1) await Bun.sleep(10);
  hb.stop();
  const golden = (await Bun.file(join(GOLDEN, "heartbeat.json")).json()) as Record<string, unknown>[];
  const rec = log.records.find((r) => r.fields.event_type === "heartbeat")!;
  expect(rec.message).toBe("heartbeat realm=ref worker=core");
  expect(rec.level).toBe("INFO");
  for (const k of ["sqs", "internal", "threads", "deferred_tasks"]) expect(Object.keys(rec.fields)).toContain(k);
  expect(Object.keys(rec.fields.sqs as object)).toEqual(Object.keys(golden[0]!.sqs as object));
  expect(Object.keys(rec.fields.internal as object)).toEqual(Object.keys(golden[0]!.internal as object));
  expect(rec.fields.sqs).toEqual({ messages: 0, notvisible: 0 });
  expect(existsSync(join(worker.workerTmp, ".heartbeat"))).toBe(true);
  await worker.cleanup();
});

const BASE_METRICS = [
  "WorkerThreadsAlive",
  "WorkerThreadsDead",
  "MaxRss",
  "PercentDiskUsed",
  "PercentTmpDiskUsed",
  "PercentMemUsed",
  "PercentSwapUsed",
];

test("worker metrics: the original's names, units and dimensions (no docker root dir: no docker metric)", async () => {
  const { worker } = makeWorker(realm.ports, realm.tmp, { threads: 3 });
  await worker.start();
  const m = new WorkerMetrics(worker, 60, "node-1", () => ({ alive: 3, dead: 0 }), { firstDelayMs: 0, dockerRoot: join(realm.home, "no-docker") });
  const data = await m.collect();
  expect(data.map((d) => d.name)).toEqual(BASE_METRICS);
  expect(data[0]).toMatchObject({ value: 3, unit: "Count", dimensions: { Realm: "ref", Worker: "core", Instance: "node-1" } });
  for (const d of data.slice(3)) expect(d.value).toBeGreaterThanOrEqual(0);
  await worker.cleanup();
});

test("worker metrics: PercentDockerDiskUsed when the docker root dir exists locally", async () => {
  const { worker } = makeWorker(realm.ports, realm.tmp, { threads: 1 });
  await worker.start();
  const dockerRoot = mkdtempSync(join(realm.home, "docker-"));
  const data = await new WorkerMetrics(worker, 60, "node-1", () => ({ alive: 1, dead: 0 }), { firstDelayMs: 0, dockerRoot }).collect();
  expect(data.map((d) => d.name)).toEqual([...BASE_METRICS, "PercentDockerDiskUsed"]);
  const docker = data.at(-1)!;
  expect(docker).toMatchObject({ unit: "Percent", dimensions: { Realm: "ref", Worker: "core", Instance: "node-1" } });
  // The injected dir shares the worker tmp dir's file system, so its figure is PercentTmpDiskUsed's (give or take a write between the two reads).
  const tmpDisk = data.find((d) => d.name === "PercentTmpDiskUsed")!;
  expect(Math.abs(docker.value - tmpDisk.value)).toBeLessThanOrEqual(1);
  expect(docker.value).toBeLessThanOrEqual(100);
  await worker.cleanup();
});

test("pidfile: exclusive while its holder lives, replaced when the holder is dead", () => {
  const dir = mkdtempSync(join(tmpdir(), "lava-pid-"));
  const path = join(dir, pidfileName("ref", "a/b"));
  expect(path).toEndWith("ref.a-b.pid");
  const release = acquirePidfile(path);
  expect(release).toBeDefined();
  expect(acquirePidfile(path, 999_999)).toBeUndefined();
  release!();
  expect(existsSync(path)).toBe(false);
  writeFileSync(path, "999999\n"); // a dead holder
  const again = acquirePidfile(path);
  expect(readFileSync(path, "utf8").trim()).toBe(String(process.pid));
  again!();
  rmSync(dir, { recursive: true, force: true });
});

test("--daemon: detaches, holds the pidfile, a second daemon exits quietly, SIGHUP stops it", async () => {
  const cwd = mkdtempSync(join(tmpdir(), "lava-daemon-"));
  const env = { ...process.env, LAVA_BACKEND: "local", LAVA_HOME: realm.home, LAVA_TMPDIR: realm.tmp };
  const main = join(import.meta.dir, "../../src/main.ts");
  const args = [process.execPath, main, "worker", "-r", "ref", "-w", "core", "--root", "-d", "--wait", "1", "-s", "0"];
  const parent = Bun.spawnSync(args, { cwd, env });
  expect(parent.exitCode).toBe(0);
  const pidfile = join(cwd, "ref.core.pid");
  const deadline = Date.now() + 10_000;
  while (!existsSync(pidfile) && Date.now() < deadline) await Bun.sleep(50);
  const pid = Number(readFileSync(pidfile, "utf8").trim());
  expect(pid).toBeGreaterThan(0);
  expect(Bun.spawnSync(args, { cwd, env }).exitCode).toBe(0);
  await Bun.sleep(1000);
  expect(Number(readFileSync(pidfile, "utf8").trim())).toBe(pid);
  process.kill(pid, "SIGHUP");
  while (existsSync(pidfile) && Date.now() < deadline + 10_000) await Bun.sleep(50);
  expect(existsSync(pidfile)).toBe(false);
  rmSync(cwd, { recursive: true, force: true });
}, 30_000);
