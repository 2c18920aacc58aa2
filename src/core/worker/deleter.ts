/**
 * Deletes finished messages, several per request when they finish close together (DeleteMessageBatch).
 *
 * A message joins the batch only once its outcome is recorded, and its job slot stays taken until the
 * delete is done, so batching never lets the worker hold more than `--threads` messages. The batch goes
 * out when it holds 10 (SQS's limit), when every message the worker holds is in it (nothing else can
 * join soon: a lone job's delete is never delayed), after `lingerMs`, or at once when the worker stops.
 * Where the queue port says waiting does not pay (`batchWaitMs` 0: the local queue), it goes out at the end of
 * the event-loop turn: the deletes of that turn still share a request, and no slot waits for company.
 */
import { isRetryable, type QueueMessage, type QueuePort } from "../../ports/index.ts";
import type { Logger } from "../log.ts";
import { POLICIES, retry } from "../retry.ts";

const BATCH = 10;

export interface DeleterOptions {
  queues: QueuePort;
  queue: string;
  log: Logger;
  /** Messages the worker holds now (busy slots); a batch this big goes out at once. */
  held(): number;
  /** Longest wait for company, in ms. Default: the queue port's `batchWaitMs`, else 20. */
  lingerMs?: number;
}

interface PendingDelete {
  message: QueueMessage;
  fields: { job_id?: string; run_id?: string };
  done: () => void;
}

export class MessageDeleter {
  private pending: PendingDelete[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private soon: ReturnType<typeof setImmediate> | undefined;
  private stopping = false;
  /** Delete requests sent (single or batch), for tests and benchmarks. */
  requests = 0;

  constructor(private readonly opts: DeleterOptions) {}

  /** Resolves once the message is deleted, or given up and logged (it then returns after its visibility timeout). */
  delete(message: QueueMessage, fields: { job_id?: string; run_id?: string }): Promise<void> {
    return new Promise((done) => {
      this.pending.push({ message, fields, done });
      if (this.stopping || this.pending.length >= BATCH || this.pending.length >= this.opts.held()) this.flush();
      // No wait at all: the deletes of this event-loop turn still share one request.
      else if (this.lingerMs() <= 0) this.soon ??= setImmediate(() => this.flush());
      else this.timer ??= setTimeout(() => this.flush(), this.lingerMs());
    });
  }

  private lingerMs(): number {
    return this.opts.lingerMs ?? this.opts.queues.batchWaitMs ?? 20;
  }

  /** Sends what waits now and every later delete at once (worker stopping). */
  stop(): void {
    this.stopping = true;
    this.flush();
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.soon) clearImmediate(this.soon);
    this.soon = undefined;
    while (this.pending.length > 0) void this.send(this.pending.splice(0, BATCH));
  }

  /**
   * Sends the batch under `POLICIES.delete`. A failed request is retried as a whole when its error is
   * retryable; in a batch answer, only the entries refused for a retryable reason (the service's fault)
   * are sent again. Entries that fail for good, or still fail when the policy gives up, are logged.
   */
  private async send(batch: PendingDelete[]): Promise<void> {
    let left = batch;
    const attempt = async (): Promise<void> => {
      let errors: (Error | undefined)[];
      try {
        this.requests++;
        errors = await this.request(left);
      } catch (err) {
        errors = left.map(() => err as Error);
      }
      const retryable: PendingDelete[] = [];
      let firstRetryable: Error | undefined;
      left.forEach((p, i) => {
        const err = errors[i];
        if (!err) return p.done();
        if (!isRetryable(err)) return this.giveUp(p, err);
        firstRetryable ??= err;
        retryable.push(p);
      });
      left = retryable;
      if (firstRetryable) throw firstRetryable;
    };
    try {
      await retry(attempt, POLICIES.delete);
    } catch (err) {
      for (const p of left) this.giveUp(p, err as Error);
    }
  }

  private giveUp(p: PendingDelete, err: Error): void {
    this.opts.log.error(`Could not delete message ${p.message.id}: ${err.message}`, { event_type: "worker", ...p.fields });
    p.done();
  }

  /** One message goes as DeleteMessage, several as DeleteMessageBatch (same permission, same cost). */
  private async request(batch: PendingDelete[]): Promise<(Error | undefined)[]> {
    const { queues, queue } = this.opts;
    if (batch.length === 1) {
      await queues.delete(queue, batch[0]!.message.receiptHandle);
      return [undefined];
    }
    return queues.deleteBatch(queue, batch.map((p) => p.message.receiptHandle));
  }
}
