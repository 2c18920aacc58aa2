/**
 * SQS GetQueueUrl and SendMessage over the lite client (SQS's JSON protocol); every other queue operation
 * stays on the SDK client. The queue URL cache is the SDK port's own, so both paths share it.
 */
import { NotFoundError, PortError } from "../../../ports/errors.ts";
import { awsCall } from "../errors.ts";
import { SqsQueuePort } from "../queues.ts";
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
    const out = await awsCall(`queue ${name}`, () => this.lite.call(route, "GetQueueUrl", { QueueName: name }));
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
      out = await awsCall(`send to ${name}`, () => this.lite.call(route, "SendMessage", input));
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
}
