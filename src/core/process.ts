/**
 * Runs a job's command in its own process group, so that a timeout, a hard stop or the end of the run can
 * kill everything it started, including background grandchildren that ignore SIGTERM.
 *
 * Guarantees (tested in test/handlers/process.test.ts):
 * - the child is a session and process-group leader (pgid = pid), stdin is /dev/null;
 * - stdout/stderr go to the given files (or the worker console in dev mode), so a flood never blocks us;
 * - on timeout the group gets SIGTERM, then SIGKILL after `graceSeconds`; the outcome is `timedOut`;
 * - after the leader exits, for any reason, the group is SIGKILLed: no process of the tree outlives the run;
 * - an aborted `signal` (worker hard stop) SIGKILLs the group at once.
 */
import { closeSync, openSync, readSync, fstatSync, readFileSync, readdirSync } from "node:fs";
import { constants as osConstants } from "node:os";

export interface ProcessOptions {
  argv: string[];
  cwd: string;
  /** The complete environment of the child (nothing is inherited implicitly). */
  env: Record<string, string>;
  /** File paths for output; "inherit" streams to the worker's own stdout/stderr (dev mode). */
  stdout: string | "inherit";
  stderr: string | "inherit";
  timeoutSeconds: number;
  /** Time between SIGTERM and SIGKILL after a timeout. */
  graceSeconds?: number;
  signal?: AbortSignal;
  /** Called once the child has started, with its pid (= pgid). */
  onStart?(pid: number): void;
}

export type ProcessOutcome =
  | { kind: "exited"; pid: number; exitStatus: number }
  | { kind: "timedOut"; pid: number; timeoutSeconds: number }
  | { kind: "aborted"; pid: number };

/** Exit status lava reports for a timed-out job (as the original). */
export const STATUS_TIMEOUT = 28;

export const DEFAULT_KILL_GRACE_SECONDS = 2;

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
  let child: ReturnType<typeof Bun.spawn>;
  try {
    child = Bun.spawn([executable, ...opts.argv.slice(1)], {
      cwd: opts.cwd,
      env: opts.env,
      stdin: "ignore",
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
  }
  const pid = child.pid;
  opts.onStart?.(pid);
  return supervise(child, pid, opts);
}

async function supervise(
  child: { exited: Promise<number>; exitCode: number | null; signalCode: NodeJS.Signals | number | null },
  pid: number,
  opts: ProcessOptions,
): Promise<ProcessOutcome> {
  let reason: "timeout" | "abort" | undefined;
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  const graceMs = (opts.graceSeconds ?? DEFAULT_KILL_GRACE_SECONDS) * 1000;
  let killAt = Infinity;
  const onAbort = () => {
    reason ??= "abort";
    killGroup(pid, "SIGKILL");
  };
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(() => {
    reason ??= "timeout";
    killGroup(pid, "SIGTERM");
    killAt = Date.now() + graceMs;
    // A leader that ignores SIGTERM would never exit: the hard kill must not depend on it exiting.
    killTimer = setTimeout(() => killGroup(pid, "SIGKILL"), graceMs);
  }, opts.timeoutSeconds * 1000);
  try {
    await child.exited;
    // The leader is gone; the rest of the group keeps what is left of its grace period before the hard kill.
    if (reason === "timeout") await waitForGroupGone(pid, killAt - Date.now());
  } finally {
    clearTimeout(timer);
    clearTimeout(killTimer);
    opts.signal?.removeEventListener("abort", onAbort);
    // Background children must not outlive the run, whatever happened.
    killGroup(pid, "SIGKILL");
  }
  if (reason === "abort") return { kind: "aborted", pid };
  if (reason === "timeout") return { kind: "timedOut", pid, timeoutSeconds: opts.timeoutSeconds };
  const signal = child.signalCode;
  const exitStatus = child.exitCode ?? -(typeof signal === "number" ? signal : signalNumber(signal ?? ""));
  return { kind: "exited", pid, exitStatus };
}

/** Waits until no process is left in the group, or `ms` passes. */
async function waitForGroupGone(pgid: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && groupHasLiveMembers(pgid)) await Bun.sleep(50);
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
  const members: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [pgid];
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const stat = procStat(Number(name));
    if (stat && stat.pgrp === pgid) members.push(Number(name));
  }
  return members;
}

function procStat(pid: number): { state: string; pgrp: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may contain spaces and parentheses; fields resume after the last ')'.
    const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { state: rest[0]!, pgrp: Number(rest[2]) };
  } catch {
    return undefined;
  }
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
