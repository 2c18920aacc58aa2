/**
 * A seeded realm on the AWS emulators (dynalite + fauxqs on loopback) and on the local backend, for timing
 * whole lava processes from outside with any tool.
 *
 *   bun bench/fixture.ts [--env-file FILE] [--hold SECONDS]
 *
 * Starts the emulators, creates realm `bench` with workers `core` and `sink` and jobs `bench/job` (cmd `true`,
 * worker core), `bench/log` (log, core) and `bench/sink` (cmd `true`, sink) on both backends, writes `KEY=VALUE` lines (the emulator endpoints, LAVA_REALM, LAVA_HOME) to FILE
 * [bench-fixture.env in a new temporary directory, printed], then keeps everything up for SECONDS [600] or
 * until interrupted. Example, from another shell:
 *
 *   env $(cat FILE) /usr/bin/time -v dist/lava dispatcher bench/job
 *
 * Other benches (bench/compare.ts, bench/dispatch.ts) import `startFixture` instead.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { openLocalPorts } from "../src/adapters/local/index.ts";
import { openAwsPorts } from "../src/adapters/aws/index.ts";
import { createRealm } from "../src/core/realm-setup.ts";
import { realmTable } from "../src/core/names.ts";
import { silentLogger } from "../src/core/log.ts";
import type { Ports } from "../src/ports/index.ts";
import { startAwsEmulators, type AwsEmulators } from "../test/support/emulators.ts";

export const REALM = "bench";
export const WORKER = "core";
/** A cmd `true` job for worker `core`. */
export const JOB = "bench/job";
/** A `log` job for worker `core`: the cheapest job there is, so a worker's own costs show. */
export const LOG_JOB = "bench/log";
/** Worker whose queue no worker reads: dispatcher timings send here, leaving `core`'s queue empty. */
export const SINK_WORKER = "sink";
/** A cmd `true` job for worker `sink`. */
export const SINK_JOB = "bench/sink";

export interface Fixture {
  /** Emulator endpoints, credentials, LAVA_REALM, LAVA_HOME (local backend) — no other variables. */
  env: Record<string, string>;
  work: string;
  emulators: AwsEmulators;
  stop(): Promise<void>;
}

export async function seedRealm(ports: Ports): Promise<void> {
  await createRealm(ports, { realm: REALM, workers: [WORKER, SINK_WORKER] }, silentLogger());
  const jobs: [string, string, string, string | null][] = [
    [JOB, "cmd", WORKER, "true"],
    [LOG_JOB, "log", WORKER, null],
    [SINK_JOB, "cmd", SINK_WORKER, "true"],
  ];
  for (const [job_id, type, worker, payload] of jobs) {
    await ports.tables.put(realmTable(REALM, "jobs"), { job_id, type, worker, payload, owner: "bench", description: "bench", enabled: true });
  }
}

export async function startFixture(): Promise<Fixture> {
  const work = mkdtempSync(join(tmpdir(), "lava-bench-fixture-"));
  const emulators = await startAwsEmulators();
  const home = join(work, "home");
  try {
    const local = await openLocalPorts({ home });
    await seedRealm(local);
    await local.close();
    const aws = await openAwsPorts({ env: emulators.env });
    await seedRealm(aws);
    await aws.close();
  } catch (e) {
    await emulators.stop();
    throw e;
  }
  return {
    env: { ...emulators.env, LAVA_REALM: REALM, LAVA_HOME: home },
    work,
    emulators,
    async stop() {
      await emulators.stop();
      rmSync(work, { recursive: true, force: true });
    },
  };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { "env-file": { type: "string" }, hold: { type: "string", default: "600" } } });
  const fixture = await startFixture();
  const envFile = values["env-file"] ?? join(fixture.work, "bench-fixture.env");
  writeFileSync(envFile, Object.entries(fixture.env).map(([k, v]) => `${k}=${v}\n`).join(""));
  process.stdout.write(`${envFile}\n`);
  const stop = async () => {
    await fixture.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
  setTimeout(() => void stop(), Number(values.hold) * 1000);
}
