/**
 * Queue round trips: send → receive → delete, one message at a time, and the wake-up latency of a long
 * poll. Prints figures; asserts nothing.
 *
 *   bun bench/queue.ts [--n 2000] [--local-only]
 *
 * Backends: `local` (a temp home) always; `aws` against SQS endpoints from the environment when
 * AWS_ENDPOINT_URL_SQS is set, otherwise against fauxqs started by test/support/emulators.ts.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Ports } from "../src/ports/index.ts";

const { values } = parseArgs({
  options: { n: { type: "string", default: "2000" }, "local-only": { type: "boolean", default: false } },
});
const N = Number(values.n);

interface Figures {
  backend: string;
  roundTrips: number;
  perSecond: number;
  send: number[];
  receive: number[];
  delete: number[];
  total: number[];
  wake: number[];
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function summary(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  return `p50 ${percentile(sorted, 50).toFixed(3)} ms  p95 ${percentile(sorted, 95).toFixed(3)} ms  max ${sorted.at(-1)?.toFixed(3)} ms`;
}

async function timed<T>(samples: number[], fn: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const result = await fn();
  samples.push(performance.now() - start);
  return result;
}

async function bench(backend: string, ports: Ports, n: number): Promise<Figures> {
  const q = `lava-bench-${Date.now().toString(36)}`;
  await ports.queues.create(q, { visibilityTimeoutSeconds: 60 });
  const f: Figures = { backend, roundTrips: n, perSecond: 0, send: [], receive: [], delete: [], total: [], wake: [] };
  for (let i = 0; i < Math.min(50, n); i++) await roundTrip(ports, q, { send: [], receive: [], delete: [], total: [] }); // warm up
  const started = performance.now();
  for (let i = 0; i < n; i++) await roundTrip(ports, q, f);
  f.perSecond = n / ((performance.now() - started) / 1000);

  // Long-poll wake-up: a receiver is already waiting when the message is sent.
  for (let i = 0; i < Math.min(50, n); i++) {
    const pending = ports.queues.receive(q, { waitSeconds: 5 });
    await Bun.sleep(5);
    const sentAt = performance.now();
    await ports.queues.send(q, "wake");
    const [m] = await pending;
    f.wake.push(performance.now() - sentAt);
    if (m) await ports.queues.delete(q, m.receiptHandle);
  }
  return f;
}

async function roundTrip(ports: Ports, q: string, f: Pick<Figures, "send" | "receive" | "delete" | "total">): Promise<void> {
  const start = performance.now();
  await timed(f.send, () => ports.queues.send(q, `{"job_id":"bench","run_id":"${crypto.randomUUID()}"}`));
  let messages = await timed(f.receive, () => ports.queues.receive(q, { waitSeconds: 1 }));
  // SQS may answer a receive empty even with a message queued; count the retry in the round trip.
  while (messages.length === 0) messages = await ports.queues.receive(q, { waitSeconds: 1 });
  await timed(f.delete, () => ports.queues.delete(q, messages[0]!.receiptHandle));
  f.total.push(performance.now() - start);
}

function print(f: Figures): void {
  console.log(`\n${f.backend}: ${f.roundTrips} send/receive/delete round trips, ${f.perSecond.toFixed(0)} round trips/s`);
  console.log(`  round trip  ${summary(f.total)}`);
  console.log(`  send        ${summary(f.send)}`);
  console.log(`  receive     ${summary(f.receive)}`);
  console.log(`  delete      ${summary(f.delete)}`);
  console.log(`  long-poll wake (send → waiting receive returns)  ${summary(f.wake)}`);
}

/**
 * Local only: a receiver waiting in this process, a sender in another. Cross-process wake-ups come from
 * a poke on the waiter's unix socket (see src/adapters/local/wakeup.ts). The sender also times its own
 * sends, which include poking this process: the price a short-lived sender such as lava-dispatcher pays.
 */
async function crossProcessWake(home: string, ports: Ports, rounds: number): Promise<void> {
  const q = "lava-bench-xproc";
  await ports.queues.create(q);
  const index = join(import.meta.dir, "..", "src", "adapters", "local", "index.ts");
  const sender = Bun.spawn(
    [
      process.execPath,
      "-e",
      `const { openLocalPorts } = await import(${JSON.stringify(index)});
       const ports = await openLocalPorts({ home: ${JSON.stringify(home)} });
       const sends = [];
       for (let i = 0; i < ${rounds}; i++) {
         await Bun.sleep(50 + Math.random() * 150);
         const start = performance.now();
         await ports.queues.send(${JSON.stringify(q)}, String(performance.timeOrigin + start));
         sends.push(performance.now() - start);
       }
       await ports.close();
       process.stdout.write(JSON.stringify(sends));`,
    ],
    { stdout: "pipe", stderr: "inherit" },
  );
  const latencies: number[] = [];
  while (latencies.length < rounds) {
    const [m] = await ports.queues.receive(q, { waitSeconds: 5 });
    if (!m) break;
    latencies.push(performance.timeOrigin + performance.now() - Number(m.body));
    await ports.queues.delete(q, m.receiptHandle);
  }
  const sends = JSON.parse(await new Response(sender.stdout).text()) as number[];
  await sender.exited;
  console.log(`  long-poll wake across processes (${latencies.length} sends)  ${summary(latencies)}`);
  console.log(`  send in the other process, poking 1 waiting process  ${summary(sends)}`);
}

async function benchLocal(): Promise<void> {
  const { openLocalPorts } = await import("../src/adapters/local/index.ts");
  const home = await mkdtemp(join(tmpdir(), "lava-bench-"));
  const ports = await openLocalPorts({ home });
  try {
    print(await bench("local (SQLite WAL)", ports, N));
    await crossProcessWake(home, ports, 40);
  } finally {
    await ports.close();
    await rm(home, { recursive: true, force: true });
  }
}

async function benchAws(): Promise<void> {
  const emulatorsModule = join(import.meta.dir, "..", "test", "support", "emulators.ts");
  let env: Record<string, string | undefined> = process.env;
  let stop = async () => {};
  let label = `aws (SQS at ${process.env.AWS_ENDPOINT_URL_SQS})`;
  if (!process.env.AWS_ENDPOINT_URL_SQS) {
    if (!existsSync(emulatorsModule)) {
      console.log("\naws: skipped (no AWS_ENDPOINT_URL_SQS and no test/support/emulators.ts)");
      return;
    }
    const { startAwsEmulators } = (await import(emulatorsModule)) as typeof import("../test/support/emulators.ts");
    const emulators = await startAwsEmulators();
    env = emulators.env;
    stop = () => emulators.stop();
    label = "aws (fauxqs emulator)";
  }
  try {
    const { openAwsPorts } = await import("../src/adapters/aws/index.ts");
    const ports = await openAwsPorts({ env });
    try {
      print(await bench(label, ports, Math.min(N, 1000)));
    } finally {
      await ports.close();
    }
  } finally {
    await stop();
  }
}

await benchLocal();
if (!values["local-only"]) await benchAws();
