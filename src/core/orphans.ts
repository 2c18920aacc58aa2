/**
 * What a dead worker leaves behind on its host, cleaned up by the next worker of the realm before it takes
 * any message: job processes still running (a SIGKILLed worker kills nothing, and its messages come back
 * to the queue, so without this the redelivered run would start a second copy beside the first) and its
 * tmp directory `<TMPDIR>/<realm>/<worker>.<pid>` with the run directories in it.
 *
 * A worker is dead when the process its tags name (pid and start time, process-tag.ts) is gone or the pid
 * now belongs to another process. Only processes and directories of our own user are touched, and never
 * those of a live worker. See docs/WORKER.md, "Processes of a run".
 */
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Logger } from "./log.ts";
import { procEnvVar, procStat } from "./procfs.ts";
import { findTagged, isTagOwnerGone, isWorkerGone, killAllFound, signalEach, type TaggedProcess } from "./process-tag.ts";

/** Names the worker process that owns a tmp dir (a pid alone may have been reused since). */
export const OWNER_FILE = ".lava-worker-id";

export interface DeadWorkerCleanup {
  realm: string;
  /** This worker's tmp dir `<TMPDIR>/<realm>/<worker>.<pid>`, already created; its siblings are the candidates. */
  ownTmp: string;
  /** Between SIGTERM and SIGKILL of the orphans (KILL_GRACE_PERIOD). */
  graceSeconds: number;
  log: Logger;
}

export interface CleanupReport {
  killed: number[];
  removedDirs: string[];
}

export async function cleanUpAfterDeadWorkers(opts: DeadWorkerCleanup): Promise<CleanupReport> {
  const killed = await killOrphans(opts.realm, opts.graceSeconds, opts.log);
  claimOwnTmp(opts.ownTmp, opts.log);
  const removedDirs = removeDeadWorkerDirs(opts.ownTmp, opts.log);
  return { killed, removedDirs };
}

/** Processes of this realm whose worker is dead. */
function findOrphans(realm: string): TaggedProcess[] {
  return findTagged((tag) => tag.realm === realm && isTagOwnerGone(tag));
}

/** SIGTERM, up to `graceSeconds` to go, then SIGKILL for what is left. Returns the pids found. */
export async function killOrphans(realm: string, graceSeconds: number, log: Logger): Promise<number[]> {
  const orphans = findOrphans(realm);
  if (orphans.length === 0) return [];
  logOrphans(orphans, log);
  signalEach(orphans.map((o) => o.pid), "SIGTERM");
  const deadline = performance.now() + graceSeconds * 1000;
  while (performance.now() < deadline && findOrphans(realm).length > 0) await Bun.sleep(50);
  const late = await killAllFound(() => findOrphans(realm));
  return [...new Set([...orphans.map((o) => o.pid), ...late])];
}

function logOrphans(orphans: TaggedProcess[], log: Logger): void {
  const byRun = new Map<string, { pids: number[]; jobId?: string; runId?: string; worker: string; workerPid: number }>();
  for (const { pid, tag } of orphans) {
    const runId = procEnvVar(pid, "LAVA_RUN_ID");
    const key = `${tag.workerPid}.${tag.workerStartTicks}/${runId ?? ""}`;
    const entry = byRun.get(key) ?? { pids: [], jobId: procEnvVar(pid, "LAVA_JOB_ID"), runId, worker: tag.worker, workerPid: tag.workerPid };
    entry.pids.push(pid);
    byRun.set(key, entry);
  }
  for (const e of byRun.values()) {
    const run = e.jobId ? `job ${e.jobId} (${e.runId ?? "unknown run"})` : "an unknown job";
    log.warning(`Killing ${e.pids.length} process(es) of ${run} left running by dead worker ${e.worker} (pid ${e.workerPid}): ${e.pids.join(" ")}`, {
      event_type: "worker",
      ...(e.jobId ? { job_id: e.jobId } : {}),
      ...(e.runId ? { run_id: e.runId } : {}),
    });
  }
}

/**
 * Our tmp dir was created a moment ago, so anything in it was left by an earlier process with the same pid
 * (common in containers, where the worker gets the same pid at every start): emptied, then marked as ours.
 */
function claimOwnTmp(ownTmp: string, log: Logger): void {
  try {
    for (const name of readdirSync(ownTmp)) rmSync(join(ownTmp, name), { recursive: true, force: true });
    writeFileSync(join(ownTmp, OWNER_FILE), `${process.pid} ${procStat(process.pid)?.startTicks ?? 0}\n`, { mode: 0o600 });
  } catch (err) {
    log.warning(`Cannot prepare ${ownTmp}: ${(err as Error).message}`, { event_type: "worker" });
  }
}

const WORKER_DIR = /^.+\.(\d+)$/;

/** Removes the sibling dirs `<worker>.<pid>` of `ownTmp` whose worker is dead; returns their paths. */
export function removeDeadWorkerDirs(ownTmp: string, log: Logger): string[] {
  const realmTmp = dirname(ownTmp);
  const uid = process.getuid?.();
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(realmTmp);
  } catch (err) {
    log.warning(`Cannot list ${realmTmp}: ${(err as Error).message}`, { event_type: "worker" });
    return removed;
  }
  for (const name of names) {
    const m = WORKER_DIR.exec(name);
    const path = join(realmTmp, name);
    if (!m || path === join(realmTmp, basename(ownTmp))) continue;
    try {
      const st = lstatSync(path);
      if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) continue;
      if (!isDirOwnerGone(path, Number(m[1]))) continue;
      rmSync(path, { recursive: true, force: true });
      removed.push(path);
      log.info(`Removed ${path}, left by a dead worker`, { event_type: "worker" });
    } catch (err) {
      log.warning(`Cannot remove ${path}: ${(err as Error).message}`, { event_type: "worker" });
    }
  }
  return removed;
}

/**
 * The owner file names the worker exactly; a dir without one (the original's workers, or a worker killed
 * before it wrote the file) counts as dead only when no process has its pid: a reused pid keeps it.
 */
function isDirOwnerGone(path: string, pid: number): boolean {
  const owner = readOwner(join(path, OWNER_FILE));
  if (owner && owner.pid === pid) return isWorkerGone(owner.pid, owner.startTicks);
  // Not our own dir (excluded above), so an earlier process with our pid made it.
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ESRCH") return true;
  }
  return procStat(pid)?.state === "Z";
}

function readOwner(file: string): { pid: number; startTicks: number } | undefined {
  if (!existsSync(file)) return undefined;
  const m = /^(\d+) (\d+)\s*$/.exec(readFileSync(file, "utf8"));
  return m ? { pid: Number(m[1]), startTicks: Number(m[2]) } : undefined;
}
