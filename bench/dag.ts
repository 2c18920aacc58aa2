/**
 * Orchestration benchmarks on the local backend, in-process worker (real handlers, real events table).
 * Prints figures; asserts nothing.
 *
 *   bun bench/dag.ts [--runs 5] [--nodes 200] [--emu-runs 3] [--exe dist/lava] [--original MIRROR] [--no-emulators]
 *
 * - wide dag (1 root, N-1 leaves) and deep dag (an N-long line) of `log` jobs, each paired with a chain of
 *   the same N `log` jobs (the same child lifecycles without any scheduling): wall time per node, and the
 *   dag's scheduling overhead per node = (dag − chain) / N. Goal: <= 5 ms per node (wall, locally).
 * - a diamond-heavy dag with one slow branch, against a wave-by-wave schedule of the same graph (the
 *   original's), measured as a chain of dags, one dag per wave.
 * - foreach over 1,000 range items (FOREACH_MAX_LIMIT raised to 1000 for the run; the default is 25).
 *
 * Then, unless --no-emulators: the same wide and deep dags on the AWS emulators (dynalite + fauxqs), ours
 * (the compiled executable, --exe [dist/lava]) against the original lava (--original [its git mirror];
 * test/support/original.ts), measured as bench/compare.ts measures the worker: whole processes, each an
 * idle long-running worker of its own (`--wait 20`, the original with `--sleep 0` so that an empty poll
 * does not park it for 10 s), the dag dispatched onto its queue and timed from the send to its terminal
 * events item (the dag's own item read every 10 ms, strongly consistent), pairs interleaved (ours, then
 * the original), --emu-runs [3] pairs per shape. Without the original, ours alone, and the reason printed.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { openAwsPorts } from "../src/adapters/aws/index.ts";
import { JobFailure, type JobType } from "../src/core/job-contract.ts";
import { silentLogger } from "../src/core/log.ts";
import { realmTable, workerQueueName } from "../src/core/names.ts";
import { createRealm } from "../src/core/realm-setup.ts";
import { LavaConfig } from "../src/core/config.ts";
import { buildDispatchMessage, dispatchMessageBody } from "../src/core/dispatch.ts";
import type { Item } from "../src/ports/index.ts";
import { localRealm, makeWorker, eventsOf } from "../test/worker/support.ts";
import { childEnv, startAwsEmulators } from "../test/support/emulators.ts";
import { ORIGINAL_MIRROR, OriginalUnavailable, originalHome, prepareOriginal, type Original } from "../test/support/original.ts";
import { stats, table, type Row } from "./paired.ts";

const argv = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
};
const RUNS = Number(flag("runs", "5"));
const N = Number(flag("nodes", "200"));
const EMU_RUNS = Number(flag("emu-runs", "3"));
const EXE = resolve(flag("exe", join(import.meta.dir, "..", "dist", "lava")));
const ORIGINAL = resolve(flag("original", ORIGINAL_MIRROR));
const EMULATORS = !argv.includes("--no-emulators");

/** Sleeps `parameters.ms`. */
const sleeper: JobType = {
  name: "sleeper",
  async run(run) {
    await Bun.sleep(Number(run.job.parameters.ms ?? 0));
    return { exit_status: 0 };
  },
};

const realm = await localRealm();
const job = (id: string, over: Record<string, unknown> = {}): Item => ({ job_id: id, worker: "core", enabled: true, owner: "b", description: "b", type: "log", payload: null, ...over });

for (let i = 0; i < N; i++) await realm.putJob(job(`n/${i}`));
const ids = Array.from({ length: N }, (_, i) => `n/${i}`);
const wide: Record<string, unknown> = { "n/0": null };
for (let i = 1; i < N; i++) wide[`n/${i}`] = "n/0";
const deep: Record<string, unknown> = { "n/0": null };
for (let i = 1; i < N; i++) deep[`n/${i}`] = `n/${i - 1}`;
await realm.putJob(job("b/wide", { type: "dag", payload: wide, parameters: { workers: 8 } }));
await realm.putJob(job("b/deep", { type: "dag", payload: deep }));
await realm.putJob(job("b/chain", { type: "chain", payload: ids }));

// Diamonds: root -> slow (S ms) -> end, and root -> D diamonds in a row (top -> left, right -> join), each level L ms.
const S = 1000;
const L = 50;
const D = 10;
const diamond: Record<string, unknown> = { "d/root": null, "d/slow": "d/root" };
let prev = "d/root";
for (let i = 0; i < D; i++) {
  diamond[`d/l${i}`] = prev;
  diamond[`d/r${i}`] = prev;
  diamond[`d/j${i}`] = [`d/l${i}`, `d/r${i}`];
  prev = `d/j${i}`;
}
diamond["d/end"] = ["d/slow", prev];
for (const id of Object.keys(diamond)) await realm.putJob(job(id, { type: "sleeper", parameters: { ms: id === "d/slow" ? S : L } }));
await realm.putJob(job("b/diamond", { type: "dag", payload: diamond, parameters: { workers: 8 } }));
// The same graph wave by wave: Kahn levels, each level one dag with no edges, run in a chain.
const waves: string[][] = [];
{
  const level = new Map<string, number>();
  const depth = (id: string): number => {
    if (level.has(id)) return level.get(id)!;
    const p = diamond[id];
    const preds = p === null ? [] : typeof p === "string" ? [p] : (p as string[]);
    const d = preds.length ? Math.max(...preds.map(depth)) + 1 : 0;
    level.set(id, d);
    return d;
  };
  for (const id of Object.keys(diamond)) (waves[depth(id)] ??= []).push(id);
}
for (const [i, w] of waves.entries()) await realm.putJob(job(`b/wave${i}`, { type: "dag", payload: Object.fromEntries(w.map((id) => [id, null])), parameters: { workers: 8 } }));
await realm.putJob(job("b/waves", { type: "chain", payload: waves.map((_, i) => `b/wave${i}`) }));

await realm.putJob(job("f/child"));
await realm.putJob(job("b/foreach", { type: "foreach", payload: "f/child", parameters: { limit: 1000, foreach: { type: "range", stop: 1000, name: "i" } } }));
await realm.putJob(job("b/one", {}));

/** Dispatches `jobId`, runs a batch worker until the queue is empty; wall ms of the worker run. */
async function runOnce(jobId: string): Promise<number> {
  const msg = buildDispatchMessage({ realm: "ref", jobId, worker: "core" });
  await realm.ports.queues.send("lava-ref-core", dispatchMessageBody(msg));
  const { worker } = makeWorker(realm.ports, realm.tmp, { threads: 1 }, {
    jobTypes: { sleeper },
    deps: { makeConfig: (rc) => new LavaConfig(rc, { LAVA_TMPDIR: realm.tmp, LAVA_FOREACH_MAX_LIMIT: "1000", LAVA_LEVEL: "warning" }) },
  });
  await worker.start();
  const t0 = performance.now();
  await worker.run();
  const wall = performance.now() - t0;
  await worker.cleanup();
  const item = (await eventsOf(realm.ports, jobId)).find((i) => i.run_id === msg.run_id);
  if (item?.status !== "complete") throw new JobFailure(`${jobId} did not complete: ${JSON.stringify(item?.log)}`);
  return wall;
}

const fmt = (xs: number[], per = 1) => {
  const s = stats(xs.map((x) => x / per));
  return `${s.min.toFixed(2)} / **${s.median.toFixed(2)}** / ${s.max.toFixed(2)}`;
};

// Warm-up: module loads, SQLite caches.
await runOnce("b/one");
await runOnce("b/chain");
const m: Record<string, number[]> = { one: [], wide: [], deep: [], chain: [], diamond: [], waves: [], foreach: [] };
for (let r = 0; r < RUNS; r++) {
  // Interleaved, so drift on the shared machine touches every side alike.
  m.one!.push(await runOnce("b/one"));
  m.wide!.push(await runOnce("b/wide"));
  m.chain!.push(await runOnce("b/chain"));
  m.deep!.push(await runOnce("b/deep"));
  m.diamond!.push(await runOnce("b/diamond"));
  m.waves!.push(await runOnce("b/waves"));
}
for (let r = 0; r < Math.max(1, Math.ceil(RUNS / 2)); r++) m.foreach!.push(await runOnce("b/foreach"));

const overhead = (dag: number[]) => dag.map((x, i) => (x - m.chain![i]!) / N);
const out = [
  `## bench/dag.ts — local backend, in-process worker, ${RUNS} interleaved rounds, min / **median** / max`,
  "",
  "| measure | value |",
  "|---|---|",
  `| one log job, whole batch worker run (ms) | ${fmt(m.one!)} |`,
  `| wide dag, 1 + ${N - 1} log jobs, workers 8: ms per node | ${fmt(m.wide!, N)} |`,
  `| deep dag, ${N}-long line of log jobs: ms per node | ${fmt(m.deep!, N)} |`,
  `| chain of the same ${N} log jobs: ms per node | ${fmt(m.chain!, N)} |`,
  `| wide dag scheduling overhead per node, (dag − chain) / ${N}, paired (ms) | ${fmt(overhead(m.wide!))} |`,
  `| deep dag scheduling overhead per node, (dag − chain) / ${N}, paired (ms) | ${fmt(overhead(m.deep!))} |`,
  `| diamond dag (${D} diamonds of ${L} ms levels, one ${S} ms branch): ours (ms) | ${fmt(m.diamond!)} |`,
  `| same graph wave by wave (${waves.length} waves, a chain of dags) (ms) | ${fmt(m.waves!)} |`,
  `| wave-by-wave ÷ ours, per pair | ${fmt(m.waves!.map((x, i) => x / m.diamond![i]!))} |`,
  `| foreach over 1,000 range items (log child): ms per iteration (${m.foreach!.length} runs) | ${fmt(m.foreach!, 1000)} |`,
];
console.log(out.join("\n"));
await realm.close();

/** A long-running worker process of one side, stopped by SIGTERM. */
function startWorker(cmd: string[], env: Record<string, string>) {
  const proc = Bun.spawn(cmd, { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const stderr = new Response(proc.stderr).text();
  void new Response(proc.stdout).text();
  return {
    stderr,
    async stop(): Promise<void> {
      proc.kill("SIGTERM");
      const killer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
      await proc.exited;
      clearTimeout(killer);
    },
  };
}

/** Wide and deep dags on the emulators, ours against the original (see the comment at the top). */
async function emulatorFigures(): Promise<string> {
  if (!existsSync(EXE)) return `(emulators: skipped, ${EXE} is missing: bun run build/compile.ts first)`;
  const work = mkdtempSync(join(tmpdir(), "lava-bench-dag-"));
  let original: Original | undefined;
  let why = "";
  try {
    original = prepareOriginal(ORIGINAL, work);
  } catch (err) {
    if (!(err instanceof OriginalUnavailable)) throw err;
    why = err.message;
    process.stderr.write(`bench/dag.ts: the original is not measured: ${why}\n`);
  }
  const R = "dagbench";
  const emulators = await startAwsEmulators();
  const ports = await openAwsPorts({ env: emulators.env });
  const workers: { stop(): Promise<void>; stderr: Promise<string> }[] = [];
  try {
    const sides = { ours: "u/", original: "o/" } as const;
    await createRealm(ports, { realm: R, workers: ["ours", "original"] }, silentLogger());
    const jobs = realmTable(R, "jobs");
    for (const [w, p] of Object.entries(sides)) {
      for (let i = 0; i < N; i++) await ports.tables.put(jobs, job(`${p}n/${i}`, { worker: w }));
      await ports.tables.put(jobs, job(`${p}wide`, { worker: w, type: "dag", payload: wide, parameters: { workers: 8, job_prefix: p } }));
      await ports.tables.put(jobs, job(`${p}deep`, { worker: w, type: "dag", payload: deep, parameters: { job_prefix: p } }));
    }
    const env = childEnv(emulators, { LAVA_TMPDIR: join(work, "tmp"), NO_COLOR: "1" });
    workers.push(startWorker([EXE, "worker", "-r", R, "-w", "ours", "--root", "--wait", "20"], env));
    if (original) {
      const pyEnv = { ...env, ...original.env, HOME: originalHome(work, env) };
      workers.push(startWorker([...original.argv("lava-worker"), "-r", R, "-w", "original", "--root", "--wait", "20", "--sleep", "0"], pyEnv));
    }

    /** Send to terminal events item of `prefix + name`, ms. */
    const once = async (side: keyof typeof sides, name: string): Promise<number> => {
      const jobId = `${sides[side]}${name}`;
      const msg = buildDispatchMessage({ realm: R, worker: side, jobId });
      const t0 = performance.now();
      await ports.queues.send(workerQueueName(R, side), dispatchMessageBody(msg));
      const deadline = t0 + 300_000;
      for (;;) {
        const item = await ports.tables.get(realmTable(R, "events"), { job_id: jobId, run_id: msg.run_id }, { consistent: true });
        if (item?.status === "complete") return performance.now() - t0;
        if (item?.status === "failed" || item?.status === "rejected") throw new JobFailure(`${side} ${jobId}: ${item.status}: ${JSON.stringify(item.log)}`);
        if (performance.now() > deadline) throw new JobFailure(`${side} ${jobId}: no terminal event within 300 s`);
        await Bun.sleep(10);
      }
    };
    const active = original ? (["ours", "original"] as const) : (["ours"] as const);
    // Warm-up: the workers' first poll, module loads, the emulators' tables.
    for (const side of active) await once(side, "n/0");
    const rows: Row[] = [];
    for (const [name, what] of [
      ["wide", `wide dag, 1 + ${N - 1} log jobs, workers 8`],
      ["deep", `deep dag, ${N}-long line of log jobs`],
    ] as const) {
      const row: Row = { measure: `${what}: dispatch to terminal event`, a: [], b: [] };
      for (let r = 0; r < EMU_RUNS; r++) {
        row.a.push(await once("ours", name));
        if (original) row.b.push(await once("original", name));
        process.stderr.write(`  ${r + 1}/${EMU_RUNS} ${name}\r`);
      }
      process.stderr.write("\n");
      rows.push(row);
    }
    const head = `## bench/dag.ts — AWS emulators (dynalite + fauxqs), whole processes, idle workers, ${EMU_RUNS} pairs per shape`;
    const perNode = rows.map((r) => `${r.measure.split(":")[0]}: ours ${(stats(r.a).median / N).toFixed(2)} ms per node` + (original ? `, original ${(stats(r.b).median / N).toFixed(2)} ms per node (medians)` : "")).join("\n");
    if (!original) {
      return `${head}\n\nthe original not measured: ${why}\n\n${rows.map((r) => `| ${r.measure} | ${r.a.length} | ${fmt(r.a)} ms |`).join("\n")}\n\n${perNode}`;
    }
    return `${head}\n\nours: ${EXE}; original: ${ORIGINAL}\n\n${table(rows, "ours", "original")}\n${perNode}`;
  } finally {
    for (const w of workers) await w.stop();
    await ports.close();
    await emulators.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (EMULATORS) console.log(`\n${await emulatorFigures()}`);
