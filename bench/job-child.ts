/**
 * What bench/sql.ts and bench/load.ts share for timing one database job in a process of its own: ports whose
 * tables (the `pg` connection, its password) are local and whose object store is local or emulated S3, the
 * JobRun the handler gets, and the process's peak RSS.
 */
import { readFileSync } from "node:fs";
import { LavaConfig } from "../src/core/config.ts";
import { silentLogger } from "../src/core/log.ts";
import { realmTable } from "../src/core/names.ts";
import type { JobRun } from "../src/core/job-contract.ts";
import { openLocalPorts } from "../src/adapters/local/index.ts";
import type { Ports } from "../src/ports/index.ts";

/** Local tables either way; objects in S3 (the emulators of the environment) when `backend` is aws. */
export async function openBenchPorts(backend: "local" | "aws", home: string): Promise<Ports> {
  const local = await openLocalPorts({ home });
  await local.tables.createTable({ name: realmTable("bench", "connections"), hash: "conn_id" }).catch(() => {});
  await local.tables.put(realmTable("bench", "connections"), {
    conn_id: "pg",
    type: "postgres",
    enabled: true,
    host: "127.0.0.1",
    port: 5432,
    database: "test",
    user: "postgres",
    password: "/bench/pg",
  });
  local.local.putParameter("/bench/pg", "x", { secure: true });
  if (backend === "local") return local;
  const aws = await (await import("../src/adapters/aws/index.ts")).openAwsPorts({ env: process.env as Record<string, string> });
  return { ...local, objects: aws.objects, close: async () => (await aws.close(), await local.close()) };
}

/** The run a handler gets for job `jobId` of realm `bench`, with `parameters` as given and no rendering. */
export function benchJobRun(ports: Ports, work: string, jobId: string, type: string, payload: unknown, parameters: Record<string, unknown>): JobRun {
  const now = new Date();
  const runId = crypto.randomUUID();
  return {
    job: {
      job_id: jobId,
      type,
      worker: "core",
      payload,
      owner: "",
      description: "",
      enabled: true,
      max_tries: 0,
      parameters,
      globals: {},
      state: {},
      realm: "bench",
      run_id: runId,
      ts_dispatch: now,
      ts_start: now,
      ts_ustart: now,
    },
    realm: { realm: "bench", s3_payloads: "s3://lava-bench/payloads", s3_temp: "s3://lava-bench/tmp", config: {}, item: {} },
    runDir: work,
    s3tmp: `s3://lava-bench/tmp/${jobId}/${runId}`,
    dev: false,
    ports,
    config: new LavaConfig({}, {}),
    log: silentLogger(),
    render: async (t: string) => t,
    signal: new AbortController().signal,
  } as unknown as JobRun;
}

/** This process's peak resident set (VmHWM), in bytes. */
export function peakRssBytes(): number {
  return Number(/VmHWM:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))![1]) * 1024;
}
