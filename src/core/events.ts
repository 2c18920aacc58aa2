/**
 * Job events: one item per run in `lava.<realm>.events`, keyed (job_id, run_id), in the original's exact
 * shape (platform.md §1.4) so Python tools (`lava-events`, `lava-job-activity`) read our records and ours
 * read theirs.
 *
 * Writes go through one writer that job slots hand events to without waiting: a slow or throttled
 * DynamoDB never stalls a job. Events of one run are written in order (each appends to the run's `log`
 * list); different runs are written concurrently, up to `concurrency` at a time. Events of a run that
 * are waiting together share one UpdateItem, so a short job costs one events write, not three.
 */
import { StorageFullError, type AttributeValue, type Item, type Ports } from "../ports/index.ts";
import { realmTable } from "./names.ts";
import type { Logger } from "./log.ts";
import { isoLocal, naiveUtc, truncateToSeconds } from "./pyformat.ts";
import { POLICIES, retry, unretried } from "./retry.ts";
import { scrubDeep } from "./secrets.ts";

export type EventStatus =
  | "skipped"
  | "starting"
  | "rejected"
  | "logging"
  | "running"
  | "retrying"
  | "failed"
  | "complete"
  | "action_failed";

/** What identifies the run an event belongs to. `ts_dispatch` is the ISO text written to the item. */
export interface EventTarget {
  job_id: string;
  run_id: string;
  ts_dispatch: string;
}

export interface EventWriterOptions {
  ports: Ports;
  realm: string;
  worker: string;
  hostname: string;
  /** EC2 instance id; null off EC2 (written as `worker_id`; `instance_id` only when set). */
  instanceId?: string | null;
  /** EVENT_TTL in seconds; undefined or 0 = no `ttl` attribute. */
  ttlSeconds?: number;
  log: Logger;
  /** Writes in flight at once (different runs). Default 8. */
  concurrency?: number;
  /**
   * Attempts logged one by one while DynamoDB is throttling or unavailable; after that the writer keeps
   * trying (a run's outcome must be recorded before its message is deleted) but logs only now and then.
   * Default 8.
   */
  throttleAttempts?: number;
  /** Aborted on a hard stop: writes still failing are then given up (logged), so the worker can exit. */
  stopSignal?: AbortSignal;
  /** Ceiling of the first back-off in ms, doubled per attempt up to 5 s (full jitter). Default 100. */
  backoffMs?: number;
  /**
   * How long a run's non-final events may wait to share one write with the events that follow.
   * Default 250 ms; 0 writes each event as soon as possible. A worker killed outright loses at most
   * this much of a run's non-final events; final ones are written at once.
   */
  lingerMs?: number;
  now?: () => Date;
}

interface PendingEvent {
  key: { job_id: string; run_id: string };
  item: Item;
  entry: Item;
}

/** Converts a JSON-ish value to a table attribute; Dates become ISO text, undefined entries vanish. */
export function toAttribute(value: unknown): AttributeValue {
  if (value === null || value === undefined) return null;
  if (typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (typeof value === "bigint") return Number(value);
  if (value instanceof Date) return isoLocal(value);
  if (value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map(toAttribute);
  if (typeof value === "object") {
    if (typeof (value as { isoformat?: unknown }).isoformat === "function") {
      return String((value as { isoformat: () => unknown }).isoformat());
    }
    const out: Record<string, AttributeValue> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v !== undefined) out[k] = toAttribute(v);
    }
    return out;
  }
  return String(value);
}

/** Python truthiness for the top-level fields: the original writes every falsy value as NULL. */
function nullIfFalsy(value: AttributeValue): AttributeValue {
  if (value === "" || value === 0 || value === false || value === null) return null;
  if (Array.isArray(value) && value.length === 0) return null;
  if (typeof value === "object" && !(value instanceof Uint8Array) && !Array.isArray(value) && Object.keys(value).length === 0) return null;
  return value;
}

/** Statuses after which a run writes nothing more (except a later `action_failed`): flush at once. */
export const TERMINAL_STATUSES: ReadonlySet<EventStatus> = new Set(["skipped", "rejected", "failed", "complete"]);
const FINAL_STATUSES = TERMINAL_STATUSES;

/** One run's events not yet written, and the write loop draining them. */
interface RunQueue {
  events: PendingEvent[];
  /** Set while the loop for this run is active. */
  loop?: Promise<void>;
  /** Wakes a lingering loop early (a final event arrived). */
  flush?: () => void;
}

export class EventWriter {
  private readonly opts: Required<Omit<EventWriterOptions, "instanceId" | "ttlSeconds" | "stopSignal">> & {
    instanceId: string | null;
    ttlSeconds: number;
    stopSignal?: AbortSignal;
  };
  private readonly table: string;
  private readonly runs = new Map<string, RunQueue>();
  private inFlight = 0;
  private readonly waiters: (() => void)[] = [];
  private pendingCount = 0;
  private idleWaiters: (() => void)[] = [];
  /** Events given up after retries (for the heartbeat / tests). */
  lost = 0;
  written = 0;
  /** UpdateItem requests made (several events of a run may share one). */
  writes = 0;
  /** Set while writes fail on a full disk: "disk full" is logged once per episode, not per attempt. */
  private diskFull = false;

  constructor(opts: EventWriterOptions) {
    this.opts = {
      concurrency: 8,
      throttleAttempts: 8,
      backoffMs: 100,
      lingerMs: 250,
      now: () => new Date(),
      ...opts,
      // The writer applies its own policy; ports that already retry would stack a second one beneath it.
      ports: unretried(opts.ports),
      instanceId: opts.instanceId ?? null,
      ttlSeconds: opts.ttlSeconds ?? 0,
    };
    this.table = realmTable(opts.realm, "events");
  }

  /** Events accepted and not yet written (or given up). */
  get pending(): number {
    return this.pendingCount;
  }

  /**
   * Queues one event and returns its time (whole seconds) at once; the write happens in the background.
   * `info` is snapshotted now, so later changes by the caller do not leak into the record.
   */
  record(target: EventTarget, status: EventStatus, info: unknown = null): Date {
    const now = truncateToSeconds(this.opts.now());
    const tsEvent = isoLocal(now);
    const tuEvent = naiveUtc(now);
    const item: Item = {
      ts_dispatch: nullIfFalsy(target.ts_dispatch),
      status,
      ts_event: tsEvent,
      tu_event: tuEvent,
    };
    if (this.opts.ttlSeconds) item.ttl = Math.floor(now.getTime() / 1000 + this.opts.ttlSeconds);
    item.worker = nullIfFalsy(this.opts.worker);
    item.worker_id = nullIfFalsy(this.opts.instanceId);
    item.hostname = nullIfFalsy(this.opts.hostname);
    if (this.opts.instanceId) item.instance_id = this.opts.instanceId;
    // Event info is read by people and tools that are not meant to see secrets (error text may quote one).
    const entry: Item = { ts_event: tsEvent, tu_event: tuEvent, status, info: toAttribute(scrubDeep(info)) };
    this.enqueue({ key: { job_id: target.job_id, run_id: target.run_id }, item, entry }, FINAL_STATUSES.has(status));
    return now;
  }

  /** Resolves when every accepted event is written or given up, or after `timeoutMs`. Returns true when drained. */
  async drain(timeoutMs = 30_000): Promise<boolean> {
    if (this.pendingCount === 0) return true;
    for (const run of this.runs.values()) run.flush?.();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const drained = new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true)));
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const result = await Promise.race([drained, timeout]);
    clearTimeout(timer);
    return result;
  }

  /** Resolves once every event accepted so far for `runId` (any job_id: children share it) is written or given up. */
  async settled(runId: string): Promise<void> {
    const suffix = `\u0000${runId}`;
    const loops: Promise<void>[] = [];
    for (const [key, run] of this.runs) {
      if (!key.endsWith(suffix)) continue;
      run.flush?.();
      if (run.loop) loops.push(run.loop);
    }
    await Promise.allSettled(loops);
  }

  private enqueue(ev: PendingEvent, final: boolean): void {
    const runKey = `${ev.key.job_id}\u0000${ev.key.run_id}`;
    this.pendingCount++;
    let run = this.runs.get(runKey);
    if (!run) {
      run = { events: [] };
      this.runs.set(runKey, run);
    }
    run.events.push(ev);
    if (final) run.flush?.();
    if (!run.loop) run.loop = this.drainRun(runKey, run, final);
  }

  /**
   * Writes a run's events in order. Events that are waiting together go in one UpdateItem (the item
   * ends exactly as if written one by one: the last event's fields, every entry appended to `log`).
   * A run that has not reached a final status lingers briefly first, so a short job's starting,
   * running and complete events usually cost one request instead of three.
   */
  private async drainRun(runKey: string, run: RunQueue, finalSeen: boolean): Promise<void> {
    try {
      if (!finalSeen) await this.linger(run);
      while (run.events.length > 0) {
        const batch = run.events.splice(0);
        try {
          await this.writeWithSlot(batch);
        } finally {
          this.settle(batch.length);
        }
      }
    } finally {
      run.loop = undefined;
      run.flush = undefined;
      if (run.events.length > 0) run.loop = this.drainRun(runKey, run, true);
      else this.runs.delete(runKey);
    }
  }

  private async linger(run: RunQueue): Promise<void> {
    if (this.opts.lingerMs <= 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.opts.lingerMs);
      run.flush = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    run.flush = undefined;
  }

  private settle(count: number): void {
    this.pendingCount -= count;
    if (this.pendingCount === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async writeWithSlot(batch: PendingEvent[]): Promise<void> {
    if (this.inFlight >= this.opts.concurrency) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.inFlight++;
    try {
      await this.write(batch);
    } finally {
      this.inFlight--;
      this.waiters.shift()?.();
    }
  }

  /**
   * One UpdateItem: SET the newest event's top-level fields, append every entry. While DynamoDB throttles
   * or is unavailable the write is retried (`POLICIES.eventWrite`) until it lands: the worker deletes a
   * message only after its run's events are written, so giving up would lose the outcome. A permanent
   * error (a bad request, access denied) cannot heal by retrying: the events are given up and logged, as
   * when a hard stop ends the retrying. A full disk (StorageFullError, local realm) heals when space is
   * freed: retried the same way, logged once as "disk full" until a write lands again.
   */
  private async write(batch: PendingEvent[]): Promise<void> {
    const last = batch[batch.length - 1]!;
    const fields = { event_type: "worker", job_id: last.key.job_id, run_id: last.key.run_id, thread: "event" };
    const policy = { ...POLICIES.eventWrite, baseMs: this.opts.backoffMs };
    const send = async (): Promise<void> => {
      this.writes++;
      await this.opts.ports.tables.update(this.table, last.key, { set: last.item, append: { log: batch.map((e) => e.entry) } });
    };
    try {
      await retry(send, policy, {
        signal: this.opts.stopSignal,
        onRetry: (err, attempt, delay) => {
          if (err instanceof StorageFullError) {
            if (!this.diskFull) {
              this.diskFull = true;
              this.opts.log.error(
                `Disk full: cannot write to ${this.table}; job ${last.key.job_id} (${last.key.run_id}) and its message wait until space is freed (${(err as Error).message})`,
                fields,
              );
            }
          } else if (attempt <= this.opts.throttleAttempts || attempt % 12 === 0) {
            this.opts.log.warning(`Throttled or unavailable writing to ${this.table} (attempt ${attempt}); retrying in ${delay} ms`, fields);
          }
        },
      });
      this.written += batch.length;
      if (this.diskFull) {
        this.diskFull = false;
        this.opts.log.info(`Writing to ${this.table} again: disk space available`, fields);
      }
    } catch (err) {
      this.lost += batch.length;
      const statuses = batch.map((e) => String(e.item.status)).join(", ");
      this.opts.log.error(
        `Could not log to ${this.table}: job ${last.key.job_id} (${last.key.run_id}) status ${statuses}: ${(err as Error).message}`,
        fields,
      );
    }
  }
}
