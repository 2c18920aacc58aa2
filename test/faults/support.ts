/**
 * A realm on the emulators with the fault proxy in front, and real worker processes (`bun src/main.ts
 * worker`) pointed at the proxy. Seeding and inspection go straight to the emulators, never through the
 * proxy, so a rule only ever hits the worker.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Item, Ports } from "../../src/ports/index.ts";
import { createRealm } from "../../src/core/realm-setup.ts";
import { realmTable } from "../../src/core/names.ts";
import { silentLogger } from "../../src/core/log.ts";
import { dispatchJob } from "../../src/core/dispatch.ts";
import { childEnv, startAwsEmulators, type AwsEmulators } from "../support/emulators.ts";
import { MAIN, ROOT, parseRecords } from "../support/lava-process.ts";
import { proxyEnv, startFaultProxy, type FaultProxy } from "./proxy.ts";

export { parseRecords, statuses, until } from "../support/lava-process.ts";

export const REALM = "ref";
export const WORKER = "core";
export const QUEUE = `lava-${REALM}-${WORKER}`;
export const BUCKET = "lava-ref";
/** Short, so a message that was not deleted comes back within seconds. */
export const VISIBILITY_TIMEOUT = 4;
/** Given to every worker as its AWS secret key: must never appear in its output. */
export const SECRET_KEY = "faultsSecretKey/9f3b2c71e0d84aa6";

export interface FaultWorld {
  emulators: AwsEmulators;
  proxy: FaultProxy;
  /** Straight to the emulators. */
  ports: Ports;
  tmp: string;
  /** run_id of every dispatch made through `dispatch`. */
  dispatched: Map<string, string>;
  /** Every worker's full output, for the whole-file checks. */
  outputs: string[];
  close(): Promise<void>;
}

export async function startWorld(): Promise<FaultWorld> {
  const emulators = await startAwsEmulators();
  const proxy = await startFaultProxy(emulators.endpoints, { seed: 20240611 });
  const { openAwsPorts } = await import("../../src/adapters/aws/index.ts");
  const ports = await openAwsPorts({ env: emulators.env });
  await ports.queues.create(QUEUE, { visibilityTimeoutSeconds: VISIBILITY_TIMEOUT, retentionSeconds: 3600 });
  await createRealm(ports, { realm: REALM, workers: [WORKER], bucket: BUCKET }, silentLogger());
  await ports.objects.createBucket(BUCKET).catch(() => {});
  const tmp = mkdtempSync(join(tmpdir(), "lava-faults-"));
  return {
    emulators,
    proxy,
    ports,
    tmp,
    dispatched: new Map(),
    outputs: [],
    async close() {
      await ports.close();
      await proxy.stop();
      await emulators.stop();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

export function putJob(world: FaultWorld, item: Item): Promise<void> {
  return world.ports.tables.put(realmTable(REALM, "jobs"), { worker: WORKER, enabled: true, owner: "faults", description: "fault test", ...item });
}

export async function dispatch(world: FaultWorld, jobId: string, parameters?: Record<string, unknown>): Promise<string> {
  const runId = await dispatchJob(world.ports, { realm: REALM, jobId, worker: WORKER, ...(parameters ? { parameters } : {}) });
  world.dispatched.set(runId, jobId);
  return runId;
}

export async function eventOf(world: FaultWorld, jobId: string, runId: string): Promise<Item | undefined> {
  return world.ports.tables.get(realmTable(REALM, "events"), { job_id: jobId, run_id: runId }, { consistent: true });
}

/** Messages on the queue, visible or in flight. */
export async function queueDepth(world: FaultWorld): Promise<number> {
  const a = await world.ports.queues.attributes(QUEUE);
  return a.visible + a.notVisible + a.delayed;
}

export interface SpawnedWorker {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  /** stderr so far (JSON log lines). */
  readonly stderr: string;
  /** JSON records of stderr so far. */
  records(): Record<string, unknown>[];
  /** Resolves with the first record `match` accepts; fails after `ms` or when the worker exits first. */
  waitFor(what: string, match: (rec: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
  /** Exit code once the worker has exited and its output is read. */
  done: Promise<number>;
}

/**
 * Starts `lava worker -r ref -w core --root --log-json <args>` with its AWS traffic through the proxy.
 * DynamoDB and SQS calls make one request per attempt of the retry policy (src/core/retry.ts), so a rule's
 * count is the number of failures the worker's own code sees.
 */
export function spawnWorker(world: FaultWorld, args: string[], extraEnv: Record<string, string> = {}): SpawnedWorker {
  const env = {
    ...childEnv(world.emulators),
    ...proxyEnv(world.proxy),
    AWS_SECRET_ACCESS_KEY: SECRET_KEY,
    LAVA_TMPDIR: world.tmp,
    LAVA_REALM: REALM,
    NO_COLOR: "1",
    ...extraEnv,
  };
  const proc = Bun.spawn([process.execPath, MAIN, "worker", "-r", REALM, "-w", WORKER, "--root", "--log-json", ...args], {
    cwd: ROOT,
    env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let stderr = "";
  let exited = false;
  const pump = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) stderr += decoder.decode(chunk, { stream: true });
  })();
  const stdout = new Response(proc.stdout).text();
  const done = (async () => {
    const [code, , out] = await Promise.all([proc.exited, pump, stdout]);
    exited = true;
    world.outputs.push(stderr, out);
    return code;
  })();
  return {
    proc,
    get stderr() {
      return stderr;
    },
    records: () => parseRecords(stderr),
    async waitFor(what, match, ms = 20_000) {
      const deadline = performance.now() + ms;
      for (;;) {
        const found = parseRecords(stderr).find(match);
        if (found) return found;
        if (exited || performance.now() > deadline) throw new Error(`timed out waiting for ${what}; worker output:\n${stderr}`);
        await Bun.sleep(50);
      }
    },
    done,
  };
}

/** Records naming the run (fields job_id and run_id, and the realm every worker record carries). */
export function namesRun(rec: Record<string, unknown>, jobId: string, runId: string): boolean {
  return rec.realm === REALM && rec.job_id === jobId && rec.run_id === runId;
}
