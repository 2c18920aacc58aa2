/**
 * What lava reads about other processes from Linux's /proc: the pids, a process's state, group, start
 * time and owner, and one variable of the environment it was started with. Elsewhere (macOS) there is
 * no /proc: every lookup answers "nothing known" and callers fall back to process groups.
 */
import { readFileSync, readdirSync, readlinkSync, statSync } from "node:fs";

export interface ProcStat {
  /** One letter: R, S, D, Z (zombie), T, ... */
  state: string;
  ppid: number;
  pgrp: number;
  /** Clock ticks after boot at which the process started; with the pid, it names one process for good. */
  startTicks: number;
}

/** The pids of every process visible in /proc; empty where there is no /proc. */
export function listPids(): number[] {
  let names: string[];
  try {
    names = readdirSync("/proc");
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const name of names) if (/^\d+$/.test(name)) pids.push(Number(name));
  return pids;
}

export function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name may contain spaces and parentheses; the fields resume after the last ')'.
  // After it: state(3) ppid(4) pgrp(5) session(6) tty(7) tpgid(8) flags(9) minflt..cstime(10-17)
  // priority(18) nice(19) num_threads(20) itrealvalue(21) starttime(22).
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: rest[0]!, ppid: Number(rest[1]), pgrp: Number(rest[2]), startTicks: Number(rest[19]) };
}

/** The real uid owning the process, or undefined when it is gone (or there is no /proc). */
export function procUid(pid: number): number | undefined {
  try {
    return statSync(`/proc/${pid}`).uid;
  } catch {
    return undefined;
  }
}

/**
 * The value of `name` in the environment the process was started with (or last exec'd with): a process
 * changing its own variables later does not show here. Undefined when absent or unreadable (another
 * user's process, a zombie, a process gone).
 */
export function procEnvVar(pid: number, name: string): string | undefined {
  let environ: Buffer;
  try {
    environ = readFileSync(`/proc/${pid}/environ`);
  } catch {
    return undefined;
  }
  const key = Buffer.from(`${name}=`);
  for (let at = environ.indexOf(key); at >= 0; at = environ.indexOf(key, at + 1)) {
    if (at > 0 && environ[at - 1] !== 0) continue; // the name is the tail of a longer one
    const end = environ.indexOf(0, at);
    return environ.subarray(at + key.length, end < 0 ? environ.length : end).toString("utf8");
  }
  return undefined;
}

/** Seconds since the epoch at which the machine booted (`btime`), or undefined without /proc. */
export function bootTimeSeconds(): number | undefined {
  try {
    const m = /^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** USER_HZ: the unit of `startTicks`. Linux fixes it at 100 for user space on every architecture lava runs on. */
export const CLOCK_TICKS_PER_SECOND = 100;

/** When the process started, in epoch milliseconds (to the 10 ms of a clock tick), or undefined. */
export function processStartMs(pid: number): number | undefined {
  const stat = procStat(pid);
  const boot = bootTimeSeconds();
  if (!stat || boot === undefined) return undefined;
  return boot * 1000 + (stat.startTicks * 1000) / CLOCK_TICKS_PER_SECOND;
}

/**
 * Where process creation stands: the number of forks since boot (`processes` in /proc/stat, counted for
 * the whole machine) and the last pid handed out in this pid namespace (the last field of /proc/loadavg).
 * Undefined without /proc.
 */
export interface ForkCounter {
  forks: number;
  lastPid: number;
}

export function forkCounter(): ForkCounter | undefined {
  // loadavg's pid is of this process's namespace: it describes /proc's pids only when /proc is of it too.
  if (!procIsOwnNamespace()) return undefined;
  try {
    const forks = /^processes (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"));
    const lastPid = /(\d+)\s*$/.exec(readFileSync("/proc/loadavg", "utf8"));
    return forks && lastPid ? { forks: Number(forks[1]), lastPid: Number(lastPid[1]) } : undefined;
  } catch {
    return undefined;
  }
}

let pidMaxCache: number | undefined;

/** The kernel's pid_max (pids are handed out upwards and wrap to low numbers after it); 32768 when unreadable. */
export function pidMax(): number {
  if (pidMaxCache === undefined) {
    try {
      pidMaxCache = Number(readFileSync("/proc/sys/kernel/pid_max", "utf8").trim()) || 32_768;
    } catch {
      pidMaxCache = 32_768;
    }
  }
  return pidMaxCache;
}

let ownNamespace: boolean | undefined;

/** True when /proc shows this process under its own pid, i.e. /proc is of this process's pid namespace. */
function procIsOwnNamespace(): boolean {
  if (ownNamespace === undefined) {
    try {
      ownNamespace = readlinkSync("/proc/self") === String(process.pid);
    } catch {
      ownNamespace = false;
    }
  }
  return ownNamespace;
}
