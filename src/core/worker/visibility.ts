/**
 * Keeps the messages this worker holds invisible on the queue for as long as it holds them.
 *
 * Guarantee (docs/WORKER.md, "Stalls and visibility"): while this process is alive and holds a message
 * (from receive until delete or release), the message is not delivered to anyone else, however long the
 * job runs. The worker fixes its own hold `holdSeconds` once, at start (the queue's visibility timeout
 * then, 30 s when unreadable), and uses it for everything: every receive asks for exactly that visibility
 * (`VisibilityTimeout` on ReceiveMessage), and every `intervalSeconds` (half the hold) the message's
 * visibility is pushed out to a full hold from now. Nothing depends on the queue attribute after start,
 * so an operator changing it on a running fleet cannot make a held message visible early: running
 * workers keep their hold, workers started later take the new value. If this process dies, extensions
 * stop and the message returns after at most one hold, as with the original worker.
 *
 * The timers run on the event loop; rendering, the slowest synchronous work a job does in the worker's
 * own process, runs in a worker thread (render-pool.ts), so a job's work does not delay the extensions.
 *
 * This needs `sqs:ChangeMessageVisibility`. Without it (the original's IAM policy) the first extension
 * fails, a warning is logged once, and behaviour falls back to the original's: a run longer than the
 * visibility timeout may be delivered again.
 */
import { AccessDeniedError, type QueuePort } from "../../ports/index.ts";
import type { Logger } from "../log.ts";

/** Bounds of the hold: SQS allows at most 12 h; below 2 s, extending every half hold would leave no margin. */
const MIN_HOLD_SECONDS = 2;
const MAX_HOLD_SECONDS = 43_200;

interface Held {
  receiptHandle: string;
  timer: ReturnType<typeof setInterval>;
  fields: Record<string, string | undefined>;
}

export class VisibilityKeeper {
  private readonly held = new Map<string, Held>();
  private warnedDenied = false;
  /** Extensions made (for tests and the heartbeat). */
  extensions = 0;

  constructor(
    private readonly queues: QueuePort,
    private readonly queue: string,
    timeoutSeconds: number,
    private readonly log: Logger,
  ) {
    this.holdSeconds = Math.min(MAX_HOLD_SECONDS, Math.max(MIN_HOLD_SECONDS, Math.ceil(timeoutSeconds)));
  }

  /** Seconds a held message stays invisible after its receive or its last extension. */
  readonly holdSeconds: number;

  get intervalSeconds(): number {
    return this.holdSeconds / 2;
  }

  /** Starts extending `receiptHandle` (the message id keys it). */
  hold(messageId: string, receiptHandle: string): void {
    if (this.held.has(messageId)) return;
    const timer = setInterval(() => void this.extend(messageId), this.intervalSeconds * 1000);
    timer.unref?.();
    this.held.set(messageId, { receiptHandle, timer, fields: { event_type: "worker" } });
  }

  /** Names the run once known, so a failed extension is logged with its job_id and run_id. */
  describe(messageId: string, jobId: string, runId: string): void {
    const h = this.held.get(messageId);
    if (h) h.fields = { event_type: "worker", job_id: jobId, run_id: runId };
  }

  /** Stops extending (before delete or release). */
  drop(messageId: string): void {
    const h = this.held.get(messageId);
    if (!h) return;
    clearInterval(h.timer);
    this.held.delete(messageId);
  }

  /** Makes every held message visible again at once (hard stop): another worker can take it now. */
  async releaseAll(): Promise<void> {
    const all = [...this.held.entries()];
    for (const [id] of all) this.drop(id);
    await Promise.all(
      all.map(([id, h]) =>
        this.queues.changeVisibility(this.queue, h.receiptHandle, 0).catch((err: unknown) => {
          this.log.warning(`Could not return message ${id} to the queue: ${(err as Error).message}`, h.fields);
        }),
      ),
    );
  }

  get count(): number {
    return this.held.size;
  }

  private async extend(messageId: string): Promise<void> {
    const h = this.held.get(messageId);
    if (!h) return;
    try {
      await this.queues.changeVisibility(this.queue, h.receiptHandle, this.holdSeconds);
      this.extensions++;
    } catch (err) {
      if (!this.held.has(messageId)) return; // deleted meanwhile: nothing to extend
      const msg = (err as Error).message;
      if (err instanceof AccessDeniedError) {
        this.drop(messageId);
        if (!this.warnedDenied) {
          this.warnedDenied = true;
          this.log.warning(`Cannot extend message visibility (grant sqs:ChangeMessageVisibility): ${msg}`, h.fields);
        }
        return;
      }
      this.log.warning(`Could not extend visibility of message ${messageId}: ${msg}`, h.fields);
    }
  }
}
