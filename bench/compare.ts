/**
 * Ours against the original lava, measured the same way in the same run on the same emulators (dynalite +
 * fauxqs on loopback): each measure runs the original's program and ours in turn (A B A B ...), and the
 * ratio is taken pair by pair, so that a machine whose speed drifts (shared cores) still gives a fair ratio.
 * Prints one table: min / median / max of each side and of the per-pair ratio ours / original.
 *
 *   bun bench/compare.ts ORIGINAL [--runs 10] [--jobs 200] [--batch-runs 3] [--exe dist/lava] [--only m1,m2] [--pickups 10]
 *
 * ORIGINAL is the original lava's source: a checkout, or a bare git mirror (its HEAD is extracted into a
 * temporary directory). Nothing of it is kept. Without it, or without the Python packages it needs, the
 * script says so on stderr and exits 0 having measured nothing.
 *
 * The original runs unchanged under this machine's `python3` (test/support/original.ts says how).
 *
 * Measures (`--only` takes their names):
 *  dispatch       `lava-dispatcher -r bench bench/sink`: one dispatch, the job looked up first (whole process)
 *  first-receive  `lava-worker -r bench -w core --batch --wait 0 --root`, empty queue: from spawn to the
 *                 first ReceiveMessage reaching SQS (seen by a forwarding proxy in front of fauxqs)
 *  batch-log      `lava-worker ... --batch -t 10 --wait 1 --root` with --jobs `log` jobs queued: spawn to exit
 *  batch-cmd      the same with cmd `true` jobs
 *  pickup         an idle worker with default settings (`lava-worker -r bench -w core --root`) takes --pickups
 *                 [10] `log` dispatches sent at random times 0.2..25 s apart: send to `starting` in the events
 *                 table (bench/pickup.ts); not paired, one worker per side
 * Settings are the programs' defaults except where written above. Ours is the compiled executable (--exe),
 * run through `lava-dispatcher` / `lava-worker` symlinks as installed.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { openAwsPorts } from "../src/adapters/aws/index.ts";
import { buildDispatchMessage, dispatchMessageBody } from "../src/core/dispatch.ts";
import { workerQueueName } from "../src/core/names.ts";
import type { Ports } from "../src/ports/index.ts";
import { JOB, LOG_JOB, REALM, SINK_JOB, WORKER, startFixture, type Fixture } from "./fixture.ts";
import { OriginalUnavailable, prepareOriginal, type Original } from "../test/support/original.ts";
import { pair, receiveProbe, table, timed, type Row } from "./paired.ts";
import { PICKUP_HEAD, pickupDelays, pickupRow } from "./pickup.ts";

const ROOT = resolve(import.meta.dir, "..");
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: "string", default: "10" },
    "batch-runs": { type: "string", default: "3" },
    jobs: { type: "string", default: "200" },
    exe: { type: "string", default: join(ROOT, "dist", "lava") },
    only: { type: "string" },
    pickups: { type: "string", default: "10" },
  },
});
const RUNS = Number(values.runs);
const BATCH_RUNS = Number(values["batch-runs"]);
const JOBS = Number(values.jobs);
const PICKUP = Number(values.pickups);
const EXE = resolve(values.exe!);
const ONLY = values.only ? new Set(values.only.split(",")) : undefined;

function skip(why: string): never {
  process.stderr.write(`bench/compare.ts: SKIPPED, nothing measured: ${why}\n`);
  process.exit(0);
}

async function queueMessages(ports: Ports, jobId: string, n: number): Promise<void> {
  const queue = workerQueueName(REALM, WORKER);
  const bodies = Array.from({ length: n }, () => dispatchMessageBody(buildDispatchMessage({ realm: REALM, worker: WORKER, jobId })));
  for (let i = 0; i < bodies.length; i += 10) await ports.queues.sendBatch(queue, bodies.slice(i, i + 10).map((body) => ({ body })));
}

async function queueIsEmpty(ports: Ports): Promise<boolean> {
  const a = await ports.queues.attributes(workerQueueName(REALM, WORKER));
  return a.visible + a.notVisible + a.delayed === 0;
}

async function main(): Promise<void> {
  const source = positionals[0];
  if (!source) skip("no path to the original given (bun bench/compare.ts ORIGINAL; see the comment at the top)");
  if (!existsSync(source) || !statSync(source).isDirectory()) skip(`${source} does not exist`);
  if (!existsSync(EXE)) skip(`${EXE} is missing: bun run build first`);

  const work = mkdtempSync(join(tmpdir(), "lava-bench-compare-"));
  let fixture: Fixture | undefined;
  let probe: ReturnType<typeof receiveProbe> | undefined;
  try {
    let orig: Original;
    try {
      orig = prepareOriginal(resolve(source), work);
    } catch (err) {
      if (err instanceof OriginalUnavailable) skip(err.message);
      throw err;
    }
    const original = orig.argv;
    for (const name of ["lava-dispatcher", "lava-worker"]) symlinkSync(EXE, join(work, name));
    const ours = (program: string) => [join(work, program)];
    const pyEnv = orig.env;

    process.stderr.write("starting the emulators and seeding realm bench ...\n");
    fixture = await startFixture();
    const home = join(work, "home");
    mkdirSync(home);
    // Only what both programs need: the emulators, credentials, the realm; no developer profile.
    const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, ...fixture.env, ...pyEnv };
    const ports = await openAwsPorts({ env: fixture.env });
    const want = (m: string) => !ONLY || ONLY.has(m);
    const argv = (side: "a" | "b", program: string) => (side === "a" ? ours(program) : original(program));
    const rows: Row[] = [];
    const pickups: string[] = [];

    try {
      if (want("dispatch")) {
        rows.push(
          await pair("`lava-dispatcher -r bench bench/sink` (one dispatch, job looked up), whole process", RUNS, (side) =>
            timed([...argv(side, "lava-dispatcher"), "-r", REALM, SINK_JOB], env, work),
          ),
        );
      }
      if (want("first-receive")) {
        probe = receiveProbe(fixture.emulators.endpoints.fauxqs);
        const probed = { ...env, AWS_ENDPOINT_URL_SQS: probe.url };
        rows.push(
          await pair("worker start to its first ReceiveMessage (`--batch --wait 0`, empty queue)", RUNS, async (side) => {
            let spawned = 0;
            const received = probe!.next();
            await timed([...argv(side, "lava-worker"), "-r", REALM, "-w", WORKER, "--batch", "--wait", "0", "--root"], probed, work, (t) => (spawned = t));
            return (await received) - spawned;
          }),
        );
      }
      for (const [name, jobId, what] of [
        ["batch-log", LOG_JOB, "`log`"],
        ["batch-cmd", JOB, "cmd `true`"],
      ] as const) {
        if (!want(name)) continue;
        // No warm-up pair here: the measures above warmed both programs, and each run needs its own messages.
        const row: Row = { measure: `${JOBS} ${what} jobs queued, \`lava-worker --batch -t 10 --wait 1\`: start to exit`, a: [], b: [] };
        for (let i = 0; i < BATCH_RUNS; i++) {
          for (const side of ["a", "b"] as const) {
            await queueMessages(ports, jobId, JOBS);
            const ms = await timed([...argv(side, "lava-worker"), "-r", REALM, "-w", WORKER, "--batch", "-t", "10", "--wait", "1", "--root"], env, work);
            if (!(await queueIsEmpty(ports))) throw new Error(`${side === "a" ? "our" : "the original's"} worker left messages on the queue`);
            row[side].push(ms);
          }
          process.stderr.write(`  ${i + 1}/${BATCH_RUNS} ${name}\r`);
        }
        process.stderr.write("\n");
        rows.push(row);
      }
      if (want("pickup")) {
        // Not paired: each side is one long-running worker taking PICKUP dispatches at random times.
        for (const side of ["a", "b"] as const) {
          const d = await pickupDelays({
            argv: [...argv(side, "lava-worker"), "-r", REALM, "-w", WORKER, "--root", "-l", "info"],
            env,
            ports,
            dispatches: PICKUP,
            // Beyond the original's 20 s cycle (10 s poll, 10 s sleep), so its dispatches land anywhere in it.
            gapMaxMs: 25_000,
            periodMs: 2,
            label: side === "a" ? "ours" : "original",
          });
          pickups.push(pickupRow(side === "a" ? "ours" : "original", d));
        }
      }
    } finally {
      await ports.close();
    }
    process.stdout.write(`\nours: ${EXE}; original: ${source}; ${new Date().toISOString()}\n`);
    process.stdout.write(table(rows, "ours", "original"));
    if (pickups.length) {
      process.stdout.write("\nIdle worker, defaults: dispatch send to `starting` in the events table, ms\n");
      process.stdout.write(`${PICKUP_HEAD}${pickups.join("\n")}\n`);
    }
  } finally {
    probe?.stop();
    await fixture?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
