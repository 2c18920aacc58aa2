/**
 * SQS GetQueueUrl, SendMessage[Batch] and a worker's calls (GetQueueAttributes, ReceiveMessage,
 * DeleteMessage, DeleteMessageBatch, ChangeMessageVisibility) over the lite client (SQS's JSON protocol);
 * every other queue operation stays on the SDK client. The queue URL cache is the SDK port's own, so both
 * paths share it.
 */
import { PortError } from "../../../ports/errors.ts";
import type { QueueAttributes, QueueMessage, ReceiveOptions } from "../../../ports/queue.ts";
import { awsCall } from "../errors.ts";
import {
  ATTRIBUTE_NAMES,
  deleteBatchResults,
  queueAttributes,
  sendInBatches,
  SqsQueuePort,
  type BatchEntryFailure,
  type SendBatchAnswer,
} from "../queues.ts";
import type { QueueUrlMemory } from "../queue-urls.ts";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { LiteService } from "./client.ts";

export class LiteSqsQueuePort extends SqsQueuePort {
  constructor(
    client: () => Promise<SQSClient>,
    private readonly lite: LiteService,
    memory?: QueueUrlMemory,
  ) {
    super(client, memory);
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
    const input: Record<string, unknown> = { MessageBody: body };
    if (opts?.delaySeconds !== undefined) input.DelaySeconds = opts.delaySeconds;
    const out = await this.onUrl(name, "send to", (url) => this.lite.call(route, "SendMessage", { QueueUrl: url, ...input }));
    // The SDK checks this digest too: a mismatch means the body was altered on the way.
    if (!bodyMatches(out.MD5OfMessageBody, body)) {
      throw new PortError(`send to ${name}: MD5 of the message body does not match the one SQS computed`);
    }
    return typeof out.MessageId === "string" ? out.MessageId : "";
  }

  override async sendBatch(name: string, entries: { body: string; delaySeconds?: number }[]): Promise<string[]> {
    const route = await this.lite.route();
    if (!route) return super.sendBatch(name, entries);
    return sendInBatches(name, entries, async (chunk) => {
      const wire = chunk.map((e, i) => ({ Id: String(i), MessageBody: e.body, ...(e.delaySeconds !== undefined ? { DelaySeconds: e.delaySeconds } : {}) }));
      const out = (await this.onUrl(name, "send batch to", (url) => this.lite.call(route, "SendMessageBatch", { QueueUrl: url, Entries: wire }))) as SendBatchAnswer & {
        Successful?: { Id?: string; MessageId?: string; MD5OfMessageBody?: string }[];
      };
      for (const ok of out.Successful ?? []) {
        if (!bodyMatches(ok.MD5OfMessageBody, chunk[Number(ok.Id)]?.body ?? "")) {
          throw new PortError(`send batch to ${name}: MD5 of message ${ok.Id} does not match the one SQS computed`);
        }
      }
      return out;
    });
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
    return this.onUrl(name, what, (url) => this.lite.call(route, operation, { QueueUrl: url, ...input }, signal));
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
      if (!bodyMatches(m.MD5OfBody, body)) {
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

/** SQS's digest of a body against the body we have; an answer without one is taken as it is. */
function bodyMatches(md5: unknown, body: string): boolean {
  return typeof md5 !== "string" || md5 === new Bun.CryptoHasher("md5").update(body).digest("hex");
}

interface WireMessage {
  MessageId?: string;
  ReceiptHandle?: string;
  Body?: string;
  MD5OfBody?: string;
  Attributes?: Record<string, string>;
}
