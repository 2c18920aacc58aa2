/**
 * SQS GetQueueUrl, SendMessage and a worker's calls (GetQueueAttributes, ReceiveMessage, DeleteMessage,
 * DeleteMessageBatch, ChangeMessageVisibility) over the lite client (SQS's JSON protocol); every other
 * queue operation stays on the SDK client. The queue URL cache is the SDK port's own, so both paths share it.
 */
import { NotFoundError, PortError } from "../../../ports/errors.ts";
import type { QueueAttributes, QueueMessage, ReceiveOptions } from "../../../ports/queue.ts";
import { awsCall } from "../errors.ts";
import { ATTRIBUTE_NAMES, deleteBatchResults, queueAttributes, SqsQueuePort, type BatchEntryFailure } from "../queues.ts";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { LiteService } from "./client.ts";

export class LiteSqsQueuePort extends SqsQueuePort {
  constructor(
    client: () => Promise<SQSClient>,
    private readonly lite: LiteService,
  ) {
    super(client);
  }

  protected override async lookup(name: string): Promise<string> {
    const route = await this.lite.route();
    if (!route) return super.lookup(name);
    const out = await awsCall(`queue ${name}`, () => this.lite.call(route, "GetQueueUrl", { QueueName: name }), { kind: "queue", name });
    if (typeof out.QueueUrl !== "string" || !out.QueueUrl) throw new PortError(`queue ${name}: GetQueueUrl returned no URL`);
    return out.QueueUrl;
  }

  override async send(name: string, body: string, opts?: { delaySeconds?: number }): Promise<string> {
    const route = await this.lite.route();
    if (!route) return super.send(name, body, opts);
    const url = await this.url(name);
    const input: Record<string, unknown> = { QueueUrl: url, MessageBody: body };
    if (opts?.delaySeconds !== undefined) input.DelaySeconds = opts.delaySeconds;
    let out: Record<string, unknown>;
    try {
      out = await awsCall(`send to ${name}`, () => this.lite.call(route, "SendMessage", input), { kind: "queue", name });
    } catch (err) {
      // A queue deleted since its URL was cached is looked up again next time.
      if (err instanceof NotFoundError) this.urls.delete(name);
      throw err;
    }
    // The SDK checks this digest too: a mismatch means the body was altered on the way.
    const md5 = out.MD5OfMessageBody;
    if (typeof md5 === "string" && md5 !== new Bun.CryptoHasher("md5").update(body).digest("hex")) {
      throw new PortError(`send to ${name}: MD5 of the message body does not match the one SQS computed`);
    }
    return typeof out.MessageId === "string" ? out.MessageId : "";
  }

  /** One call on the queue's URL; undefined when the SDK must serve this configuration. */
  private async onQueue(
    name: string,
    what: string,
    operation: string,
    input: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<Record<string, unknown> | undefined> {
    const route = await this.lite.route();
    if (!route) return undefined;
    const url = await this.url(name);
    try {
      return await awsCall(`${what} ${name}`, () => this.lite.call(route, operation, { QueueUrl: url, ...input }, signal), { kind: "queue", name });
    } catch (err) {
      if (err instanceof NotFoundError) this.urls.delete(name);
      throw err;
    }
  }

  override async receive(name: string, opts: ReceiveOptions = {}): Promise<QueueMessage[]> {
    if (opts.signal?.aborted) return [];
    const input: Record<string, unknown> = {
      MaxNumberOfMessages: opts.maxMessages ?? 1,
      WaitTimeSeconds: opts.waitSeconds ?? 0,
      MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
    };
    if (opts.visibilityTimeoutSeconds !== undefined) input.VisibilityTimeout = opts.visibilityTimeoutSeconds;
    let out: Record<string, unknown> | undefined;
    try {
      out = await this.onQueue(name, "receive from", "ReceiveMessage", input, opts.signal);
    } catch (err) {
      // As on the SDK path: an aborted poll is the caller stopping, not a failure.
      if (opts.signal?.aborted) return [];
      throw err;
    }
    if (!out) return super.receive(name, opts);
    const messages = (out.Messages ?? []) as WireMessage[];
    return messages.map((m) => {
      const body = m.Body ?? "";
      // As the SDK: a body that does not match SQS's digest was altered on the way.
      if (typeof m.MD5OfBody === "string" && m.MD5OfBody !== new Bun.CryptoHasher("md5").update(body).digest("hex")) {
        throw new PortError(`receive from ${name}: MD5 of message ${m.MessageId ?? "?"} does not match the one SQS computed`);
      }
      return {
        id: m.MessageId ?? "",
        receiptHandle: m.ReceiptHandle ?? "",
        body,
        receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
        sentAt: new Date(Number(m.Attributes?.SentTimestamp ?? Date.now())),
      };
    });
  }

  override async delete(name: string, receiptHandle: string): Promise<void> {
    const out = await this.onQueue(name, "delete from", "DeleteMessage", { ReceiptHandle: receiptHandle });
    if (!out) return super.delete(name, receiptHandle);
  }

  override async deleteBatch(name: string, receiptHandles: string[]): Promise<(Error | undefined)[]> {
    const results: (Error | undefined)[] = [];
    for (let start = 0; start < receiptHandles.length; start += 10) {
      const chunk = receiptHandles.slice(start, start + 10);
      const entries = chunk.map((h, i) => ({ Id: String(i), ReceiptHandle: h }));
      const out = await this.onQueue(name, "delete batch from", "DeleteMessageBatch", { Entries: entries });
      if (!out) return super.deleteBatch(name, receiptHandles);
      results.push(...deleteBatchResults(name, chunk.length, out.Failed as BatchEntryFailure[] | undefined));
    }
    return results;
  }

  /** A worker reads these as it starts (the visibility timeout) and in each heartbeat. */
  override async attributes(name: string): Promise<QueueAttributes> {
    const out = await this.onQueue(name, "attributes of", "GetQueueAttributes", { AttributeNames: [...ATTRIBUTE_NAMES] });
    if (!out) return super.attributes(name);
    return queueAttributes((out.Attributes ?? {}) as Record<string, string>);
  }

  override async changeVisibility(name: string, receiptHandle: string, seconds: number): Promise<void> {
    const out = await this.onQueue(name, "change visibility in", "ChangeMessageVisibility", { ReceiptHandle: receiptHandle, VisibilityTimeout: seconds });
    if (!out) return super.changeVisibility(name, receiptHandle, seconds);
  }
}

interface WireMessage {
  MessageId?: string;
  ReceiptHandle?: string;
  Body?: string;
  MD5OfBody?: string;
  Attributes?: Record<string, string>;
}
