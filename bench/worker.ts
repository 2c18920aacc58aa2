/**
 * Worker benchmarks, for both backends (local; aws on dynalite + fauxqs). Prints figures; asserts nothing.
 *
 *   bun bench/worker.ts [--jobs 1000] [--backend local|aws|both] [--only running-burst]
 *
 * - throughput: N `log` jobs, then N `cmd true` jobs, dispatched in a burst, one `lava worker --batch -t 10`
 * - burst into a running worker: `lava worker -t 10 --wait 20 -s 0` started and ready (idle, long poll), then N
 *   `log` jobs sent as fast as possible; timed from just before the first send until the worker's log shows the
 *   Nth "Starting" line (and, for reference, the Nth "Complete" line)
 * - dispatch-to-start latency (p50/p95) with an idle worker (long poll), from send to the "Starting" log line
 * - worker RSS when idle and after the N-job runs
 * - cold start of `lava dispatcher` (wall, peak RSS via /usr/bin/time -v when present)
 * - AWS requests per trivial job (in-process worker on the aws ports' request counter)
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Ports } from "../src/ports/index.ts";
import { openLocalPorts } from "../src/adapters/local/index.ts";
import { createRealm } from "../src/core/realm-setup.ts";
import { realmTable } from "../src/core/names.ts";
import { silentLogger } from "../src/core/log.ts";
import { buildDispatchMessage, dispatchMessageBody } from "../src/core/dispatch.ts";
import { LavaConfig } from "../src/core/config.ts";
import { Worker } from "../src/core/worker/worker.ts";
import { findActionKind, findJobType } from "../src/core/worker/plugins.ts";
import { loadState } from "../src/core/state.ts";
import { childEnv, startAwsEmulators } from "../test/support/emulators.ts";

const ROOT = join(import.meta.dir, "..");
const MAIN = join(ROOT, "src", "main.ts");
const argv = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
};
const N = Number(flag("jobs", "1000"));
const which = flag("backend", "both");
// `--only running-burst` runs just the burst-into-a-running-worker figure.
const only = flag("only", "all");
const QUEUE = "lava-ref-core";

interface Setup {
  name: string;
  ports: Ports;
  env: Record<string, string>;
  tmp: string;
  close(): Promise<void>;
}

async function seed(ports: Ports): Promise<void> {
  await createRealm(ports, { realm: "ref", workers: ["core"], bucket: "lava-ref" }, silentLogger());
  const jobs = realmTable("ref", "jobs");
  await ports.tables.put(jobs, { job_id: "ref/log", type: "log", worker: "core", payload: null, enabled: true, owner: "b", description: "b" });
  await ports.tables.put(jobs, { job_id: "ref/true", type: "cmd", worker: "core", payload: "true", enabled: true, owner: "b", description: "b" });
}

function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("LAVA_") && !k.startsWith("AWS_")) env[k] = v;
  return env;
}

async function localSetup(): Promise<Setup> {
  const home = mkdtempSync(join(tmpdir(), "lava-bench-"));
  const ports = await openLocalPorts({ home });
  await seed(ports);
  return {
    name: "local",
    ports,
    env: { ...baseEnv(), LAVA_BACKEND: "local", LAVA_HOME: home, LAVA_TMPDIR: join(home, "tmp"), LAVA_LOGLEVEL: "warning" },
    tmp: join(home, "tmp"),
    async close() {
      await ports.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

async function awsSetup(): Promise<Setup> {
  const emulators = await startAwsEmulators();
  const { openAwsPorts } = await import("../src/adapters/aws/index.ts");
  const ports = await openAwsPorts({ env: emulators.env });
  await seed(ports);
  const tmp = mkdtempSync(join(tmpdir(), "lava-bench-aws-"));
  return {
    name: "aws",
    ports,
    env: { ...childEnv(emulators), LAVA_TMPDIR: tmp, LAVA_LOGLEVEL: "warning" },
    tmp,
    async close() {
      await ports.close();
      await emulators.stop();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

async function burst(ports: Ports, jobId: string, n: number): Promise<void> {
  const bodies = Array.from({ length: n }, () => dispatchMessageBody(buildDispatchMessage({ realm: "ref", worker: "core", jobId })));
  const chunks: Promise<string[]>[] = [];
  for (let i = 0; i < bodies.length; i += 10) chunks.push(ports.queues.sendBatch(QUEUE, bodies.slice(i, i + 10).map((body) => ({ body }))));
  await Promise.all(chunks);
}

function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : -1;
  } catch {
    return -1;
  }
}

function spawnWorker(s: Setup, args: string[], level = "warning") {
  return Bun.spawn([process.execPath, MAIN, "worker", "-r", "ref", "-w", "core", "--root", "--log-json", "-l", level, ...args], {
    cwd: ROOT,
    env: s.env,
    stdout: "ignore",
    stderr: "pipe",
  });
}

async function throughput(s: Setup, jobId: string): Promise<{ rate: number; seconds: number; peakRssKiB: number }> {
  await burst(s.ports, jobId, N);
  const t0 = performance.now();
  const proc = spawnWorker(s, ["--batch", "--wait", "1", "-t", "10"]);
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssKiB(proc.pid))), 100);
  const errText = new Response(proc.stderr).text();
  const code = await proc.exited;
  clearInterval(sampler);
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0) console.error(`worker exited ${code}: ${(await errText).slice(-2000)}`);
  return { rate: N / seconds, seconds, peakRssKiB: peak };
}

/** Collects the worker's stderr lines as they arrive, with the arrival time of each. */
function collectLines(stream: ReadableStream<Uint8Array>, onLine: (line: string, at: number) => void): Promise<void> {
  return (async () => {
    const decoder = new TextDecoder();
    let buf = "";
    for await (const chunk of stream) {
      const at = performance.now();
      buf += decoder.decode(chunk, { stream: true });
      const parts = buf.split("\n");
      buf = parts.pop()!;
      for (const line of parts) onLine(line, at);
    }
    if (buf) onLine(buf, performance.now());
  })();
}

interface RunningBurst {
  startRate: number;
  startSeconds: number;
  completeSeconds: number;
  exitCode: number;
}

/** N `log` jobs sent as fast as possible into a ready, idle, long-polling worker. */
async function runningBurst(s: Setup): Promise<RunningBurst> {
  const proc = spawnWorker(s, ["-t", "10", "--wait", "20", "-s", "0"], "info");
  const runIds = new Set<string>();
  let ready = false;
  let started = 0;
  let completed = 0;
  let lastStartAt = NaN;
  let lastCompleteAt = NaN;
  const tail: string[] = [];
  const reader = collectLines(proc.stderr, (line, at) => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
    if (!line.startsWith("{")) return;
    const rec = JSON.parse(line) as { message?: string; run_id?: string };
    if (rec.message === "Worker ready ...") ready = true;
    if (!rec.run_id || !runIds.has(rec.run_id)) return;
    if (rec.message?.endsWith("): Starting") && ++started === N) lastStartAt = at;
    if (rec.message?.endsWith("): Complete") && ++completed === N) lastCompleteAt = at;
  });
  const deadline = performance.now() + 60_000;
  while (!ready && proc.exitCode === null && performance.now() < deadline) await Bun.sleep(20);
  if (!ready) {
    proc.kill("SIGHUP");
    await proc.exited;
    throw new Error(`worker never logged ready: ${tail.join("\n")}`);
  }
  const bodies = Array.from({ length: N }, () => {
    const msg = buildDispatchMessage({ realm: "ref", worker: "core", jobId: "ref/log" });
    runIds.add(msg.run_id);
    return dispatchMessageBody(msg);
  });
  const t0 = performance.now();
  const sends: Promise<string[]>[] = [];
  for (let i = 0; i < bodies.length; i += 10) sends.push(s.ports.queues.sendBatch(QUEUE, bodies.slice(i, i + 10).map((body) => ({ body }))));
  await Promise.all(sends);
  const limit = performance.now() + 300_000;
  while (completed < N && proc.exitCode === null && performance.now() < limit) await Bun.sleep(20);
  proc.kill("SIGHUP");
  const exitCode = await proc.exited;
  await reader;
  if (completed < N) console.error(`running worker: only ${started} started, ${completed} complete of ${N}; log tail:\n${tail.join("\n")}`);
  const startSeconds = (lastStartAt - t0) / 1000;
  return { startRate: N / startSeconds, startSeconds, completeSeconds: (lastCompleteAt - t0) / 1000, exitCode };
}

async function latencyAndIdleRss(s: Setup): Promise<{ p50: number; p95: number; idleRssKiB: number; afterRssKiB: number }> {
  const proc = spawnWorker(s, ["--wait", "20", "-s", "0", "-t", "5"], "info");
  const lines: string[] = [];
  const reader = (async () => {
    const decoder = new TextDecoder();
    let buf = "";
    for await (const chunk of proc.stderr) {
      buf += decoder.decode(chunk);
      const parts = buf.split("\n");
      buf = parts.pop()!;
      lines.push(...parts);
    }
  })();
  while (!lines.some((l) => l.includes("Worker ready"))) await Bun.sleep(50);
  await Bun.sleep(1500);
  const idleRssKiB = rssKiB(proc.pid);
  const sentAt = new Map<string, number>();
  for (let i = 0; i < 40; i++) {
    const msg = buildDispatchMessage({ realm: "ref", worker: "core", jobId: "ref/log" });
    sentAt.set(msg.run_id, Date.now());
    await s.ports.queues.send(QUEUE, dispatchMessageBody(msg));
    await Bun.sleep(150);
  }
  await Bun.sleep(1500);
  const afterRssKiB = rssKiB(proc.pid);
  proc.kill("SIGHUP");
  await proc.exited;
  await reader;
  const delays: number[] = [];
  for (const l of lines) {
    if (!l.startsWith("{")) continue;
    const rec = JSON.parse(l) as { message?: string; run_id?: string; timestamp?: string };
    if (!rec.message?.endsWith("): Starting") || !rec.run_id || !sentAt.has(rec.run_id)) continue;
    delays.push(Date.parse(rec.timestamp!.replace(/(\.\d{3})\d+/, "$1")) - sentAt.get(rec.run_id)!);
  }
  delays.sort((a, b) => a - b);
  const pct = (p: number): number => delays[Math.min(delays.length - 1, Math.floor((p / 100) * delays.length))] ?? NaN;
  return { p50: pct(50), p95: pct(95), idleRssKiB, afterRssKiB };
}

async function requestsPerJob(s: Setup): Promise<number | undefined> {
  const ports = s.ports as Ports & { requestCount?: () => number; resetStats?: () => void };
  if (!ports.requestCount || !ports.resetStats) return undefined;
  const n = 50;
  await burst(s.ports, "ref/log", n);
  const worker = new Worker(
    { realm: "ref", worker: "core", threads: 5, waitSeconds: 0, sleepSeconds: 0, retries: 2, heartbeatSeconds: 0, batch: true, dev: false },
    {
      ports: s.ports,
      log: silentLogger(),
      makeConfig: (c) => new LavaConfig(c, { LAVA_TMPDIR: s.tmp }),
      jobType: findJobType,
      actionKind: findActionKind,
      loadState,
      hostname: "bench",
      instanceId: null,
      pid: process.pid,
    },
  );
  await worker.start();
  ports.resetStats();
  await worker.run();
  const total = ports.requestCount();
  await worker.cleanup();
  // The batch worker's final empty poll is shared overhead, not per job.
  return (total - 1) / n;
}

async function dispatcherColdStart(s: Setup): Promise<string> {
  const cmd = [process.execPath, MAIN, "dispatcher", "-r", "ref", "ref/log"];
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const p = Bun.spawnSync(cmd, { cwd: ROOT, env: s.env, stdout: "ignore", stderr: "ignore" });
    times.push(performance.now() - t0);
    if (p.exitCode !== 0) return `dispatcher failed (${p.exitCode})`;
  }
  times.sort((a, b) => a - b);
  let peak = "n/a";
  if (Bun.file("/usr/bin/time").size > 0) {
    const p = Bun.spawnSync(["/usr/bin/time", "-v", ...cmd], { cwd: ROOT, env: s.env, stdout: "ignore", stderr: "pipe" });
    const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(p.stderr.toString());
    if (m) peak = `${(Number(m[1]) / 1024).toFixed(1)} MiB`;
  }
  // Drain what the cold-start runs sent.
  for (;;) {
    const got = await s.ports.queues.receive(QUEUE, { maxMessages: 10 });
    if (got.length === 0) break;
    for (const m of got) await s.ports.queues.delete(QUEUE, m.receiptHandle);
  }
  return `median ${times[2]!.toFixed(0)} ms (min ${times[0]!.toFixed(0)} ms), peak RSS ${peak}`;
}

function printRunningBurst(r: RunningBurst): void {
  console.log(
    `log jobs into a running worker (-t 10, ready first): ${r.startRate.toFixed(1)} jobs/s (${r.startSeconds.toFixed(2)} s to the ${N}th start, ` +
      `${r.completeSeconds.toFixed(2)} s to the ${N}th complete), worker exit ${r.exitCode} on SIGHUP`,
  );
}

async function benchOne(make: () => Promise<Setup>): Promise<void> {
  const s = await make();
  try {
    console.log(`\n== backend ${s.name} (${N} jobs per burst) ==`);
    if (only === "running-burst") {
      printRunningBurst(await runningBurst(s));
      return;
    }
    const log = await throughput(s, "ref/log");
    console.log(`log jobs:  ${log.rate.toFixed(1)} jobs/s (${log.seconds.toFixed(1)} s), worker peak RSS ${(log.peakRssKiB / 1024).toFixed(1)} MiB`);
    const cmd = await throughput(s, "ref/true");
    console.log(`cmd true:  ${cmd.rate.toFixed(1)} jobs/s (${cmd.seconds.toFixed(1)} s), worker peak RSS ${(cmd.peakRssKiB / 1024).toFixed(1)} MiB`);
    printRunningBurst(await runningBurst(s));
    const lat = await latencyAndIdleRss(s);
    console.log(`dispatch-to-start latency (idle worker, 40 jobs): p50 ${lat.p50} ms, p95 ${lat.p95} ms`);
    console.log(`worker RSS: idle ${(lat.idleRssKiB / 1024).toFixed(1)} MiB, after 40 jobs ${(lat.afterRssKiB / 1024).toFixed(1)} MiB`);
    console.log(`lava dispatcher cold start: ${await dispatcherColdStart(s)}`);
    const rpj = await requestsPerJob(s);
    if (rpj !== undefined) console.log(`AWS requests per trivial (log) job: ${rpj.toFixed(2)}`);
  } finally {
    await s.close();
  }
}

if (which === "local" || which === "both") await benchOne(localSetup);
if (which === "aws" || which === "both") await benchOne(awsSetup);
process.exit(0);
