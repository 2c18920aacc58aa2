/**
 * `lava-dispatcher` with many job ids, whole process, on both backends: the batched path (one BatchGetItem
 * per 100 jobs, one SendMessageBatch per 10 messages; one transaction locally). Paired in each run with
 * `lava version` (start-up and exit only), so the extra time of N dispatches is visible on a noisy machine.
 *
 *   bun bench/dispatch-many.ts [--jobs 1000] [--runs 10] [--exe dist/lava] [--before OTHER] [--backend local|aws|both]
 *
 * With `--before`, each run pairs the dispatcher of EXE with the same dispatch by another build OTHER
 * instead of with `lava version`.
 *
 * Realm `bench` of bench/fixture.ts; the ids are `bench/sink` repeated (worker `sink`, a queue nobody
 * reads), so every run is N jobs read and N messages sent. The queue is drained after each run.
 */
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { REALM, SINK_JOB, SINK_WORKER, startFixture } from "./fixture.ts";
import { pair, table, timed, type Row } from "./paired.ts";
import { openLocalPorts } from "../src/adapters/local/index.ts";
import { openAwsPorts } from "../src/adapters/aws/index.ts";
import { workerQueueName } from "../src/core/names.ts";
import type { Ports } from "../src/ports/index.ts";

const ROOT = resolve(import.meta.dir, "..");
const { values } = parseArgs({
  options: {
    jobs: { type: "string", default: "1000" },
    runs: { type: "string", default: "10" },
    exe: { type: "string", default: join(ROOT, "dist", "lava") },
    before: { type: "string" },
    backend: { type: "string", default: "both" },
  },
});
const N = Number(values.jobs);
const RUNS = Number(values.runs);
const EXE = resolve(values.exe!);
const BEFORE = values.before ? resolve(values.before) : undefined;
const BACKENDS = values.backend === "both" ? (["local", "aws"] as const) : ([values.backend] as ("local" | "aws")[]);

async function drain(ports: Ports): Promise<number> {
  const queue = workerQueueName(REALM, SINK_WORKER);
  let n = 0;
  for (;;) {
    const got = await ports.queues.receive(queue, { maxMessages: 10 });
    if (got.length === 0) return n;
    n += got.length;
    await ports.queues.deleteBatch(queue, got.map((m) => m.receiptHandle));
  }
}

const fixture = await startFixture();
const rows: Row[] = [];
try {
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: fixture.work, ...fixture.env };
  const ids = Array.from({ length: N }, () => SINK_JOB);
  for (const backend of BACKENDS) {
    const ports = backend === "local" ? await openLocalPorts({ home: fixture.env.LAVA_HOME! }) : await openAwsPorts({ env: fixture.emulators.env });
    const benv = { ...env, LAVA_BACKEND: backend };
    try {
      rows.push(
        await pair(`\`lava-dispatcher -r bench\` with ${N} job ids, ${backend} backend`, RUNS, async (side) => {
          if (side === "b" && !BEFORE) return timed([EXE, "version"], benv, fixture.work);
          const ms = await timed([side === "a" ? EXE : BEFORE!, "dispatcher", "-r", REALM, ...ids], benv, fixture.work);
          const sent = await drain(ports);
          if (sent !== N) throw new Error(`${backend}: ${sent} messages on the queue, expected ${N}`);
          return ms;
        }),
      );
    } finally {
      await ports.close();
    }
  }
} finally {
  await fixture.stop();
}
process.stdout.write(`\n${EXE}: ${N} dispatches in one process against ${BEFORE ? `the same by ${BEFORE}` : "`lava version`"}; ${new Date().toISOString()}\n`);
process.stdout.write(table(rows, "dispatcher", BEFORE ? "before" : "version"));
