/**
 * Cold start of the compiled `lava-dispatcher`: wall time p50/p95 and peak RSS of one process sending one
 * dispatch, on the local backend and on the aws backend (dynalite + fauxqs on loopback), with `-w` given
 * (SQS only) and without (a DynamoDB GetItem first). Prints figures; asserts nothing.
 *
 *   bun bench/dispatch.ts [--runs 30] [--exe dist/lava] [--build] [--no-phases]
 *
 * Builds dist/lava when it is missing (or always with --build). The executable runs through a
 * `lava-dispatcher` symlink, as installed.
 *
 * Then, unless --no-phases, the breakdown: two probe programs compiled with the same flags as lava, each
 * doing one job-lookup dispatch (GetItem, GetQueueUrl, SendMessage) and printing the time each phase
 * ended at (ms since process start): one through AWS SDK v3 clients, one through src/adapters/aws/lite.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { openLocalPorts } from "../src/adapters/local/index.ts";
import { openAwsPorts } from "../src/adapters/aws/index.ts";
import { createRealm } from "../src/core/realm-setup.ts";
import { realmTable } from "../src/core/names.ts";
import { silentLogger } from "../src/core/log.ts";
import type { Ports } from "../src/ports/index.ts";
import { childEnv, startAwsEmulators } from "../test/support/emulators.ts";

const ROOT = resolve(import.meta.dir, "..");
const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "30" },
    exe: { type: "string", default: join(ROOT, "dist", "lava") },
    build: { type: "boolean", default: false },
    "no-phases": { type: "boolean", default: false },
  },
});
const RUNS = Number(values.runs);
const EXE = resolve(values.exe!);
const REALM = "bench";
const WORKER = "core";
const JOB = "bench/job";

function ensureExecutable(): void {
  if (existsSync(EXE) && !values.build) return;
  process.stdout.write(`building ${EXE} ...\n`);
  const out = resolve(EXE, "..");
  const res = Bun.spawnSync([process.execPath, "run", join(ROOT, "build", "compile.ts"), "--no-bundle", "--out", out], {
    cwd: ROOT,
    stdout: "inherit",
    stderr: "inherit",
  });
  if (res.exitCode !== 0) throw new Error("build failed");
}

async function seed(ports: Ports): Promise<void> {
  await createRealm(ports, { realm: REALM, workers: [WORKER] }, silentLogger());
  await ports.tables.put(realmTable(REALM, "jobs"), {
    job_id: JOB,
    type: "cmd",
    worker: WORKER,
    payload: "true",
    owner: "bench",
    description: "dispatch bench",
    enabled: true,
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

interface Figures {
  wall: number[];
  rssKiB: number[];
}

const TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;
if (!TIME) console.warn("bench/dispatch.ts: /usr/bin/time missing (apt-get install -y time): no peak RSS figures");

/**
 * One warm-up run (page cache), then `RUNS` timed runs (wall clock, spawn to exit), then `RUNS` runs under
 * /usr/bin/time for the peak RSS (kept apart so its own fork does not count in the wall figures).
 */
function measure(cmd: string[], env: Record<string, string>): Figures {
  const f: Figures = { wall: [], rssKiB: [] };
  const run = (argv: string[]) => {
    const res = Bun.spawnSync(argv, { env, stdout: "pipe", stderr: "pipe" });
    if (res.exitCode !== 0) throw new Error(`${argv.join(" ")} exited ${res.exitCode}: ${res.stderr.toString().trim()}`);
    return res;
  };
  run(cmd);
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    run(cmd);
    f.wall.push(performance.now() - started);
  }
  if (!TIME) return f;
  const out = join(work, "time.out");
  for (let i = 0; i < RUNS; i++) {
    run([TIME, "-f", "%M", "-o", out, ...cmd]);
    f.rssKiB.push(Number(readFileSync(out, "utf8").trim().split("\n").at(-1)));
  }
  return f;
}

function line(label: string, f: Figures): string {
  const wall = [...f.wall].sort((a, b) => a - b);
  const rss = [...f.rssKiB].sort((a, b) => a - b);
  const mib = (kib: number) => (kib / 1024).toFixed(1);
  const rssText = rss.length ? `   peak RSS p50 ${mib(percentile(rss, 50))} MiB  max ${mib(rss.at(-1)!)} MiB` : "";
  return `${label.padEnd(26)} wall p50 ${percentile(wall, 50).toFixed(1).padStart(6)} ms  p95 ${percentile(wall, 95)
    .toFixed(1)
    .padStart(6)} ms${rssText}`;
}

/** Compiles `source` with lava's flags (build/compile.ts) into the work directory. */
function compileProbe(name: string, source: string): string {
  const src = join(ROOT, `.bench-${name}-${process.pid}.ts`); // inside the repo, so node_modules resolve
  const out = join(work, name);
  writeFileSync(src, source);
  try {
    const cmd = [process.execPath, "run", join(ROOT, "build", "compile.ts"), "--no-bundle", "--entry", src, "--out", out];
    const res = Bun.spawnSync(cmd, { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    if (res.exitCode !== 0) throw new Error(`${name} build failed: ${res.stderr.toString()}`);
  } finally {
    rmSync(src, { force: true });
  }
  return join(out, "lava");
}

/** The runtime floor: a compiled program that prints one line. */
const helloExecutable = () => compileProbe("hello", "console.log(process.argv[2]);\n");

const SDK_PROBE = `
const t = { start: performance.now() };
const env = process.env;
const [{ DynamoDBClient, GetItemCommand }, { SQSClient, GetQueueUrlCommand, SendMessageCommand }] = await Promise.all([
  import("@aws-sdk/client-dynamodb"),
  import("@aws-sdk/client-sqs"),
]);
t.import = performance.now();
const ddb = new DynamoDBClient({ endpoint: env.AWS_ENDPOINT_URL_DYNAMODB, region: env.AWS_REGION });
const sqs = new SQSClient({ endpoint: env.AWS_ENDPOINT_URL_SQS, region: env.AWS_REGION });
t.construct = performance.now();
await ddb.config.credentials();
await sqs.config.credentials();
t.credentials = performance.now();
await ddb.config.endpointProvider({ Region: env.AWS_REGION, Endpoint: env.AWS_ENDPOINT_URL_DYNAMODB });
await sqs.config.endpointProvider({ Region: env.AWS_REGION, Endpoint: env.AWS_ENDPOINT_URL_SQS });
t.endpoints = performance.now();
const job = await ddb.send(new GetItemCommand({ TableName: "lava.${REALM}.jobs", Key: { job_id: { S: "${JOB}" } } }));
t.getItem = performance.now();
const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: "lava-${REALM}-" + job.Item.worker.S }));
t.getQueueUrl = performance.now();
await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "{}" }));
t.sendMessage = performance.now();
console.log(JSON.stringify(t));
process.exit(0);
`;

const LITE_PROBE = `
const t = { start: performance.now() };
const { LiteService } = await import("./src/adapters/aws/lite/index.ts");
const { resolveSettings } = await import("./src/adapters/aws/clients.ts");
t.import = performance.now();
const settings = resolveSettings({}, process.env, false);
const ddb = new LiteService(settings, "DYNAMODB");
const sqs = new LiteService(settings, "SQS");
t.construct = performance.now();
const rd = await ddb.route();
const rs = await sqs.route();
t.endpoints = performance.now();
await rd.credentials();
await rs.credentials();
t.credentials = performance.now();
const job = await ddb.call(rd, "GetItem", { TableName: "lava.${REALM}.jobs", Key: { job_id: { S: "${JOB}" } } });
t.getItem = performance.now();
const q = await sqs.call(rs, "GetQueueUrl", { QueueName: "lava-${REALM}-" + job.Item.worker.S });
t.getQueueUrl = performance.now();
await sqs.call(rs, "SendMessage", { QueueUrl: q.QueueUrl, MessageBody: "{}" });
t.sendMessage = performance.now();
console.log(JSON.stringify(t));
process.exit(0);
`;

const PHASES = ["start", "import", "construct", "credentials", "endpoints", "getItem", "getQueueUrl", "sendMessage"];

/** Median duration of each phase over `RUNS` runs, plus wall and RSS of the whole probe. */
function phases(label: string, exe: string, env: Record<string, string>): string {
  const samples: Record<string, number[]> = {};
  for (let i = 0; i <= RUNS; i++) {
    const res = Bun.spawnSync([exe], { env, stdout: "pipe", stderr: "pipe" });
    if (res.exitCode !== 0) throw new Error(`${label} probe exited ${res.exitCode}: ${res.stderr.toString()}`);
    if (i === 0) continue;
    const t = JSON.parse(res.stdout.toString()) as Record<string, number>;
    let previous = 0;
    for (const [phase, at] of Object.entries(t).sort(([, a], [, b]) => a - b)) {
      (samples[phase] ??= []).push(at - previous);
      previous = at;
    }
  }
  const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
  const order = Object.keys(samples).sort((a, b) => PHASES.indexOf(a) - PHASES.indexOf(b));
  const parts = order.map((p) => `${p} ${median(samples[p]!).toFixed(1)}`);
  return `${label.padEnd(12)} ms (median, phase durations; start = Bun start to first line): ${parts.join(", ")}`;
}

ensureExecutable();
const work = mkdtempSync(join(tmpdir(), "lava-bench-dispatch-"));
const dispatcher = join(work, "lava-dispatcher");
symlinkSync(EXE, dispatcher);
const emulators = await startAwsEmulators();
try {
  const home = join(work, "home");
  const local = await openLocalPorts({ home });
  await seed(local);
  await local.close();
  const aws = await openAwsPorts({ env: emulators.env });
  await seed(aws);
  await aws.close();

  const baseEnv = childEnv(emulators, { LAVA_REALM: REALM, LAVA_HOME: home, HOME: work });
  const localEnv = { ...baseEnv, LAVA_BACKEND: "local" };
  process.stdout.write(`${EXE} (${RUNS} runs each, after one warm-up)\n`);
  process.stdout.write(`${line("compiled hello (floor)", measure([helloExecutable(), "ok"], localEnv))}\n`);
  process.stdout.write(`${line("lava version", measure([EXE, "version"], localEnv))}\n`);
  process.stdout.write(`${line("local -w core", measure([dispatcher, "-w", WORKER, JOB], localEnv))}\n`);
  process.stdout.write(`${line("local (job lookup)", measure([dispatcher, JOB], localEnv))}\n`);
  process.stdout.write(`${line("aws -w core", measure([dispatcher, "-w", WORKER, JOB], baseEnv))}\n`);
  process.stdout.write(`${line("aws (job lookup)", measure([dispatcher, JOB], baseEnv))}\n`);
  if (!values["no-phases"]) {
    const sdk = compileProbe("probe-sdk", SDK_PROBE);
    const lite = compileProbe("probe-lite", LITE_PROBE);
    process.stdout.write(`${line("probe: SDK v3 clients", measure([sdk], baseEnv))}\n`);
    process.stdout.write(`${line("probe: lite client", measure([lite], baseEnv))}\n`);
    process.stdout.write(`${phases("SDK v3", sdk, baseEnv)}\n`);
    process.stdout.write(`${phases("lite", lite, baseEnv)}\n`);
  }
} finally {
  await emulators.stop();
  rmSync(work, { recursive: true, force: true });
}
