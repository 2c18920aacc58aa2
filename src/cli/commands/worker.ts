/** `lava worker` / `lava-worker`: the original's options (platform.md §4.1) and start-up sequence (§4.2). */
import { defineCommand } from "./index.ts";
import { hostname } from "node:os";
import { backendArgs, backendFrom, loggerFrom, portsFrom, str, type CommonOptions } from "../common.ts";
import { explainMissingRealm, loggingArgs, noRealmMessage } from "../common.ts";
import { UsageError } from "../../core/errors.ts";
import { CompiledConfig, parseDuration } from "../../core/config.ts";
import type { Logger } from "../../core/log.ts";
import type { Ports } from "../../ports/index.ts";
import { Worker, type WorkerOptions } from "../../core/worker/worker.ts";
import { findActionKind, findJobType } from "../../core/worker/plugins.ts";
import { Heartbeat, type TaskStatus } from "../../core/worker/heartbeat.ts";
import { WorkerMetrics } from "../../core/worker/metrics.ts";
import { ignoreSoftSignals, installSignalHandlers } from "../../core/worker/signals.ts";
import { acquirePidfile, isDaemonChild, pidfilePath, spawnDaemon } from "../../core/worker/daemon.ts";
import { ec2InstanceId } from "../../core/worker/instance.ts";
import { cleanUpAfterDeadWorkers } from "../../core/orphans.ts";
import { dispatchJob } from "../../core/dispatch.ts";
import { realmTable } from "../../core/names.ts";
import { NoSuchRealmError } from "../../core/job-spec.ts";

const HEARTBEAT_MIN = 30;
const WAIT_MAX = 20;
/**
 * Deliberately unlike the original (wait 10, then sleep 10 after an empty poll): an idle worker keeps one
 * long poll open at all times, so a dispatch starts within milliseconds instead of up to ~10 s later, for one
 * request per 20 s per worker. `--batch` keeps the original's 10 s, the time it waits before deciding the
 * queue is empty.
 */
const BATCH_WAIT_DEFAULT = 10;
/** `--wait 0` asks for short polls; without a sleep between empty ones the loop would spin, so the original's. */
const SHORT_POLL_SLEEP_DEFAULT = 10;

export default defineCommand({
  meta: { description: "Lava worker: run the jobs dispatched to a worker queue." },
  args: {
    realm: { type: "string", alias: "r", valueHint: "REALM", description: "Lava realm (required)" },
    worker: { type: "string", alias: "w", valueHint: "WORKER", description: "Worker name (required)" },
    queue: { type: "string", alias: "q", valueHint: "NAME", description: "Queue name (default lava-<realm>-<worker>)" },
    threads: { type: "string", alias: "t", valueHint: "N", description: "Job slots; default 5" },
    wait: { type: "string", valueHint: "SECONDS", description: "Long-poll wait, 0..20; default 20 (10 with --batch)" },
    sleep: { type: "string", alias: "s", valueHint: "SECONDS", description: "Sleep after an empty poll; default 0 (10 with --wait 0)" },
    retries: { type: "string", valueHint: "N", description: "Drop a message received more than N+1 times; <0 disables; default 2" },
    heartbeat: { type: "string", alias: "b", valueHint: "SECONDS", description: "Heartbeat period: 0 (off, default) or >= 30" },
    "jump-start": { type: "boolean", alias: "j", description: "Dispatch this worker's enabled lavasched jobs at start" },
    batch: { type: "boolean", description: "Exit when the queue is empty" },
    daemon: { type: "boolean", alias: "d", description: "Run in the background (pidfile <realm>.<worker>.pid here)" },
    dev: { type: "boolean", description: "Development mode for job handlers (output to the console)" },
    root: { type: "boolean", description: "Allow running as root" },
    ...backendArgs,
    ...loggingArgs,
  },
  async run({ args, rawArgs }) {
    const opts = workerOptions(args);
    if (process.getuid?.() === 0 && !args.root) throw new Error("You should not run the lava worker as root (use --root to allow it)");
    if (args.daemon && !isDaemonChild()) {
      spawnDaemon(rawArgs);
      return 0;
    }
    let releasePidfile: (() => void) | undefined;
    let unignore: (() => void) | undefined;
    if (args.daemon) {
      unignore = ignoreSoftSignals();
      releasePidfile = acquirePidfile(pidfilePath(opts.realm, opts.worker));
      if (!releasePidfile) return 0; // another daemon of this worker runs from here
    }
    const log = loggerFrom(args as CommonOptions, { program: "lava-worker", realm: opts.realm, worker: opts.worker });
    const ports = await portsFrom(args as CommonOptions);
    try {
      return await serve(opts, args, ports, log, () => unignore?.());
    } finally {
      releasePidfile?.();
      await ports.close().catch(() => {});
    }
  },
});

interface ServeFlags {
  "jump-start"?: boolean;
  backend?: string;
}

async function serve(opts: WorkerOptions, flags: ServeFlags, ports: Ports, log: Logger, handlersInstalled: () => void): Promise<number> {
  const aws = backendFrom(flags as CommonOptions) === "aws";
  const host = hostname();
  const instanceId = aws ? await ec2InstanceId() : null;
  const worker = new Worker(opts, {
    ports,
    log,
    makeConfig: (realmConfig) => new CompiledConfig(realmConfig),
    jobType: findJobType,
    actionKind: findActionKind,
    loadState: async (p, realm, defaults) => (await import("../../core/state.ts")).loadState(p, realm, defaults),
    hostname: host,
    instanceId,
    pid: process.pid,
  });
  try {
    await worker.start();
    // Before the first receive: a dead worker's runs must not go on beside their redelivered copies.
    const graceSeconds = Math.max(0, worker.config.seconds("KILL_GRACE_PERIOD"));
    await cleanUpAfterDeadWorkers({ realm: opts.realm, ownTmp: worker.workerTmp, graceSeconds, log });
  } catch (err) {
    log.error((err as Error).message, { event_type: "worker" });
    if (isMissingRealm(err, opts.realm)) process.stderr.write(`lava worker: ${noRealmMessage(opts.realm)}\n`);
    return 1;
  }
  const heartbeat: Heartbeat | undefined = opts.heartbeatSeconds ? new Heartbeat(worker, opts.heartbeatSeconds, taskStatus(worker, () => heartbeat, () => metrics)) : undefined;
  const metrics = worker.config.bool("CW_METRICS_WORKER")
    ? new WorkerMetrics(worker, worker.config.seconds("CW_METRICS_PERIOD"), instanceId ?? host, () => ({ alive: opts.threads, dead: 0 }))
    : undefined;
  heartbeat?.start();
  metrics?.start();
  if (flags["jump-start"]) await jumpStart(worker, ports);

  let exitHard = (): void => {};
  const hardExit = new Promise<number>((resolve) => (exitHard = () => resolve(143)));
  const uninstall = installSignalHandlers(worker, {
    report: () => reportState(worker, taskStatus(worker, () => heartbeat, () => metrics)),
    exitHard,
  });
  handlersInstalled();
  try {
    return await Promise.race([worker.run(), hardExit]);
  } catch (err) {
    log.error((err as Error).message, { event_type: "worker" });
    await worker.hardStop();
    return 1;
  } finally {
    uninstall();
    heartbeat?.stop();
    metrics?.stop();
    await worker.cleanup();
  }
}

function taskStatus(worker: Worker, heartbeat: () => Heartbeat | undefined, metrics: () => WorkerMetrics | undefined): TaskStatus {
  return {
    threads(): Record<string, "OK" | "dead"> {
      const out: Record<string, "OK" | "dead"> = { event: "OK" };
      for (let i = 0; i < worker.opts.threads; i++) out[worker.slotName(i)] = "OK";
      const hb = heartbeat();
      if (hb) out.heartbeat = hb.alive ? "OK" : "dead";
      const m = metrics();
      if (m) out.metrics = m.alive ? "OK" : "dead";
      return out;
    },
    // Clean-up at exit: remove the worker tmp dir, plus one kill-the-process-group task per running job.
    deferredTasks: (): number => 1 + worker.busy,
  };
}

function reportState(worker: Worker, status: TaskStatus): void {
  const f = { event_type: "worker" };
  worker.log.info(`Current thread status: ${JSON.stringify(status.threads())}`, f);
  worker.log.info(`Deferred event count: ${status.deferredTasks()}`, f);
  worker.log.info(
    `Internal state: slots busy ${worker.busy}/${worker.opts.threads}, messages held ${worker.visibility.count}, ` +
      `events pending ${worker.events.pending}, received ${worker.stats.received}, runs ${worker.stats.runs}, ` +
      `rejected ${worker.stats.rejected}, dropped ${worker.stats.dropped}, released ${worker.stats.released}`,
    f,
  );
  worker.log.info(`Worker config: ${worker.config.entries().map(([k, v]) => `${k}=${v}`).join(" ")}`, f);
}

/** `-j`: dispatch this worker's enabled lavasched jobs with JUMPSTART_DELAY (platform.md §5.4). */
async function jumpStart(worker: Worker, ports: Ports): Promise<void> {
  const { realm, worker: name } = worker.opts;
  const f = { event_type: "worker" };
  const delay = worker.config.seconds("JUMPSTART_DELAY");
  let startKey: Record<string, string | number> | undefined;
  do {
    const page = await ports.tables.scan(realmTable(realm, "jobs"), {
      filter: [
        { attribute: "type", op: "eq", value: "lavasched" },
        { attribute: "worker", op: "eq", value: name },
        { attribute: "enabled", op: "eq", value: true },
      ],
      startKey,
    });
    for (const item of page.items) {
      const jobId = item.job_id;
      if (typeof jobId !== "string") {
        // Never the item itself: its parameters may hold secrets.
        worker.log.warning(`Jumpstart: Bad job spec: job_id is not a string (fields: ${Object.keys(item).sort().join(", ")})`, f);
        continue;
      }
      try {
        await dispatchJob(ports, { realm, jobId, worker: name, delaySeconds: delay, queue: worker.queue });
        worker.log.info(`Jumpstart: Dispatched ${jobId} to ${name}`, f);
      } catch (err) {
        worker.log.error(`Jumpstart: Cannot dispatch ${jobId}: ${(err as Error).message}`, f);
      }
    }
    startKey = page.lastKey;
  } while (startKey);
}

/** The worker logs the original's words; this tells the person at the terminal what to do. */
function isMissingRealm(err: unknown, realm: string): boolean {
  if (err instanceof NoSuchRealmError) return true;
  return explainMissingRealm(err, realm) !== err;
}

function intArg(value: unknown, name: string, fallback: number): number {
  const text = str(value);
  if (text === undefined) return fallback;
  if (!/^[+-]?\d+$/.test(text.trim())) throw new UsageError(`argument ${name}: invalid int value: '${text}'`);
  return Number.parseInt(text, 10);
}

/** The options as the original checks them; violations are usage errors (exit 2). */
export function workerOptions(args: Record<string, unknown>): WorkerOptions {
  const realm = str(args.realm);
  const worker = str(args.worker);
  if (!realm) throw new UsageError("the following arguments are required: -r/--realm");
  if (!worker) throw new UsageError("the following arguments are required: -w/--worker");
  if (args.batch && args.daemon) throw new UsageError("argument -d/--daemon: not allowed with argument --batch");
  const threads = intArg(args.threads, "-t/--threads", 5);
  if (threads < 1) throw new UsageError("argument -t/--threads: must be at least 1");
  const batch = Boolean(args.batch);
  const waitSeconds = intArg(args.wait, "--wait", batch ? BATCH_WAIT_DEFAULT : WAIT_MAX);
  if (waitSeconds < 0 || waitSeconds > WAIT_MAX) throw new UsageError(`argument --wait: must be between 0 and ${WAIT_MAX}`);
  const heartbeatText = str(args.heartbeat);
  let heartbeatSeconds = 0;
  if (heartbeatText !== undefined) {
    try {
      heartbeatSeconds = parseDuration(heartbeatText);
    } catch {
      throw new UsageError(`argument -b/--heartbeat: invalid value: '${heartbeatText}'`);
    }
  }
  if (heartbeatSeconds && heartbeatSeconds < HEARTBEAT_MIN) {
    throw new UsageError(`Argument -b/--heartbeat: value must be 0 or greater than ${HEARTBEAT_MIN}`);
  }
  return {
    realm,
    worker,
    queue: str(args.queue),
    threads,
    waitSeconds,
    sleepSeconds: Math.max(0, intArg(args.sleep, "-s/--sleep", waitSeconds > 0 ? 0 : SHORT_POLL_SLEEP_DEFAULT)),
    retries: intArg(args.retries, "--retries", 2),
    heartbeatSeconds,
    batch,
    dev: Boolean(args.dev),
  };
}
