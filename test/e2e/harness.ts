/**
 * End-to-end harness: each scenario runs unchanged against both backends — `local` (a LAVA_HOME in a temp
 * dir) and `aws` (dynalite + fauxqs from test/support/emulators.ts) — by spawning the real CLI
 * (`bun src/main.ts worker|dispatcher ...`) as separate processes.
 */
import { afterAll, beforeAll, describe } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Item, Ports } from "../../src/ports/index.ts";
import { openLocalPorts } from "../../src/adapters/local/index.ts";
import { createRealm } from "../../src/core/realm-setup.ts";
import { realmTable } from "../../src/core/names.ts";
import { silentLogger } from "../../src/core/log.ts";
import { needs } from "../support/availability.ts";
import { childEnv, emulatorsPresent, startAwsEmulators, type AwsEmulators } from "../support/emulators.ts";
import { MAIN, ROOT } from "../support/lava-process.ts";

export { parseRecords as records, statuses, until } from "../support/lava-process.ts";

export const REALM = "ref";
export const WORKER = "core";
export const QUEUE = `lava-${REALM}-${WORKER}`;

export interface Backend {
  readonly name: "local" | "aws";
  /** In-process ports on the same realm, to seed and inspect. */
  ports: Ports;
  /** Environment for spawned lava processes. */
  env: Record<string, string>;
  /** TMPDIR config of spawned workers. */
  tmp: string;
  putJob(item: Item): Promise<void>;
  events(jobId: string): Promise<Item[]>;
}

export interface BackendOptions {
  /** Visibility timeout of the worker queue (short, so redelivery tests are quick). */
  visibilityTimeoutSeconds?: number;
}

async function seed(ports: Ports, vt: number): Promise<void> {
  await ports.queues.create(QUEUE, { visibilityTimeoutSeconds: vt, retentionSeconds: 3600 });
  await createRealm(ports, { realm: REALM, workers: [WORKER], bucket: "lava-ref" }, silentLogger());
}

function backendOf(name: "local" | "aws", ports: Ports, env: Record<string, string>, tmp: string): Backend {
  return {
    name,
    ports,
    env: { ...env, LAVA_TMPDIR: tmp, LAVA_REALM: REALM, NO_COLOR: "1" },
    tmp,
    putJob: (item) => ports.tables.put(realmTable(REALM, "jobs"), item),
    async events(jobId) {
      const page = await ports.tables.query(realmTable(REALM, "events"), { hash: { name: "job_id", value: jobId }, consistent: true });
      return page.items;
    },
  };
}

/**
 * Declares `describe("<title> [local|aws]")` for both backends; `body` gets a getter for the live backend.
 * The aws variant is skipped loudly (a failure under CI=true) when the emulators are missing.
 */
export function onBothBackends(title: string, body: (backend: () => Backend) => void, opts: BackendOptions = {}): void {
  const vt = opts.visibilityTimeoutSeconds ?? 30;
  describe(`${title} [local]`, () => {
    let backend: Backend;
    let home: string;
    beforeAll(async () => {
      home = mkdtempSync(join(tmpdir(), "lava-e2e-local-"));
      const ports = await openLocalPorts({ home });
      await seed(ports, vt);
      backend = backendOf("local", ports, { ...cleanEnv(), LAVA_BACKEND: "local", LAVA_HOME: home }, join(home, "tmp"));
    });
    afterAll(async () => {
      await backend?.ports.close();
      rmSync(home, { recursive: true, force: true });
    });
    body(() => backend);
  });

  const present = needs("dynalite and fauxqs (npm devDependencies)", emulatorsPresent.dynalite() && emulatorsPresent.fauxqs());
  describe.if(present)(`${title} [aws]`, () => {
    let backend: Backend;
    let emulators: AwsEmulators;
    let tmp: string;
    beforeAll(async () => {
      emulators = await startAwsEmulators();
      tmp = mkdtempSync(join(tmpdir(), "lava-e2e-aws-"));
      const { openAwsPorts } = await import("../../src/adapters/aws/index.ts");
      const ports = await openAwsPorts({ env: emulators.env });
      await seed(ports, vt);
      backend = backendOf("aws", ports, childEnv(emulators), tmp);
    }, 60_000);
    afterAll(async () => {
      await backend?.ports.close();
      await emulators?.stop();
      rmSync(tmp, { recursive: true, force: true });
    });
    body(() => backend);
  });
}

function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("AWS_") && !k.startsWith("LAVA_")) env[k] = v;
  return env;
}

export interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `lava <args>` to completion. */
export async function lava(backend: Backend, args: string[], extraEnv: Record<string, string> = {}): Promise<Finished> {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], { cwd: ROOT, env: { ...backend.env, ...extraEnv }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

export interface RunningWorker {
  proc: Bun.Subprocess<"ignore", "pipe", "pipe">;
  /** Resolves with the exit code and all output once the worker exits. */
  done: Promise<Finished>;
}

/** Starts `lava worker -r ref -w core --root <args>` in the background (JSON log lines on stderr). */
export function startWorker(backend: Backend, args: string[] = [], extraEnv: Record<string, string> = {}): RunningWorker {
  const proc = Bun.spawn([process.execPath, MAIN, "worker", "-r", REALM, "-w", WORKER, "--root", "--log-json", ...args], {
    cwd: ROOT,
    env: { ...backend.env, ...extraEnv },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const done = (async () => {
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { code, stdout, stderr };
  })();
  return { proc, done };
}

export async function dispatch(backend: Backend, jobId: string, ...args: string[]): Promise<string> {
  const r = await lava(backend, ["dispatcher", "-r", REALM, ...args, jobId]);
  const m = /dispatched \(([0-9a-f-]{36})\)/.exec(r.stderr);
  if (r.code !== 0 || !m) throw new Error(`dispatch of ${jobId} failed (${r.code}): ${r.stderr}`);
  return m[1]!;
}

export const jobs = {
  log: { job_id: "ref/log", type: "log", worker: WORKER, payload: null, enabled: true, owner: "e2e", description: "log" },
  cmdTrue: { job_id: "ref/cmd-true", type: "cmd", worker: WORKER, payload: "true", enabled: true, owner: "e2e", description: "true" },
  sleep: (id: string, seconds: number) => ({ job_id: id, type: "cmd", worker: WORKER, payload: `sleep ${seconds}`, parameters: { jinja: false }, enabled: true, owner: "e2e", description: "sleep" }),
};
