/**
 * QueuePort on SQS. Queue names resolve to URLs once (GetQueueUrl), are cached for the life of the Ports and,
 * given a QueueUrlMemory, remembered across processes (queue-urls.ts).
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import type {
  CreateQueueOptions,
  QueueAttributes,
  QueueMessage,
  QueuePort,
  ReceiveOptions,
} from "../../ports/queue.ts";
import { BatchSendError, NotFoundError, PortError, UnavailableError } from "../../ports/errors.ts";
import type { QueueUrlMemory } from "./queue-urls.ts";
import { awsCall } from "./errors.ts";

/** SendMessageBatch takes at most 10 entries. */
const BATCH = 10;

/** A failed entry of a batch answer: the sender's fault is final, the service's may pass. */
export interface BatchEntryFailure {
  Id?: string;
  Code?: string;
  Message?: string;
  SenderFault?: boolean;
}

/** Per-handle results of one DeleteMessageBatch answer, in request order (entry ids are the indexes). */
export function deleteBatchResults(name: string, count: number, failed: BatchEntryFailure[] | undefined): (Error | undefined)[] {
  const results: (Error | undefined)[] = Array.from({ length: count }, () => undefined);
  for (const f of failed ?? []) {
    const i = Number(f.Id);
    if (!Number.isInteger(i) || i < 0 || i >= count) continue;
    const text = `delete from ${name}: ${f.Code ?? "failed"}${f.Message ? `: ${f.Message}` : ""}`;
    results[i] = f.SenderFault === false ? new UnavailableError(text) : new PortError(text);
  }
  return results;
}

/** One SendMessageBatch answer: accepted entries by id, and the refused ones. */
export interface SendBatchAnswer {
  Successful?: { Id?: string; MessageId?: string }[];
  Failed?: BatchEntryFailure[];
}

/**
 * Sends `entries` ten at a time through `send` (one SendMessageBatch each). The ids come back in order;
 * when an entry was refused, the chunks after it are still sent and a BatchSendError reports each entry.
 */
export async function sendInBatches(
  name: string,
  entries: { body: string; delaySeconds?: number }[],
  send: (chunk: { body: string; delaySeconds?: number }[]) => Promise<SendBatchAnswer>,
): Promise<string[]> {
  const results: (string | Error)[] = [];
  let failed = 0;
  for (let start = 0; start < entries.length; start += BATCH) {
    const chunk = entries.slice(start, start + BATCH);
    const out = await send(chunk);
    const sent = new Map((out.Successful ?? []).map((s) => [s.Id, s.MessageId ?? ""]));
    const refused = new Map((out.Failed ?? []).map((f) => [f.Id, f]));
    chunk.forEach((_, i) => {
      const id = sent.get(String(i));
      if (id !== undefined) return void results.push(id);
      const f = refused.get(String(i));
      const text = `send to ${name}: ${f?.Code ?? "no answer for this entry"}${f?.Message ? `: ${f.Message}` : ""}`;
      results.push(f?.SenderFault === false ? new UnavailableError(text) : new PortError(text));
      failed++;
    });
  }
  if (failed) throw new BatchSendError(`send batch to ${name}: ${failed} of ${entries.length} messages refused`, results);
  return results as string[];
}

export class SqsQueuePort implements QueuePort {
  protected readonly urls = new Map<string, Promise<string>>();
  /** Queues whose cached URL came from `memory`, not from a lookup by this process. */
  private readonly remembered = new Set<string>();

  constructor(
    private readonly client: () => Promise<SQSClient>,
    /** URLs remembered across processes (queue-urls.ts); none = one GetQueueUrl per queue per process. */
    private readonly memory?: QueueUrlMemory,
  ) {}

  protected url(name: string): Promise<string> {
    let url = this.urls.get(name);
    if (!url) {
      url = this.resolve(name);
      this.urls.set(name, url);
      url.catch(() => this.urls.delete(name));
    }
    return url;
  }

  private async resolve(name: string): Promise<string> {
    const known = await this.memory?.get(name);
    if (known) {
      this.remembered.add(name);
      return known;
    }
    const url = await this.lookup(name);
    await this.memory?.remember(name, url);
    return url;
  }

  protected async lookup(name: string): Promise<string> {
    const { GetQueueUrlCommand } = await import("@aws-sdk/client-sqs");
    const sqs = await this.client();
    const out = await awsCall(`queue ${name}`, () => sqs.send(new GetQueueUrlCommand({ QueueName: name })), { kind: "queue", name });
    if (!out.QueueUrl) throw new PortError(`queue ${name}: GetQueueUrl returned no URL`);
    return out.QueueUrl;
  }

  /**
   * Runs `call` on the queue's URL. When the queue is not found, its URL is forgotten; if that URL was a
   * remembered one, it is looked up and the call made once more: the failed call had no effect, so
   * repeating it sends nothing twice. (SQS answers "does not exist or you do not have access to it" alike
   * for a deleted queue and for a URL of another account's queue, so both heal this way; an access denial
   * of the call itself is the policy's answer, and asking again would only repeat it.)
   */
  protected async onUrl<T>(name: string, what: string, call: (url: string) => Promise<T>): Promise<T> {
    const attempt = (url: string) => awsCall(`${what} ${name}`, () => call(url), { kind: "queue", name });
    try {
      return await attempt(await this.url(name));
    } catch (err) {
      const queueGone = err instanceof NotFoundError && err.resource.kind === "queue";
      if (!queueGone) throw err;
      this.urls.delete(name);
      const stale = this.remembered.delete(name);
      await this.memory?.forget(name);
      if (!stale) throw err;
      return attempt(await this.url(name));
    }
  }

  /** `onUrl` with the SDK client. */
  private async withUrl<T>(name: string, what: string, fn: (sqs: SQSClient, url: string) => Promise<T>): Promise<T> {
    const sqs = await this.client();
    return this.onUrl(name, what, (url) => fn(sqs, url));
  }

  async create(name: string, opts: CreateQueueOptions = {}): Promise<void> {
    const { CreateQueueCommand } = await import("@aws-sdk/client-sqs");
    const sqs = await this.client();
    const out = await awsCall(`create queue ${name}`, () =>
      sqs.send(
        new CreateQueueCommand({
          QueueName: name,
          Attributes: {
            VisibilityTimeout: String(opts.visibilityTimeoutSeconds ?? 3600),
            MessageRetentionPeriod: String(opts.retentionSeconds ?? 86400),
          },
        }),
      ), { kind: "queue", name });
    if (!out.QueueUrl) return;
    this.urls.set(name, Promise.resolve(out.QueueUrl));
    await this.memory?.remember(name, out.QueueUrl);
  }

  async exists(name: string): Promise<boolean> {
    try {
      await this.url(name);
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }

  async send(name: string, body: string, opts?: { delaySeconds?: number }): Promise<string> {
    const { SendMessageCommand } = await import("@aws-sdk/client-sqs");
    const out = await this.withUrl(name, "send to", (sqs, url) =>
      sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body, DelaySeconds: opts?.delaySeconds })),
    );
    return out.MessageId ?? "";
  }

  async sendBatch(name: string, entries: { body: string; delaySeconds?: number }[]): Promise<string[]> {
    const { SendMessageBatchCommand } = await import("@aws-sdk/client-sqs");
    return sendInBatches(name, entries, (chunk) =>
      this.withUrl(name, "send batch to", (sqs, url) =>
        sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: url,
            Entries: chunk.map((e, i) => ({ Id: String(i), MessageBody: e.body, DelaySeconds: e.delaySeconds })),
          }),
        ),
      ),
    );
  }

  async receive(name: string, opts: ReceiveOptions = {}): Promise<QueueMessage[]> {
    const { ReceiveMessageCommand } = await import("@aws-sdk/client-sqs");
    if (opts.signal?.aborted) return [];
    try {
      const out = await this.withUrl(name, "receive from", (sqs, url) =>
        sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: url,
            MaxNumberOfMessages: opts.maxMessages ?? 1,
            WaitTimeSeconds: opts.waitSeconds ?? 0,
            VisibilityTimeout: opts.visibilityTimeoutSeconds,
            MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
          }),
          opts.signal ? { abortSignal: opts.signal } : {},
        ),
      );
      return (out.Messages ?? []).map((m) => ({
        id: m.MessageId ?? "",
        receiptHandle: m.ReceiptHandle ?? "",
        body: m.Body ?? "",
        receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
        sentAt: new Date(Number(m.Attributes?.SentTimestamp ?? Date.now())),
      }));
    } catch (err) {
      // An aborted poll is the caller stopping, not a failure.
      if (opts.signal?.aborted) return [];
      throw err;
    }
  }

  async delete(name: string, receiptHandle: string): Promise<void> {
    const { DeleteMessageCommand } = await import("@aws-sdk/client-sqs");
    await this.withUrl(name, "delete from", (sqs, url) =>
      sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: receiptHandle })),
    );
  }

  async deleteBatch(name: string, receiptHandles: string[]): Promise<(Error | undefined)[]> {
    const { DeleteMessageBatchCommand } = await import("@aws-sdk/client-sqs");
    const results: (Error | undefined)[] = [];
    for (let start = 0; start < receiptHandles.length; start += BATCH) {
      const chunk = receiptHandles.slice(start, start + BATCH);
      const out = await this.withUrl(name, "delete batch from", (sqs, url) =>
        sqs.send(
          new DeleteMessageBatchCommand({ QueueUrl: url, Entries: chunk.map((h, i) => ({ Id: String(i), ReceiptHandle: h })) }),
        ),
      );
      results.push(...deleteBatchResults(name, chunk.length, out.Failed));
    }
    return results;
  }

  async changeVisibility(name: string, receiptHandle: string, seconds: number): Promise<void> {
    const { ChangeMessageVisibilityCommand } = await import("@aws-sdk/client-sqs");
    await this.withUrl(name, "change visibility in", (sqs, url) =>
      sqs.send(
        new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }),
      ),
    );
  }

  async attributes(name: string): Promise<QueueAttributes> {
    const { GetQueueAttributesCommand } = await import("@aws-sdk/client-sqs");
    const out = await this.withUrl(name, "attributes of", (sqs, url) =>
      sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: [...ATTRIBUTE_NAMES] })),
    );
    return queueAttributes(out.Attributes ?? {});
  }

}

/** The attributes `attributes()` asks SQS for (both the SDK and the lite path). */
export const ATTRIBUTE_NAMES = [
  "ApproximateNumberOfMessages",
  "ApproximateNumberOfMessagesNotVisible",
  "ApproximateNumberOfMessagesDelayed",
  "VisibilityTimeout",
  "MessageRetentionPeriod",
] as const;

/** GetQueueAttributes' answer as the port's QueueAttributes. */
export function queueAttributes(a: Record<string, string>): QueueAttributes {
  return {
    visible: Number(a.ApproximateNumberOfMessages ?? 0),
    notVisible: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
    visibilityTimeoutSeconds: Number(a.VisibilityTimeout ?? 0),
    retentionSeconds: Number(a.MessageRetentionPeriod ?? 0),
  };
}
