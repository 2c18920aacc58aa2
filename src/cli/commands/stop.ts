/**
 * `lava stop` / `lava-stop`: controlled stop of the lava worker daemons on this host (platform.md §6, §9.9).
 *
 * 1. Find our worker processes by command line (see `workerFromArgv`).
 * 2. With `-D`, touch NO_DISPATCH so the dispatcher crontab sends nothing more from this host.
 * 3. Send `--signal` (default 0: only report who is running). SIGHUP asks a worker to finish its
 *    running and buffered jobs, then exit.
 * 4. With `--wait`, wait up to that long for them to exit, then SIGTERM, then SIGKILL whoever is left.
 * 5. With the auto-scaling options, send lifecycle heartbeats while waiting and complete the lifecycle
 *    action (always CONTINUE: the instance is being terminated either way).
 *
 * Deviations from the original, both deliberate: NO_DISPATCH is touched even when no worker runs (the
 * dispatcher crontab runs without workers too), and the lifecycle action is completed even when no
 * worker was found (the original returned early, leaving the instance waiting out the hook timeout).
 */
import { defineCommand } from "./index.ts";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync } from "node:fs";
import { constants } from "node:os";
import { basename, dirname } from "node:path";
import { LavaConfig, parseDuration } from "../../core/config.ts";
import { UsageError } from "../../core/errors.ts";
import type { Logger } from "../../core/log.ts";
import { loggingArgs, loggerFrom, str } from "../common.ts";

/** The original refuses lifecycle heartbeats more often than this (seconds). */
export const MIN_LIFECYCLE_HEARTBEAT = 60;

export interface StopTiming {
  /** How often to check whether signalled workers have exited (ms). */
  pollMs: number;
  /** After SIGTERM, how long to wait before checking for survivors (ms). */
  signsOfLifeMs: number;
  /** Further wait before SIGKILL for survivors (ms). */
  coupDeGraceMs: number;
}

/** The original's pauses: 3 s after SIGTERM, then 10 s more before SIGKILL. It polled every 10 s; 1 s is kinder. */
export const DEFAULT_TIMING: StopTiming = { pollMs: 1000, signsOfLifeMs: 3000, coupDeGraceMs: 10_000 };

export interface WorkerProcess {
  pid: number;
  realm: string;
  worker: string;
  argv: string[];
}

/** `<realm>-<worker>`, as the original names them in its log lines. */
export function workerLabel(w: WorkerProcess): string {
  return `${w.realm}-${w.worker}`;
}

/** `-r/--realm` and `-w/--worker` from a worker's arguments (other options ignored). */
export function realmAndWorker(args: string[]): { realm?: string; worker?: string } {
  const found: { realm?: string; worker?: string } = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") break;
    for (const [key, short, long] of [["realm", "-r", "--realm"], ["worker", "-w", "--worker"]] as const) {
      if (a === short || a === long) found[key] = args[++i];
      else if (a.startsWith(`${long}=`)) found[key] = a.slice(long.length + 1);
      else if (a.startsWith(short) && a.length > 2 && !a.startsWith("--")) found[key] = a.slice(2);
    }
  }
  return found;
}

/**
 * The worker arguments when `argv` is a lava worker process, else undefined. Recognised forms:
 * - `.../lava-worker ARGS`           compiled executable run under the worker's name
 * - `.../lava worker ARGS`           compiled executable, command form
 * - `bun .../src/main.ts worker ARGS` (or `.../main.js`) from source; `bun .../main.ts ARGS` when the
 *                                     npm shim started it as lava-worker (`LAVA_ARGV0` in its environment)
 * - `python3 .../lava-worker ARGS`   the original, so a mixed fleet on one host is stopped too
 */
export function workerArgs(argv: string[], environ: Record<string, string> = {}): string[] | undefined {
  const [exe, first, second] = argv;
  if (exe === undefined) return undefined;
  const prog = basename(exe);
  if (prog === "lava-worker") return argv.slice(1);
  if (prog === "lava" && first === "worker") return argv.slice(2);
  if (/^bun(-\w+)?(\.exe)?$/.test(prog) && first !== undefined && /(^|\/)main\.[jt]s$/.test(first)) {
    if (second === "worker") return argv.slice(3);
    if (environ.LAVA_ARGV0 === "lava-worker") return argv.slice(2);
    return undefined;
  }
  if (/python/i.test(prog) && first !== undefined && /\/lava-worker(\.py)?$/.test(first)) return argv.slice(2);
  return undefined;
}

export function workerFromArgv(pid: number, argv: string[], environ: Record<string, string> = {}): WorkerProcess | undefined {
  const args = workerArgs(argv, environ);
  if (!args) return undefined;
  const { realm, worker } = realmAndWorker(args);
  if (!realm || !worker) return undefined;
  return { pid, realm, worker, argv };
}

function readNulList(path: string): string[] {
  try {
    return readFileSync(path, "latin1").split("\0").filter((s, i, all) => s !== "" || i < all.length - 1);
  } catch {
    return []; // gone, or not ours to read
  }
}

function readEnviron(pid: number, procRoot: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of readNulList(`${procRoot}/${pid}/environ`)) {
    const eq = entry.indexOf("=");
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/** Worker processes on this host, from /proc (Linux) or `ps` (macOS, where argv boundaries are lost). */
export function findWorkers(procRoot = "/proc", self = process.pid): WorkerProcess[] {
  const found: WorkerProcess[] = [];
  if (existsSync(`${procRoot}/self`) || procRoot !== "/proc") {
    for (const name of readdirSync(procRoot)) {
      if (!/^\d+$/.test(name)) continue;
      const pid = Number(name);
      if (pid === self) continue;
      const argv = readNulList(`${procRoot}/${pid}/cmdline`);
      if (argv.length === 0) continue;
      const w = workerFromArgv(pid, argv, argv.some((a) => /main\.[jt]s$/.test(a)) ? readEnviron(pid, procRoot) : {});
      if (w) found.push(w);
    }
    return found.sort((a, b) => a.pid - b.pid);
  }
  const ps = Bun.spawnSync(["ps", "-axww", "-o", "pid=,command="], { stdout: "pipe", stderr: "ignore" });
  for (const line of ps.stdout.toString().split("\n")) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (!m || Number(m[1]) === self) continue;
    const w = workerFromArgv(Number(m[1]), m[2]!.trim().split(/\s+/));
    if (w) found.push(w);
  }
  return found.sort((a, b) => a.pid - b.pid);
}

/** Signal number from `HUP`, `SIGHUP`, `hup` or `1`; 0 probes for existence only. */
export function parseSignal(text: string): number {
  const t = text.trim();
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    if (n > 64) throw new UsageError(`invalid signal number ${n}`);
    return n;
  }
  const name = t.toUpperCase().replace(/^SIG/, "");
  const n = (constants.signals as Record<string, number>)[`SIG${name}`];
  if (n === undefined) throw new UsageError(`unknown signal "${text}"`);
  return n;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function send(pid: number, signal: number): "sent" | "gone" {
  try {
    process.kill(pid, signal);
    return "sent";
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ESRCH") return "gone";
    throw e;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Waits up to `waitSeconds` for `workers` to exit by themselves, then SIGTERM, then SIGKILL for any
 * still alive after the grace periods. Returns the pids that had to be killed.
 */
export async function waitThenTerminate(
  workers: WorkerProcess[],
  waitSeconds: number,
  log: Logger,
  timing: StopTiming = DEFAULT_TIMING,
): Promise<{ terminated: number[]; killed: number[] }> {
  const deadline = Date.now() + waitSeconds * 1000;
  let running = workers.filter((w) => isAlive(w.pid));
  while (running.length > 0 && Date.now() < deadline) {
    await sleep(Math.min(timing.pollMs, Math.max(0, deadline - Date.now())));
    for (const w of running) if (!isAlive(w.pid)) log.info(`${workerLabel(w)} (${w.pid}): finished`);
    running = running.filter((w) => isAlive(w.pid));
  }
  if (running.length === 0) return { terminated: [], killed: [] };

  for (const w of running) {
    log.warning(`${workerLabel(w)} (${w.pid}): terminating`);
    send(w.pid, constants.signals.SIGTERM);
  }
  const terminated = running.map((w) => w.pid);
  await sleep(timing.signsOfLifeMs);
  running = running.filter((w) => isAlive(w.pid));
  if (running.length === 0) return { terminated, killed: [] };

  log.debug("Waiting to deliver coup de grace");
  await sleep(timing.coupDeGraceMs);
  const killed: number[] = [];
  for (const w of running.filter((x) => isAlive(x.pid))) {
    log.warning(`${workerLabel(w)} (${w.pid}): killing`);
    if (send(w.pid, constants.signals.SIGKILL) === "sent") killed.push(w.pid);
  }
  return { terminated, killed };
}

export interface LifecycleArgs {
  AutoScalingGroupName: string;
  LifecycleHookName: string;
  InstanceId?: string;
  LifecycleActionToken?: string;
}

/** Checks the auto-scaling options the way the original does; undefined when none were given. */
export function lifecycleArgs(opts: {
  group?: string;
  hook?: string;
  instance?: string;
  token?: string;
  heartbeat?: string;
}): LifecycleArgs | undefined {
  if (opts.group || opts.hook) {
    if (!opts.group || !opts.hook) throw new UsageError("Inconsistent auto scaling arguments");
    if (!opts.instance && !opts.token) throw new UsageError("At least one of --instance-id or --lifecycle-action-token are required");
    return {
      AutoScalingGroupName: opts.group,
      LifecycleHookName: opts.hook,
      ...(opts.instance ? { InstanceId: opts.instance } : {}),
      ...(opts.token ? { LifecycleActionToken: opts.token } : {}),
    };
  }
  if (opts.instance || opts.token || opts.heartbeat) throw new UsageError("Inconsistent auto scaling arguments");
  return undefined;
}

/** Profile and region as the aws CLI reads them (the JS SDK alone ignores AWS_DEFAULT_REGION). */
export function awsClientConfig(profile: string | undefined, env: NodeJS.ProcessEnv = process.env): { profile?: string; region?: string } {
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  return { ...(profile ? { profile } : {}), ...(region ? { region } : {}) };
}

interface Lifecycle {
  heartbeat(): Promise<void>;
  complete(): Promise<void>;
}

async function lifecycleClient(args: LifecycleArgs, profile: string | undefined): Promise<Lifecycle> {
  // Loaded only when asked for: most runs of lava-stop never talk to AWS.
  const asg = await import("@aws-sdk/client-auto-scaling");
  const client = new asg.AutoScalingClient(awsClientConfig(profile));
  return {
    async heartbeat() {
      await client.send(new asg.RecordLifecycleActionHeartbeatCommand(args));
    },
    async complete() {
      await client.send(new asg.CompleteLifecycleActionCommand({ ...args, LifecycleActionResult: "CONTINUE" }));
    },
  };
}

function touch(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  closeSync(openSync(path, "a"));
}

export default defineCommand({
  meta: { description: "Stop the lava worker daemons on this host (controlled stop, then force)" },
  args: {
    signal: {
      type: "string",
      alias: "sig",
      valueHint: "SIGNAL",
      description: "Signal to send, by name (SIGHUP, HUP) or number. Default 0: only check which workers run. SIGHUP = finish running jobs, then exit",
    },
    wait: {
      type: "string",
      alias: "w",
      valueHint: "DURATION",
      description: "Wait up to this long (e.g. 15m) for the workers to exit, then SIGTERM, then SIGKILL",
    },
    "no-dispatch": { type: "boolean", alias: "D", description: "Inhibit scheduled dispatches from this host by touching NO_DISPATCH" },
    profile: { type: "string", valueHint: "PROFILE", description: "AWS profile (auto-scaling options only)" },
    "auto-scaling-group-name": { type: "string", valueHint: "NAME", description: "Complete the lifecycle action of this auto-scaling group (needs --lifecycle-hook-name)" },
    "lifecycle-hook-name": { type: "string", valueHint: "NAME", description: "The auto-scaling lifecycle hook" },
    "instance-id": { type: "string", valueHint: "ID", description: "The EC2 instance of the lifecycle action" },
    "lifecycle-action-token": { type: "string", valueHint: "UUID", description: "The lifecycle action token" },
    "lifecycle-heartbeat": { type: "string", valueHint: "DURATION", description: `Record a lifecycle heartbeat this often while waiting (at least ${MIN_LIFECYCLE_HEARTBEAT}s)` },
    ...loggingArgs,
  },
  async run({ args }) {
    const signal = str(args.signal) === undefined ? 0 : parseSignal(args.signal as string);
    const waitSeconds = durationArg(str(args.wait), "--wait");
    const heartbeatSeconds = durationArg(str(args["lifecycle-heartbeat"]), "--lifecycle-heartbeat");
    if (heartbeatSeconds !== undefined && heartbeatSeconds < MIN_LIFECYCLE_HEARTBEAT) {
      throw new UsageError(`lifecycle-heartbeat must be >= ${MIN_LIFECYCLE_HEARTBEAT} seconds`);
    }
    const asgArgs = lifecycleArgs({
      group: str(args["auto-scaling-group-name"]),
      hook: str(args["lifecycle-hook-name"]),
      instance: str(args["instance-id"]),
      token: str(args["lifecycle-action-token"]),
      heartbeat: str(args["lifecycle-heartbeat"]),
    });
    const noDispatch = args["no-dispatch"] === true || (args as { dispatch?: boolean }).dispatch === false;
    const log = loggerFrom(args, { program: "lava-stop" });
    return stop({ signal, waitSeconds, heartbeatSeconds, asgArgs, noDispatch, profile: str(args.profile), log });
  },
});

function durationArg(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseDuration(text);
  } catch (e) {
    throw new UsageError(`${flag}: ${(e as Error).message}`);
  }
}

export interface StopOptions {
  signal: number;
  waitSeconds?: number;
  heartbeatSeconds?: number;
  asgArgs?: LifecycleArgs;
  noDispatch: boolean;
  profile?: string;
  log: Logger;
  timing?: StopTiming;
  procRoot?: string;
  /** Tests: only act on the workers this accepts (a test must never signal another test's workers). */
  select?: (w: WorkerProcess) => boolean;
}

export async function stop(opts: StopOptions): Promise<number> {
  const { log } = opts;
  const workers = findWorkers(opts.procRoot).filter(opts.select ?? (() => true));
  if (workers.length === 0) log.info("No lava workers found");

  if (opts.noDispatch) {
    const path = new LavaConfig().str("NO_DISPATCH");
    log.info(`Creating ${path}`);
    touch(path);
  }

  const lifecycle = opts.asgArgs ? await lifecycleClient(opts.asgArgs, opts.profile) : undefined;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  // The heartbeat in flight, if any: completion waits for it so no heartbeat arrives after the action is complete.
  let beating: Promise<void> = Promise.resolve();
  if (lifecycle && opts.heartbeatSeconds !== undefined) {
    heartbeat = setInterval(() => {
      beating = beating.then(() =>
        lifecycle.heartbeat().then(
          () => log.info("Lifecycle hook heartbeat sent"),
          (e: unknown) => log.error(`Lifecycle heartbeat error: ${e instanceof Error ? e.message : String(e)}`),
        ),
      );
    }, opts.heartbeatSeconds * 1000);
  }

  try {
    for (const w of workers) {
      log.debug(`${workerLabel(w)} (${w.pid}): ${w.argv.slice(1).join(" ")}`);
      if (send(w.pid, opts.signal) === "sent") log.info(`${workerLabel(w)} [${w.pid}] sent signal ${opts.signal}`);
      else log.info(`PID ${w.pid}: No such process`);
    }
    if (opts.waitSeconds !== undefined && workers.length > 0) {
      log.info(`Workers have ${opts.waitSeconds} seconds to terminate`);
      await waitThenTerminate(workers, opts.waitSeconds, log, opts.timing);
      log.info("Workers shutdown complete");
    }
  } finally {
    if (heartbeat) clearInterval(heartbeat);
    await beating;
  }

  if (lifecycle) {
    log.info("Completing auto scaling lifecycle action");
    await lifecycle.complete();
  }
  return 0;
}
