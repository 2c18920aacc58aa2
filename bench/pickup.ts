/**
 * Pickup latency of an idle worker: from a dispatch's send to its `starting` event in the events table.
 *
 *   bun bench/pickup.ts [--dispatches 40] [--backend local|aws|both] [--exe dist/lava] [--gap-max 3]
 *                       [-- WORKER-ARGS...]
 *
 * One worker (`lava-worker -r bench -w core --root`, the compiled executable, defaults unless WORKER-ARGS
 * are given after `--`) is started on realm `bench` of bench/fixture.ts and left idle. Then, one at a time,
 * after a random pause of 0.2..gap-max seconds (so dispatches land at random points of the worker's poll
 * cycle, never while it is busy with the previous one), the bench sends one `bench/log` dispatch through the
 * QueuePort and reads the run's events item until it shows `starting`. The read loop adds up to its own
 * period (1 ms local, 2 ms aws) and one read's time to each figure; the events item's own timestamps are
 * whole seconds and cannot be used. Prints min / p50 / p95 / max per backend.
 *
 * The log job ends at once, so its `starting` is written with `complete` (docs/WORKER.md: non-final events
 * of a run that is still going wait up to 250 ms for company). Against the original's defaults, pass
 * `-- --wait 10 --sleep 10` and a `--gap-max` above 20.
 */
import { parseArgs } from "node:util";
import { resolve, join } from "node:path";
import { LOG_JOB, REALM, WORKER, startFixture } from "./fixture.ts";
import { stats } from "./paired.ts";
import { openLocalPorts } from "../src/adapters/local/index.ts";
import { openAwsPorts } from "../src/adapters/aws/index.ts";
import { buildDispatchMessage, dispatchMessageBody } from "../src/core/dispatch.ts";
import { realmTable, workerQueueName } from "../src/core/names.ts";
import type { Ports } from "../src/ports/index.ts";

const ROOT = resolve(import.meta.dir, "..");
const dash = process.argv.indexOf("--");
const { values } = parseArgs({
  args: process.argv.slice(2, dash < 0 ? undefined : dash),
  options: {
    dispatches: { type: "string", default: "40" },
    backend: { type: "string", default: "both" },
    exe: { type: "string", default: join(ROOT, "dist", "lava") },
    "gap-max": { type: "string", default: "3" },
  },
});
const workerArgs = dash < 0 ? [] : process.argv.slice(dash + 1);
const N = Number(values.dispatches);
const GAP_MAX_MS = Number(values["gap-max"]) * 1000;
const EXE = resolve(values.exe!);

async function startedInTable(ports: Ports, runId: string, periodMs: number, deadline: number): Promise<number> {
  const table = realmTable(REALM, "events");
  while (performance.now() < deadline) {
    const item = await ports.tables.get(table, { job_id: LOG_JOB, run_id: runId });
    const log = (item?.log ?? []) as { status?: string }[];
    if (log.some((e) => e.status === "starting")) return performance.now();
    await Bun.sleep(periodMs);
  }
  throw new Error(`run ${runId}: no starting event within the deadline`);
}

async function waitReady(stderr: ReadableStream<Uint8Array>): Promise<void> {
  const decoder = new TextDecoder();
  let text = "";
  const reader = stderr.getReader();
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    if (text.includes("Worker ready")) {
      // Keep draining, so the worker never blocks on a full pipe.
      void (async () => {
        while (!(await reader.read()).done);
      })();
      return;
    }
  }
  throw new Error(`worker never became ready:\n${text.slice(-2000)}`);
}

async function measure(backend: "local" | "aws", env: Record<string, string>, ports: Ports): Promise<number[]> {
  const periodMs = backend === "local" ? 1 : 2;
  const proc = Bun.spawn([EXE, "worker", "-r", REALM, "-w", WORKER, "--root", "-l", "info", ...workerArgs], {
    env: { ...env, LAVA_BACKEND: backend },
    stdout: "ignore",
    stderr: "pipe",
  });
  try {
    await waitReady(proc.stderr);
    await Bun.sleep(1000); // idle: its first long poll is open
    const delays: number[] = [];
    for (let i = 0; i < N; i++) {
      await Bun.sleep(200 + Math.random() * Math.max(0, GAP_MAX_MS - 200));
      const msg = buildDispatchMessage({ realm: REALM, worker: WORKER, jobId: LOG_JOB });
      const sent = performance.now();
      await ports.queues.send(workerQueueName(REALM, WORKER), dispatchMessageBody(msg));
      const seen = await startedInTable(ports, msg.run_id, periodMs, sent + 60_000);
      delays.push(seen - sent);
      process.stderr.write(`  ${backend} ${i + 1}/${N}: ${(seen - sent).toFixed(1)} ms\r`);
    }
    process.stderr.write("\n");
    return delays;
  } finally {
    proc.kill("SIGHUP");
    await proc.exited;
  }
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

const fixture = await startFixture();
const rows: string[] = [];
try {
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: fixture.work, ...fixture.env, LAVA_TMPDIR: join(fixture.work, "tmp") };
  for (const backend of ["local", "aws"] as const) {
    if (values.backend !== "both" && values.backend !== backend) continue;
    const ports = backend === "local" ? await openLocalPorts({ home: fixture.env.LAVA_HOME! }) : await openAwsPorts({ env: fixture.emulators.env });
    try {
      const d = await measure(backend, env, ports);
      const s = stats(d);
      rows.push(`| ${backend} | ${d.length} | ${s.min.toFixed(1)} | ${s.median.toFixed(1)} | **${percentile(d, 95).toFixed(1)}** | ${s.max.toFixed(1)} |`);
    } finally {
      await ports.close();
    }
  }
} finally {
  await fixture.stop();
}
const args = workerArgs.length ? workerArgs.join(" ") : "defaults";
process.stdout.write(`\n${EXE} worker (${args}), dispatch send to \`starting\` in the events table, ms; ${new Date().toISOString()}\n`);
process.stdout.write("| backend | dispatches | min | median | p95 | max |\n|---|---|---|---|---|---|\n");
process.stdout.write(`${rows.join("\n")}\n`);
