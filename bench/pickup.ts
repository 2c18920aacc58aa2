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

export interface PickupInput {
  /** The worker command, run until the measure ends (then SIGHUP). */
  argv: string[];
  env: Record<string, string>;
  /** Ports on the worker's backend, to send dispatches and read events. */
  ports: Ports;
  dispatches: number;
  /** Pauses before each dispatch are uniform in 0.2 s .. gapMaxMs. */
  gapMaxMs: number;
  /** Period of the events read loop. */
  periodMs: number;
  label: string;
}

/** Send-to-`starting` delays (ms) of `dispatches` dispatches at random times into an idle worker. */
export async function pickupDelays(input: PickupInput): Promise<number[]> {
  const proc = Bun.spawn(input.argv, { env: input.env, stdout: "ignore", stderr: "pipe" });
  try {
    await waitReady(proc.stderr);
    await Bun.sleep(1000); // idle: its first long poll is open
    const delays: number[] = [];
    for (let i = 0; i < input.dispatches; i++) {
      await Bun.sleep(200 + Math.random() * Math.max(0, input.gapMaxMs - 200));
      const msg = buildDispatchMessage({ realm: REALM, worker: WORKER, jobId: LOG_JOB });
      const sent = performance.now();
      await input.ports.queues.send(workerQueueName(REALM, WORKER), dispatchMessageBody(msg));
      const seen = await startedInTable(input.ports, msg.run_id, input.periodMs, sent + 60_000);
      delays.push(seen - sent);
      process.stderr.write(`  ${input.label} ${i + 1}/${input.dispatches}: ${(seen - sent).toFixed(1)} ms\r`);
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

async function main(): Promise<void> {
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
  const fixture = await startFixture();
  const rows: string[] = [];
  try {
    const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: fixture.work, ...fixture.env, LAVA_TMPDIR: join(fixture.work, "tmp") };
    for (const backend of ["local", "aws"] as const) {
      if (values.backend !== "both" && values.backend !== backend) continue;
      const ports = backend === "local" ? await openLocalPorts({ home: fixture.env.LAVA_HOME! }) : await openAwsPorts({ env: fixture.emulators.env });
      try {
        const d = await pickupDelays({
          argv: [EXE, "worker", "-r", REALM, "-w", WORKER, "--root", "-l", "info", ...workerArgs],
          env: { ...env, LAVA_BACKEND: backend },
          ports,
          dispatches: N,
          gapMaxMs: GAP_MAX_MS,
          periodMs: backend === "local" ? 1 : 2,
          label: backend,
        });
        rows.push(pickupRow(backend, d));
      } finally {
        await ports.close();
      }
    }
  } finally {
    await fixture.stop();
  }
  const args = workerArgs.length ? workerArgs.join(" ") : "defaults";
  process.stdout.write(`\n${EXE} worker (${args}), dispatch send to \`starting\` in the events table, ms; ${new Date().toISOString()}\n`);
  process.stdout.write(`${PICKUP_HEAD}${rows.join("\n")}\n`);
}

export const PICKUP_HEAD = "| worker | dispatches | min | median | p95 | max |\n|---|---|---|---|---|---|\n";

/** One row of PICKUP_HEAD's table, in ms. */
export function pickupRow(name: string, d: number[]): string {
  const s = stats(d);
  return `| ${name} | ${d.length} | ${s.min.toFixed(1)} | ${s.median.toFixed(1)} | **${percentile(d, 95).toFixed(1)}** | ${s.max.toFixed(1)} |`;
}

if (import.meta.main) await main();
