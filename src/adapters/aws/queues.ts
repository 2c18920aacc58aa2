/** QueuePort on SQS. Queue names resolve to URLs once (GetQueueUrl) and are cached for the life of the Ports. */
import type { SQSClient } from "@aws-sdk/client-sqs";
import type {
  CreateQueueOptions,
  QueueAttributes,
  QueueMessage,
  QueuePort,
  ReceiveOptions,
} from "../../ports/queue.ts";
import { NotFoundError, PortError, UnavailableError } from "../../ports/errors.ts";
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

export class SqsQueuePort implements QueuePort {
  protected readonly urls = new Map<string, Promise<string>>();

  constructor(private readonly client: () => Promise<SQSClient>) {}

  protected url(name: string): Promise<string> {
    let url = this.urls.get(name);
    if (!url) {
      url = this.lookup(name);
      this.urls.set(name, url);
      url.catch(() => this.urls.delete(name));
    }
    return url;
  }

  protected async lookup(name: string): Promise<string> {
    const { GetQueueUrlCommand } = await import("@aws-sdk/client-sqs");
    const sqs = await this.client();
    const out = await awsCall(`queue ${name}`, () => sqs.send(new GetQueueUrlCommand({ QueueName: name })), { kind: "queue", name });
    if (!out.QueueUrl) throw new PortError(`queue ${name}: GetQueueUrl returned no URL`);
    return out.QueueUrl;
  }

  /** Runs `fn` with the queue's URL; a queue deleted since we cached its URL is looked up again next time. */
  private async withUrl<T>(name: string, what: string, fn: (sqs: SQSClient, url: string) => Promise<T>): Promise<T> {
    const [sqs, url] = await Promise.all([this.client(), this.url(name)]);
    try {
      return await awsCall(`${what} ${name}`, () => fn(sqs, url), { kind: "queue", name });
    } catch (err) {
      if (err instanceof NotFoundError) this.urls.delete(name);
      throw err;
    }
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
    if (out.QueueUrl) this.urls.set(name, Promise.resolve(out.QueueUrl));
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
    const ids: string[] = [];
    for (let start = 0; start < entries.length; start += BATCH) {
      const chunk = entries.slice(start, start + BATCH);
      const out = await this.withUrl(name, "send batch to", (sqs, url) =>
        sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: url,
            Entries: chunk.map((e, i) => ({ Id: String(i), MessageBody: e.body, DelaySeconds: e.delaySeconds })),
          }),
        ),
      );
      if (out.Failed?.length) {
        const codes = out.Failed.map((f) => f.Code).join(", ");
        throw new PortError(`send batch to ${name}: ${out.Failed.length} of ${chunk.length} messages failed (${codes})`);
      }
      const byId = new Map((out.Successful ?? []).map((s) => [s.Id, s.MessageId ?? ""]));
      chunk.forEach((_, i) => ids.push(byId.get(String(i)) ?? ""));
    }
    return ids;
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
