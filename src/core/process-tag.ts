/**
 * The mark every process of a job step carries, so the worker can find the whole tree again even where the
 * process group cannot: a job that calls `setsid` or double-forks leaves the group, but a process keeps the
 * environment it was started with, and Linux shows that environment in /proc/<pid>/environ.
 *
 * Each step (one runProcessGroup) gets its own tag in the variable LAVA_RUN_TOKEN:
 *
 *     <worker pid>.<worker start ticks>.<step number>/<realm>/<worker name>
 *
 * The worker's pid and start time name one worker process for good (a reused pid has another start time),
 * so a later worker can tell that the worker of a tag is dead and its processes are orphans (orphans.ts).
 * The step number keeps two steps of one run apart (dag children run side by side under one run_id).
 *
 * What the mark cannot do: a process that starts a program with a cleared or rewritten environment
 * (`env -i`, some `sudo` setups) or that runs as another user is invisible to it; only the process group
 * still reaches such a process. Where there is no /proc (macOS) nothing is found and only the group is killed.
 */
import { forkCounter, listPids, pidMax, procEnvVar, procStat, procUid, type ForkCounter } from "./procfs.ts";

export const PROCESS_TAG_VAR = "LAVA_RUN_TOKEN";

export interface TagOwner {
  realm: string;
  worker: string;
}

export interface ProcessTag extends TagOwner {
  workerPid: number;
  workerStartTicks: number;
  step: number;
}

export interface TaggedProcess {
  pid: number;
  tag: ProcessTag;
}

let steps = 0;
let selfStartTicks: number | undefined;

function ownStartTicks(): number {
  selfStartTicks ??= procStat(process.pid)?.startTicks ?? 0;
  return selfStartTicks;
}

/** A new tag for one step started by this worker process. */
export function newProcessTag(owner: TagOwner): string {
  steps++;
  return `${process.pid}.${ownStartTicks()}.${steps}/${owner.realm}/${owner.worker}`;
}

const TAG_RE = /^(\d+)\.(\d+)\.(\d+)\/([^/]*)\/(.*)$/s;

export function parseProcessTag(text: string): ProcessTag | undefined {
  const m = TAG_RE.exec(text);
  if (!m) return undefined;
  return { workerPid: Number(m[1]), workerStartTicks: Number(m[2]), step: Number(m[3]), realm: m[4]!, worker: m[5]! };
}

/**
 * Live processes of our own user whose environment carries a tag that `match` accepts. The worker itself is
 * never among them, even when it was started by a job and so carries a tag of its own.
 */
export function findTagged(match: (tag: ProcessTag, text: string) => boolean, among?: (pid: number) => boolean): TaggedProcess[] {
  const uid = process.getuid?.();
  const found: TaggedProcess[] = [];
  for (const pid of listPids()) {
    if (pid === process.pid || (among && !among(pid))) continue;
    const text = procEnvVar(pid, PROCESS_TAG_VAR);
    if (text === undefined) continue;
    const tag = parseProcessTag(text);
    if (!tag || !match(tag, text)) continue;
    if (uid !== undefined && procUid(pid) !== uid) continue;
    found.push({ pid, tag });
  }
  return found;
}

/**
 * Processes carrying exactly this tag. With `since` (where process creation stood before the step's leader
 * was spawned), only pids handed out after it are read: every process of the step was created after its
 * leader. Reading the environment of every process on the machine was most of a `cmd true` job's cost.
 */
export function findByTag(tag: string, since?: ForkCounter): TaggedProcess[] {
  return findTagged((_, text) => text === tag, since && newPidsFilter(since, forkCounter(), pidMax()));
}

/**
 * Which pids may belong to processes created after `since`, judged from where creation stands `now`; undefined
 * (every pid) when that cannot be told. Pids are handed out upwards and wrap past `pidMax` to low numbers,
 * so those created since form the circular interval (since.lastPid, now.lastPid], as long as fewer forks
 * than pid_max happened in between (otherwise the counter may have lapped: read everything).
 */
export function newPidsFilter(since: ForkCounter, now: ForkCounter | undefined, max: number): ((pid: number) => boolean) | undefined {
  if (!now || now.forks - since.forks >= max / 2) return undefined;
  const from = since.lastPid;
  const to = now.lastPid;
  if (now.forks === since.forks) return () => false;
  return to > from ? (pid) => pid > from && pid <= to : (pid) => pid > from || pid <= to;
}

/** True when the worker process a tag names has gone: no such pid, a zombie, or the pid now names another process. */
export function isTagOwnerGone(tag: ProcessTag): boolean {
  return isWorkerGone(tag.workerPid, tag.workerStartTicks);
}

/** True when the process `pid` that started at `startTicks` has gone. Without /proc only the pid can be checked. */
export function isWorkerGone(pid: number, startTicks: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ESRCH") return true;
  }
  const stat = procStat(pid);
  if (stat === undefined) return false;
  return stat.state === "Z" || stat.startTicks !== startTicks;
}

/**
 * Sends `signal` to each pid. A process already gone (ESRCH) is what we wanted; one we may not signal
 * (EPERM: it became another user's between the look and the kill) is beyond our reach, and killing the
 * others matters more than reporting it.
 */
export function signalEach(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ESRCH" && code !== "EPERM") throw e;
    }
  }
}

const KILL_ROUNDS = 50;
const KILL_ROUND_PAUSE_MS = 10;

/**
 * SIGKILLs every process `find` returns, again and again until it returns none: a process may fork between
 * one look and the kill, and its child is caught in the next round. Returns the pids killed.
 */
export async function killAllFound(find: () => TaggedProcess[]): Promise<number[]> {
  const killed = new Set<number>();
  for (let round = 0; round < KILL_ROUNDS; round++) {
    const pids = find().map((p) => p.pid);
    if (pids.length === 0) break;
    signalEach(pids, "SIGKILL");
    for (const pid of pids) killed.add(pid);
    await Bun.sleep(KILL_ROUND_PAUSE_MS);
  }
  return [...killed];
}
