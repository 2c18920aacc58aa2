/**
 * QueuePort over SQLite with SQS's standard-queue semantics.
 *
 * Guarantees (the conformance suite and local.test.ts check each):
 * - At least once: `receive` marks a message invisible until now + visibility timeout and raises its
 *   receive count in the same `BEGIN IMMEDIATE` transaction that selected it, so two receivers (threads
 *   or processes) never hold the same message at once. A receiver that dies simply lets the timeout run
 *   out, and the message is delivered again with its count raised.
 * - Receipt handles are unique per delivery. Only the latest delivery's handle acts: deleting with an
 *   older handle succeeds but deletes nothing (SQS documents the same), and changing visibility with an
 *   older handle throws NotFoundError, so a worker whose message went to someone else finds out.
 * - Delayed messages stay invisible (and count as "delayed", not "not visible") until their delay ends.
 * - Messages older than the queue's retention period are dropped, on receive and on attributes.
 */
import type { Database } from "bun:sqlite";
import type { CreateQueueOptions, QueueAttributes, QueueMessage, QueuePort, ReceiveOptions } from "../../ports/queue.ts";
import { NotFoundError, ValidationError } from "../../ports/errors.ts";
import { assertDatabaseFile, groupWrite, writeTransaction, type Clock } from "./db.ts";
import type { Wakeup, Watch } from "./wakeup.ts";

/** The worker stack's defaults (CloudFormation `visibilityTimeout`, `messageRetentionPeriod`). */
export const DEFAULT_VISIBILITY_SECONDS = 3600;
export const DEFAULT_RETENTION_SECONDS = 86_400;
/** SQS's limits, enforced so local use cannot rely on what AWS would refuse. */
const MAX_BODY_BYTES = 256 * 1024;
const MAX_DELAY_SECONDS = 900;
const MAX_VISIBILITY_SECONDS = 43_200;
const MAX_WAIT_SECONDS = 20;
const MAX_RECEIVE = 10;

interface QueueRow {
  visibility_timeout: number;
  retention: number;
}

interface MessageRow {
  seq: number;
  id: string;
  body: string;
  sent_at: number;
  receive_count: number;
}

export class LocalQueue implements QueuePort {
  /** A lone delete costs no more than a batched one here: waiting for company would only hold the slot. */
  readonly batchWaitMs = 0;
  private closed = false;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly wakeup: Wakeup,
  ) {}

  async create(name: string, opts: CreateQueueOptions = {}): Promise<void> {
    validateName(name);
    const visibility = opts.visibilityTimeoutSeconds ?? DEFAULT_VISIBILITY_SECONDS;
    const retention = opts.retentionSeconds ?? DEFAULT_RETENTION_SECONDS;
    checkRange("visibility timeout", visibility, 0, MAX_VISIBILITY_SECONDS);
    checkRange("retention", retention, 60, 1_209_600);
    // Idempotent: an existing queue keeps its attributes.
    this.db
      .query("INSERT OR IGNORE INTO local_queues (name, visibility_timeout, retention, created_at) VALUES (?, ?, ?, ?)")
      .run(name, visibility, retention, this.clock.now());
  }

  async exists(name: string): Promise<boolean> {
    return this.db.query("SELECT 1 FROM local_queues WHERE name = ?").get(name) !== null;
  }

  async send(name: string, body: string, opts: { delaySeconds?: number } = {}): Promise<string> {
    const [id] = await this.sendBatch(name, [{ body, delaySeconds: opts.delaySeconds }]);
    return id!;
  }

  async sendBatch(name: string, entries: { body: string; delaySeconds?: number }[]): Promise<string[]> {
    for (const entry of entries) {
      // UTF-8 takes at most 3 bytes per UTF-16 unit: only a long body needs counting.
      if (entry.body.length * 3 > MAX_BODY_BYTES && Buffer.byteLength(entry.body) > MAX_BODY_BYTES) throw new ValidationError(`${name}: message body exceeds 256 KiB`);
      checkRange("delay", entry.delaySeconds ?? 0, 0, MAX_DELAY_SECONDS);
    }
    const ids = await groupWrite(this.db, () => {
      this.queue(name);
      const now = this.clock.now();
      const insert = this.db.query(
        "INSERT INTO local_messages (id, queue, body, sent_at, visible_at, receive_count) VALUES (?, ?, ?, ?, ?, 0)",
      );
      return entries.map((entry) => {
        const id = crypto.randomUUID();
        insert.run(id, name, entry.body, now, now + (entry.delaySeconds ?? 0) * 1000);
        return id;
      });
    });
    await this.wakeup.notify(name);
    return ids;
  }

  async receive(name: string, opts: ReceiveOptions = {}): Promise<QueueMessage[]> {
    const max = opts.maxMessages ?? 1;
    const waitSeconds = opts.waitSeconds ?? 0;
    checkRange("maxMessages", max, 1, MAX_RECEIVE);
    checkRange("waitSeconds", waitSeconds, 0, MAX_WAIT_SECONDS);
    if (opts.visibilityTimeoutSeconds !== undefined) {
      checkRange("visibility timeout", opts.visibilityTimeoutSeconds, 0, MAX_VISIBILITY_SECONDS);
    }
    // Long polls use real time even when the clock is injected: they are about waiting, not timestamps.
    const deadline = performance.now() + waitSeconds * 1000;
    let watch: Watch | undefined;
    try {
      for (;;) {
        if (opts.signal?.aborted || this.closed) return [];
        const messages = await this.receiveNow(name, max, opts.visibilityTimeoutSeconds);
        const remaining = deadline - performance.now();
        if (messages.length > 0 || remaining <= 0) return messages;
        if (!watch) {
          // Arm only once idle, then check again: a send that commits between the empty check and the
          // wait is then either seen by that check or announced to the armed waiter.
          watch = this.wakeup.arm(name);
          continue;
        }
        await watch.wait(Math.min(remaining, this.msUntilNextVisible(name)), opts.signal);
      }
    } finally {
      watch?.release();
    }
  }

  async delete(name: string, receiptHandle: string): Promise<void> {
    await groupWrite(this.db, () => {
      this.queue(name);
      this.db.query("DELETE FROM local_messages WHERE queue = ? AND receipt = ?").run(name, receiptHandle);
    });
  }

  async deleteBatch(name: string, receiptHandles: string[]): Promise<(Error | undefined)[]> {
    await groupWrite(this.db, () => {
      this.queue(name);
      const del = this.db.query("DELETE FROM local_messages WHERE queue = ? AND receipt = ?");
      for (const handle of receiptHandles) del.run(name, handle);
    });
    // As `delete`: a stale handle deletes nothing and is no error.
    return receiptHandles.map(() => undefined);
  }

  async changeVisibility(name: string, receiptHandle: string, seconds: number): Promise<void> {
    checkRange("visibility timeout", seconds, 0, MAX_VISIBILITY_SECONDS);
    await groupWrite(this.db, () => {
      this.queue(name);
      const changed = this.db
        .query("UPDATE local_messages SET visible_at = ? WHERE queue = ? AND receipt = ?")
        .run(this.clock.now() + seconds * 1000, name, receiptHandle).changes;
      if (changed === 0) throw new NotFoundError(`${name}: receipt handle is not the message's current delivery`, { kind: "message", name });
    });
    if (seconds === 0) await this.wakeup.notify(name);
  }

  async attributes(name: string): Promise<QueueAttributes> {
    return writeTransaction(this.db, () => {
      const queue = this.queue(name);
      const now = this.clock.now();
      this.dropExpired(name, queue, now);
      const counts = this.db
        .query<{ visible: number; not_visible: number; delayed: number }, [number, number, number, string]>(
          `SELECT
             COALESCE(SUM(visible_at <= ?), 0) AS visible,
             COALESCE(SUM(visible_at > ? AND receive_count > 0), 0) AS not_visible,
             COALESCE(SUM(visible_at > ? AND receive_count = 0), 0) AS delayed
           FROM local_messages WHERE queue = ?`,
        )
        .get(now, now, now, name)!;
      return {
        visible: counts.visible,
        notVisible: counts.not_visible,
        delayed: counts.delayed,
        visibilityTimeoutSeconds: queue.visibility_timeout,
        retentionSeconds: queue.retention,
      };
    });
  }

  /** Ends pending long polls (they return []); called when the ports close. */
  close(): void {
    this.closed = true;
  }

  /** One non-blocking receive attempt: select and claim in one write transaction. */
  private async receiveNow(name: string, max: number, visibilityOverride: number | undefined): Promise<QueueMessage[]> {
    // A database deleted under us would answer "empty" forever: notice it on every poll, not only on writes.
    assertDatabaseFile(this.db);
    // Read first: idle long polls in many processes would otherwise queue up for the write lock.
    this.queue(name);
    const ready = this.db
      .query("SELECT 1 FROM local_messages WHERE queue = ? AND visible_at <= ? LIMIT 1")
      .get(name, this.clock.now());
    if (!ready) return [];
    return groupWrite(this.db, () => {
      const queue = this.queue(name);
      const now = this.clock.now();
      this.dropExpired(name, queue, now);
      const rows = this.db
        .query<MessageRow, [string, number, number]>(
          "SELECT seq, id, body, sent_at, receive_count FROM local_messages WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, seq LIMIT ?",
        )
        .all(name, now, max);
      const visibleAt = now + (visibilityOverride ?? queue.visibility_timeout) * 1000;
      const claim = this.db.query("UPDATE local_messages SET visible_at = ?, receive_count = ?, receipt = ? WHERE seq = ?");
      return rows.map((row) => {
        const receiveCount = row.receive_count + 1;
        const receiptHandle = `${row.id}:${receiveCount}:${crypto.randomUUID()}`;
        claim.run(visibleAt, receiveCount, receiptHandle, row.seq);
        return { id: row.id, receiptHandle, body: row.body, receiveCount, sentAt: new Date(row.sent_at) };
      });
    });
  }

  /** How long until the next invisible or delayed message of `name` becomes visible (for long polls). */
  private msUntilNextVisible(name: string): number {
    const row = this.db
      .query<{ next: number | null }, [string]>("SELECT MIN(visible_at) AS next FROM local_messages WHERE queue = ?")
      .get(name);
    return row?.next == null ? Number.POSITIVE_INFINITY : Math.max(1, row.next - this.clock.now());
  }

  private dropExpired(name: string, queue: QueueRow, now: number): void {
    this.db.query("DELETE FROM local_messages WHERE queue = ? AND sent_at < ?").run(name, now - queue.retention * 1000);
  }

  private queue(name: string): QueueRow {
    const row = this.db
      .query<QueueRow, [string]>("SELECT visibility_timeout, retention FROM local_queues WHERE name = ?")
      .get(name);
    if (!row) throw new NotFoundError(`queue ${name} does not exist`, { kind: "queue", name });
    return row;
  }
}

function validateName(name: string): void {
  if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) throw new ValidationError(`invalid queue name "${name}" (1-80 of A-Z a-z 0-9 _ -)`);
}

function checkRange(what: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(`${what} must be an integer from ${min} to ${max}, not ${value}`);
  }
}
