/** In-process worker fixtures on the local backend: a realm `ref` with worker `core`, and a Worker to drive. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLocalPorts, type LocalPorts } from "../../src/adapters/local/index.ts";
import { createRealm } from "../../src/core/realm-setup.ts";
import { realmTable } from "../../src/core/names.ts";
import { LavaConfig } from "../../src/core/config.ts";
import { memoryLogger, silentLogger } from "../../src/core/log.ts";
import type { Item, Ports } from "../../src/ports/index.ts";
import { Worker, type WorkerDeps, type WorkerOptions } from "../../src/core/worker/worker.ts";
import { findActionKind, findJobType } from "../../src/core/worker/plugins.ts";
import type { JobType } from "../../src/core/job-contract.ts";
import { loadState } from "../../src/core/state.ts";
import { GOLDEN_DIR } from "../support/shared.ts";

export const GOLDEN = GOLDEN_DIR;

export interface LocalRealm {
  home: string;
  ports: LocalPorts;
  tmp: string;
  putJob(item: Item): Promise<void>;
  close(): Promise<void>;
}

export async function localRealm(opts: { visibilityTimeoutSeconds?: number } = {}): Promise<LocalRealm> {
  const home = mkdtempSync(join(tmpdir(), "lava-worker-test-"));
  const tmp = join(home, "tmp");
  const ports = await openLocalPorts({ home });
  if (opts.visibilityTimeoutSeconds) await ports.queues.create("lava-ref-core", { visibilityTimeoutSeconds: opts.visibilityTimeoutSeconds });
  await createRealm(ports, { realm: "ref", workers: ["core"], bucket: "lava-ref" }, silentLogger());
  return {
    home,
    ports,
    tmp,
    putJob: (item) => ports.tables.put(realmTable("ref", "jobs"), item),
    async close() {
      await ports.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export function workerOptions(over: Partial<WorkerOptions> = {}): WorkerOptions {
  return { realm: "ref", worker: "core", threads: 2, waitSeconds: 0, sleepSeconds: 0, retries: 2, heartbeatSeconds: 0, batch: true, dev: false, ...over };
}

/** A worker on `ports` whose TMPDIR is `tmp`; extra job types shadow the registry's. */
export function makeWorker(
  ports: Ports,
  tmp: string,
  opts: Partial<WorkerOptions> = {},
  extra: { jobTypes?: Record<string, JobType>; deps?: Partial<WorkerDeps> } = {},
) {
  const log = memoryLogger();
  const worker = new Worker(workerOptions(opts), {
    ports,
    log,
    makeConfig: (realmConfig) => new LavaConfig(realmConfig, { LAVA_TMPDIR: tmp }),
    jobType: async (name) => extra.jobTypes?.[name] ?? findJobType(name),
    actionKind: findActionKind,
    loadState,
    hostname: "testhost",
    instanceId: null,
    pid: process.pid,
    ...extra.deps,
  });
  return { worker, log };
}

export async function eventsOf(ports: Ports, jobId: string): Promise<Item[]> {
  const page = await ports.tables.query(realmTable("ref", "events"), { hash: { name: "job_id", value: jobId } });
  return page.items;
}

export function statuses(item: Item): string[] {
  return (item.log as Item[]).map((e) => e.status as string);
}

export { silentLogger };
