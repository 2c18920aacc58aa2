/**
 * One realm laid out like golden/realm-setup.json (realm `ref`, worker `core`, bucket `lava-ref`, KMS key
 * alias/lava-ref-user, the golden job items and payload objects) on the `local` backend (a temp LAVA_HOME)
 * or the `aws` backend (dynalite + fauxqs). On aws, spawned lava processes reach the emulators through
 * recording proxies, so their AWS requests can be compared with golden/requests/*.json; the in-process
 * ports used to seed and inspect go direct and are not recorded.
 */
import { Database } from "bun:sqlite";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Item, Ports } from "../../src/ports/index.ts";
import { openLocalPorts } from "../../src/adapters/local/index.ts";
import { createRealm } from "../../src/core/realm-setup.ts";
import { realmTable } from "../../src/core/names.ts";
import { silentLogger } from "../../src/core/log.ts";
import { childEnv, startAwsEmulators, type AwsEmulators } from "../support/emulators.ts";
import { MAIN, ROOT, parseRecords } from "../support/lava-process.ts";
import { golden, unmarshall, type JsonMap } from "./golden.ts";
import { startRecorder, type Recorder } from "./recorder.ts";

export const REALM = "ref";
export const WORKER = "core";
export const QUEUE = "lava-ref-core";
export const BUCKET = "lava-ref";
export const S3_KEY = "alias/lava-ref-user";
export const S3_TEMP = "s3://lava-ref/tmp";

export type BackendName = "local" | "aws";

export interface GoldenBackend {
  name: BackendName;
  ports: Ports;
  env: Record<string, string>;
  /** aws only: requests of spawned processes to DynamoDB and to fauxqs (SQS, S3, SNS). */
  recorders: Recorder[];
  close(): Promise<void>;
}

export interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

/** The golden exe script and package entry point, written so that their output matches golden/s3-outputs.json. */
const HELLO_SH = `#!/bin/sh
echo "exe hello: args=$* job=$LAVA_JOB_ID run=$LAVA_RUN_ID"
echo "exe stderr line" >&2
`;
const RUN_SH = `#!/bin/sh
echo "pkg run.sh args=$* cwd-files=$(ls | tr '\\n' ' ')"
`;

function packageArchive(work: string): Uint8Array {
  const dir = join(work, "pkg-src");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "run.sh"), RUN_SH);
  chmodSync(join(dir, "run.sh"), 0o755);
  const out = join(work, "pkg.tar.gz");
  const r = Bun.spawnSync(["tar", "-czf", out, "-C", dir, "run.sh"]);
  if (r.exitCode !== 0) throw new Error(`tar failed: ${r.stderr.toString()}`);
  return new Uint8Array(readFileSync(out));
}

async function seed(ports: Ports, work: string): Promise<void> {
  await createRealm(ports, { realm: REALM, workers: [WORKER], bucket: BUCKET, s3Key: S3_KEY }, silentLogger());
  for (const raw of golden.realmSetup().jobs_raw) await ports.tables.put(realmTable(REALM, "jobs"), unmarshall(raw) as Item);
  await ports.objects.put("s3://lava-ref/payloads/ref/hello.sh", new TextEncoder().encode(HELLO_SH));
  await ports.objects.put("s3://lava-ref/payloads/ref/pkg.tar.gz", packageArchive(work));
  await ports.objects.put("s3://lava-ref/payloads/ref/query.sql", new TextEncoder().encode(QUERY_SQL));
  // The golden connection names a file on the capture machine; ours lives in the backend's work dir. Eleven
  // rows are there before the jobs run, as in the capture, so the outputs have the captured sizes.
  const dbFile = join(work, "ref.sqlite3");
  const db = new Database(dbFile, { create: true });
  db.run("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)");
  for (let i = 0; i < 11; i++) db.run("INSERT INTO t (name) VALUES (?)", [crypto.randomUUID()]);
  db.close();
  for (const raw of golden.realmSetup().connections_raw) {
    await ports.tables.put(realmTable(REALM, "connections"), { ...(unmarshall(raw) as Item), host: dbFile });
  }
}

/** The golden sql job's payload, as its output (statement 2, header, the newest three rows) shows it was. */
const QUERY_SQL = `CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, name TEXT);
INSERT INTO t (name) VALUES ('sql-{{ job.run_id }}');
SELECT id, name FROM t ORDER BY id DESC LIMIT 3;
`;

function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("AWS_") && !k.startsWith("LAVA_")) env[k] = v;
  return env;
}

export async function openBackend(name: BackendName): Promise<GoldenBackend> {
  const work = mkdtempSync(join(tmpdir(), `lava-golden-${name}-`));
  const common = { LAVA_TMPDIR: join(work, "tmp"), LAVA_REALM: REALM, NO_COLOR: "1", TZ: "UTC" };
  if (name === "local") {
    const home = join(work, "home");
    const ports = await openLocalPorts({ home });
    await seed(ports, work);
    return {
      name,
      ports,
      env: { ...baseEnv(), ...common, LAVA_BACKEND: "local", LAVA_HOME: home },
      recorders: [],
      async close() {
        await ports.close();
        rmSync(work, { recursive: true, force: true });
      },
    };
  }
  const emulators: AwsEmulators = await startAwsEmulators();
  const { openAwsPorts } = await import("../../src/adapters/aws/index.ts");
  const ports = await openAwsPorts({ env: emulators.env });
  await seed(ports, work);
  const dynamo = startRecorder(emulators.endpoints.dynamodb);
  const fauxqs = startRecorder(emulators.endpoints.fauxqs);
  const env = childEnv(emulators, {
    ...common,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.url,
    AWS_ENDPOINT_URL_SQS: fauxqs.url,
    AWS_ENDPOINT_URL_S3: fauxqs.url,
    AWS_ENDPOINT_URL_SNS: fauxqs.url,
  });
  return {
    name,
    ports,
    env,
    recorders: [dynamo, fauxqs],
    async close() {
      dynamo.stop();
      fauxqs.stop();
      await ports.close();
      await emulators.stop();
      rmSync(work, { recursive: true, force: true });
    },
  };
}

export async function lava(b: GoldenBackend, args: string[]): Promise<Finished> {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], { cwd: ROOT, env: b.env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/**
 * `lava-worker --batch` with JSON logs and one heartbeat at start. The golden worker ran with
 * `--tag lava-ref-core` (its records carry that tag; the original's default is the program name, as
 * etc/run-worker.sh shows by passing `--tag lava-$realm-$worker-N`), so ours does too.
 */
export function runBatchWorker(b: GoldenBackend, threads = 5): Promise<Finished> {
  return lava(b, ["worker", "-r", REALM, "-w", WORKER, "--root", "--log-json", "--tag", QUEUE, "--batch", "--wait", "1", "-t", String(threads), "-b", "30"]);
}

export async function events(b: GoldenBackend, jobId: string): Promise<Item[]> {
  const page = await b.ports.tables.query(realmTable(REALM, "events"), { hash: { name: "job_id", value: jobId }, consistent: true });
  return page.items;
}

export async function eventItem(b: GoldenBackend, jobId: string, runId: string): Promise<Item | undefined> {
  return (await events(b, jobId)).find((i) => i.run_id === runId);
}

/** Every object key (as an s3:// URI) under `prefix`. */
export async function listUris(b: GoldenBackend, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = await b.ports.objects.list(prefix, token ? { continuationToken: token } : undefined);
    for (const o of page.objects) out.push(o.uri);
    token = page.continuationToken;
  } while (token);
  return out.sort();
}

export async function readText(b: GoldenBackend, uri: string): Promise<string> {
  return await new Response(await b.ports.objects.get(uri)).text();
}

/** JSON log records of a worker's stderr. */
export function logRecords(stderr: string): JsonMap[] {
  return parseRecords(stderr) as JsonMap[];
}

export function allRequests(b: GoldenBackend) {
  return b.recorders.flatMap((r) => r.requests);
}

export function clearRequests(b: GoldenBackend): void {
  for (const r of b.recorders) r.requests.length = 0;
}

export type { JsonMap };
