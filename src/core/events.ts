/**
 * Job events: one item per run in `lava.<realm>.events`, keyed (job_id, run_id), in the original's exact
 * shape (platform.md §1.4) so Python tools (`lava-events`, `lava-job-activity`) read our records and ours
 * read theirs.
 *
 * Writes go through one writer that job slots hand events to without waiting: a slow or throttled
 * DynamoDB never stalls a job. Events of one run are written in order (each appends to the run's `log`
 * list); different runs are written concurrently, up to `concurrency` at a time.
 */
import { ThrottledError, type AttributeValue, type Item, type Ports } from "../ports/index.ts";
import { realmTable } from "./names.ts";
import type { Logger } from "./log.ts";
import { isoLocal, naiveUtc, truncateToSeconds } from "./worker/format.ts";

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
  /** Attempts for a throttled write before the event is given up (logged). Default 8. */
  throttleAttempts?: number;
  /** First back-off delay in ms, doubled per attempt, capped at 5 s. Default 100. */
  backoffMs?: number;
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

export class EventWriter {
  private readonly opts: Required<Omit<EventWriterOptions, "instanceId" | "ttlSeconds">> & {
    instanceId: string | null;
    ttlSeconds: number;
  };
  private readonly table: string;
  /** Per run: the tail of its write chain, so a run's events land in order. */
  private readonly chains = new Map<string, Promise<void>>();
  private inFlight = 0;
  private readonly waiters: (() => void)[] = [];
  private pendingCount = 0;
  private idleWaiters: (() => void)[] = [];
  /** Events given up after retries (for the heartbeat / tests). */
  lost = 0;
  written = 0;

  constructor(opts: EventWriterOptions) {
    this.opts = {
      concurrency: 8,
      throttleAttempts: 8,
      backoffMs: 100,
      now: () => new Date(),
      ...opts,
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
    const entry: Item = { ts_event: tsEvent, tu_event: tuEvent, status, info: toAttribute(info) };
    this.enqueue({ key: { job_id: target.job_id, run_id: target.run_id }, item, entry });
    return now;
  }

  /** Resolves when every accepted event is written or given up, or after `timeoutMs`. Returns true when drained. */
  async drain(timeoutMs = 30_000): Promise<boolean> {
    if (this.pendingCount === 0) return true;
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
    const tails = [...this.chains.entries()].filter(([k]) => k.endsWith(suffix)).map(([, p]) => p);
    await Promise.allSettled(tails);
  }

  private enqueue(ev: PendingEvent): void {
    const chainKey = `${ev.key.job_id}\u0000${ev.key.run_id}`;
    this.pendingCount++;
    const previous = this.chains.get(chainKey) ?? Promise.resolve();
    const next = previous.then(() => this.writeWithSlot(ev));
    this.chains.set(chainKey, next);
    void next.finally(() => {
      if (this.chains.get(chainKey) === next) this.chains.delete(chainKey);
      this.pendingCount--;
      if (this.pendingCount === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    });
  }

  private async writeWithSlot(ev: PendingEvent): Promise<void> {
    if (this.inFlight >= this.opts.concurrency) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.inFlight++;
    try {
      await this.write(ev);
    } finally {
      this.inFlight--;
      this.waiters.shift()?.();
    }
  }

  /** One UpdateItem: SET every top-level field, append the log entry. Throttling is retried with back-off. */
  private async write(ev: PendingEvent): Promise<void> {
    const fields = { event_type: "worker", job_id: ev.key.job_id, run_id: ev.key.run_id, thread: "event" };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.opts.ports.tables.update(this.table, ev.key, { set: ev.item, append: { log: [ev.entry] } });
        this.written++;
        return;
      } catch (err) {
        const retryable = err instanceof ThrottledError && attempt < this.opts.throttleAttempts;
        if (!retryable) {
          this.lost++;
          this.opts.log.error(
            `Could not log to ${this.table}: job ${ev.key.job_id} (${ev.key.run_id}) status ${String(ev.item.status)}: ${(err as Error).message}`,
            fields,
          );
          return;
        }
        const delay = Math.min(5000, this.opts.backoffMs * 2 ** (attempt - 1));
        this.opts.log.warning(`Throttled writing to ${this.table}; retrying in ${delay} ms`, fields);
        await Bun.sleep(delay);
      }
    }
  }
}
