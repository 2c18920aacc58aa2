/**
 * Runs one step of a job (a cmd, exe or pkg command) so that the worker can end every process it starts:
 * its process group, and every process that left the group (setsid, double fork) but still carries the
 * step's tag in its environment (process-tag.ts). See docs/WORKER.md, "Processes of a run".
 *
 * Guarantees (tested in test/handlers/process.test.ts):
 * - the child is a session and process-group leader (pgid = pid), stdin is /dev/null unless a file is given;
 * - stdout/stderr go to the given files (or the worker console in dev mode), so a flood never blocks us;
 * - on timeout the group and the tagged processes get SIGTERM, then SIGKILL after `graceSeconds` unless all
 *   are gone by then; the outcome is `timedOut` with the time from start to the signal that ended the step;
 * - when the step ends, for any reason, the group and the tagged processes are SIGKILLed: no process of the
 *   tree outlives the step (a background child is killed when the command that started it exits);
 * - an aborted `signal` (worker hard stop) SIGKILLs them at once.
 */
import { closeSync, openSync, readSync, fstatSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { forkCounter, listPids, procStat, type ForkCounter } from "./procfs.ts";
import { PROCESS_TAG_VAR, findByTag, killAllFound, newProcessTag, signalEach, type TagOwner } from "./process-tag.ts";

export interface ProcessOptions {
  argv: string[];
  cwd: string;
  /** The complete environment of the child (nothing is inherited implicitly); the step's tag is added. */
  env: Record<string, string>;
  /** File paths for output; "inherit" streams to the worker's own stdout/stderr (dev mode). */
  stdout: string | "inherit";
  stderr: string | "inherit";
  /** A file the child reads as its standard input (sqlc's SQL file); default /dev/null. */
  stdin?: string;
  timeoutSeconds: number;
  /** Time between SIGTERM and SIGKILL after a timeout (KILL_GRACE_PERIOD). */
  graceSeconds?: number;
  /**
   * Sent first at a timeout, before SIGTERM: database clients (psql, mysql) take SIGINT as "cancel the
   * running statement" and ask the server to stop it, which SIGTERM or SIGKILL of the client would not (the
   * server would go on until it noticed the closed connection). The tree gets up to 1 s to act on it.
   */
  interruptFirst?: boolean;
  signal?: AbortSignal;
  /** Realm and worker named in the step's tag, so a later worker can find the step's orphans. */
  owner?: TagOwner;
  /** Called once the child has started, with its pid (= pgid). */
  onStart?(pid: number): void;
}

export type ProcessOutcome =
  | { kind: "exited"; pid: number; exitStatus: number }
  | {
      kind: "timedOut";
      pid: number;
      timeoutSeconds: number;
      /** Seconds from the start to the signal that ended the step: the SIGTERM, or the SIGKILL after the grace period. */
      killedAfterSeconds: number;
      killSignal: "SIGTERM" | "SIGKILL";
    }
  | { kind: "aborted"; pid: number };

/** Exit status lava reports for a timed-out job (as the original). */
export const STATUS_TIMEOUT = 28;

export const DEFAULT_KILL_GRACE_SECONDS = 2;
/** How long a client interrupted at a timeout (`interruptFirst`) has to cancel its statement. */
const INTERRUPT_GRACE_MS = 1000;

/** The command could not be started at all (missing executable, not executable, bad `#!`). */
export class ProcessStartError extends Error {
  override name = "ProcessStartError";
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

// Messages in the form the original's events show (Python's OSError text), so users see the same errors.
const START_ERRORS: Record<string, [number, string]> = {
  ENOENT: [2, "No such file or directory"],
  EACCES: [13, "Permission denied"],
  ENOEXEC: [8, "Exec format error"],
  ENOTDIR: [20, "Not a directory"],
  EISDIR: [21, "Is a directory"],
};

function startError(code: string, path: string): ProcessStartError {
  const [errno, text] = START_ERRORS[code] ?? [0, code];
  return new ProcessStartError(`[Errno ${errno}] ${text}: '${path}'`, code);
}

/**
 * Resolves argv[0] against the child's own PATH (not the worker's), like the original's subprocess does.
 * A name with a slash is used as given, relative to cwd.
 */
function resolveExecutable(argv0: string, env: Record<string, string>, cwd: string): string {
  if (argv0.includes("/")) return argv0;
  const found = Bun.which(argv0, { PATH: env.PATH ?? "", cwd });
  if (!found) throw startError("ENOENT", argv0);
  return found;
}

/** Signals a whole process group, ignoring a group that no longer exists. */
export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e;
  }
}

function signalNumber(name: string): number {
  const signals = osConstants.signals as Record<string, number>;
  return signals[name] ?? 0;
}

function openOutput(target: string | "inherit"): number | "inherit" {
  return target === "inherit" ? "inherit" : openSync(target, "w", 0o600);
}

export async function runProcessGroup(opts: ProcessOptions): Promise<ProcessOutcome> {
  if (opts.argv.length === 0) throw new ProcessStartError("empty command", "EINVAL");
  const executable = resolveExecutable(opts.argv[0]!, opts.env, opts.cwd);
  const stdout = openOutput(opts.stdout);
  const stderr = openOutput(opts.stderr);
  let stdin: number | "ignore";
  try {
    stdin = opts.stdin === undefined ? "ignore" : openSync(opts.stdin, "r");
  } catch (e) {
    if (typeof stdout === "number") closeSync(stdout);
    if (typeof stderr === "number") closeSync(stderr);
    throw e;
  }
  const tag = newProcessTag(opts.owner ?? { realm: "", worker: "" });
  const startedAt = performance.now();
  // Before the spawn, so the leader and all it starts are handed pids after this mark.
  const forks = forkCounter();
  let child: ReturnType<typeof Bun.spawn>;
  try {
    child = Bun.spawn([executable, ...opts.argv.slice(1)], {
      cwd: opts.cwd,
      env: { ...opts.env, [PROCESS_TAG_VAR]: tag },
      stdin,
      stdout,
      stderr,
      // setsid(): the child leads a new session and process group, so kill(-pid) reaches its whole tree.
      detached: true,
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw err.code && err.code in START_ERRORS ? startError(err.code, opts.argv[0]!) : e;
  } finally {
    if (typeof stdout === "number") closeSync(stdout);
    if (typeof stderr === "number") closeSync(stderr);
    if (typeof stdin === "number") closeSync(stdin);
  }
  const pid = child.pid;
  opts.onStart?.(pid);
  return supervise(child, { pid, tag, startedAt, forks }, opts);
}

/** The processes of one step: its process group (pgid = the leader's pid) and whatever carries its tag. */
interface StepTree {
  pid: number;
  tag: string;
  startedAt: number;
  /** Where process creation stood just before the spawn; undefined without /proc. */
  forks: ForkCounter | undefined;
}

type Child = { exited: Promise<number>; exitCode: number | null; signalCode: NodeJS.Signals | number | null };

async function supervise(child: Child, tree: StepTree, opts: ProcessOptions): Promise<ProcessOutcome> {
  const { pid } = tree;
  let leaderExited = false;
  void child.exited.then(() => (leaderExited = true));
  let outcome: ProcessOutcome | undefined;
  try {
    const first = await firstOf(child.exited, opts.timeoutSeconds * 1000, opts.signal);
    if (first === "abort") outcome = { kind: "aborted", pid };
    if (first === "timeout") {
      const termAfter = secondsSince(tree.startedAt);
      if (opts.interruptFirst) {
        signalTree(tree, "SIGINT");
        // The client's cancel request takes a round trip to the server; then SIGTERM for what is left.
        await waitForTreeGone(tree, () => leaderExited, INTERRUPT_GRACE_MS, opts.signal);
      }
      signalTree(tree, "SIGTERM");
      const graceMs = (opts.graceSeconds ?? DEFAULT_KILL_GRACE_SECONDS) * 1000;
      const gone = await waitForTreeGone(tree, () => leaderExited, graceMs, opts.signal);
      outcome = gone
        ? { kind: "timedOut", pid, timeoutSeconds: opts.timeoutSeconds, killedAfterSeconds: termAfter, killSignal: "SIGTERM" }
        : { kind: "timedOut", pid, timeoutSeconds: opts.timeoutSeconds, killedAfterSeconds: secondsSince(tree.startedAt), killSignal: "SIGKILL" };
    }
  } finally {
    // Whatever happened, nothing the step started outlives it: background children included.
    await killTree(tree);
  }
  await child.exited;
  if (outcome) return outcome;
  const signal = child.signalCode;
  const exitStatus = child.exitCode ?? -(typeof signal === "number" ? signal : signalNumber(signal ?? ""));
  return { kind: "exited", pid, exitStatus };
}

function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}

/** Which comes first: the leader's exit, the timeout, or the abort of `signal`. */
function firstOf(exited: Promise<number>, timeoutMs: number, signal?: AbortSignal): Promise<"exited" | "timeout" | "abort"> {
  return new Promise((resolve) => {
    const done = (what: "exited" | "timeout" | "abort"): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(what);
    };
    const onAbort = (): void => done("abort");
    const timer = setTimeout(() => done("timeout"), timeoutMs);
    if (signal?.aborted) return done("abort");
    signal?.addEventListener("abort", onAbort, { once: true });
    void exited.then(() => done("exited"));
  });
}

function signalTree(tree: StepTree, signal: NodeJS.Signals): void {
  killGroup(tree.pid, signal);
  signalEach(findByTag(tree.tag, tree.forks).map((p) => p.pid), signal);
}

/** SIGKILLs the group and every tagged process, again until none is left (a forking process is caught next round). */
async function killTree(tree: StepTree): Promise<void> {
  killGroup(tree.pid, "SIGKILL");
  await killAllFound(() => findByTag(tree.tag, tree.forks));
}

/** Waits until the leader has exited and no process of the tree is left; false when `ms` passes or `signal` aborts first. */
async function waitForTreeGone(tree: StepTree, leaderExited: () => boolean, ms: number, signal?: AbortSignal): Promise<boolean> {
  const deadline = performance.now() + ms;
  for (;;) {
    if (leaderExited() && !groupHasLiveMembers(tree.pid) && findByTag(tree.tag, tree.forks).length === 0) return true;
    if (performance.now() >= deadline || signal?.aborted) return false;
    await Bun.sleep(Math.min(50, Math.max(1, deadline - performance.now())));
  }
}

function groupHasLiveMembers(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  // Killed orphans may linger as zombies until init reaps them; those are dead for our purposes.
  return listGroup(pgid).some((p) => isProcessAlive(p));
}

function listGroup(pgid: number): number[] {
  const pids = listPids();
  // Without /proc the group is known only by its leader.
  if (pids.length === 0) return [pgid];
  return pids.filter((pid) => procStat(pid)?.pgrp === pgid);
}

/** True when `pid` exists and is not a zombie. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = procStat(pid);
  return stat === undefined ? true : stat.state !== "Z";
}

/**
 * The first `size` bytes of a file, or the last `-size` bytes when negative, as text (lava's STDERR_SIZE rule).
 * A missing file reads as "".
 */
export function readHeadOrTail(path: string, size: number): string {
  if (!size) return "";
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return "";
  }
  try {
    const fileSize = fstatSync(fd).size;
    const length = Math.min(Math.abs(size), fileSize);
    const position = size < 0 ? fileSize - length : 0;
    const buf = Buffer.alloc(length);
    const n = readSync(fd, buf, 0, length, position);
    return buf.subarray(0, n).toString("utf8");
  } finally {
    closeSync(fd);
  }
}
