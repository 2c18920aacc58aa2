/** The smaller ports on SNS, CloudWatch, SSM + Secrets Manager + KMS, EventBridge and SES. */
import type { SNSClient } from "@aws-sdk/client-sns";
import type { CloudWatchClient, StandardUnit } from "@aws-sdk/client-cloudwatch";
import type { SSMClient } from "@aws-sdk/client-ssm";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { KMSClient } from "@aws-sdk/client-kms";
import type { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import type { SESClient } from "@aws-sdk/client-ses";
import type {
  EmailMessage,
  EmailPort,
  EventBusEntry,
  EventBusPort,
  MetricDatum,
  MetricsPort,
  NotificationPort,
  ParameterPort,
} from "../../ports/services.ts";
import { PortError } from "../../ports/errors.ts";
import { awsCall } from "./errors.ts";

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export class SnsNotificationPort implements NotificationPort {
  constructor(private readonly client: () => Promise<SNSClient>) {}

  async publish(topicArn: string, message: string, opts?: { subject?: string }): Promise<string> {
    const { PublishCommand } = await import("@aws-sdk/client-sns");
    const sns = await this.client();
    const out = await awsCall(`publish to ${topicArn}`, () =>
      sns.send(new PublishCommand({ TopicArn: topicArn, Message: message, Subject: opts?.subject })),
    );
    return out.MessageId ?? "";
  }
}

/** PutMetricData accepts up to 1000 data per call; 20 keeps us inside the older limit some emulators keep. */
const METRICS_PER_CALL = 20;

export class CloudWatchMetricsPort implements MetricsPort {
  constructor(private readonly client: () => Promise<CloudWatchClient>) {}

  async put(namespace: string, data: MetricDatum[]): Promise<void> {
    if (!data.length) return;
    const { PutMetricDataCommand } = await import("@aws-sdk/client-cloudwatch");
    const cw = await this.client();
    for (const chunk of chunks(data, METRICS_PER_CALL)) {
      await awsCall(`put metrics to ${namespace}`, () =>
        cw.send(
          new PutMetricDataCommand({
            Namespace: namespace,
            MetricData: chunk.map((d) => ({
              MetricName: d.name,
              Value: d.value,
              Unit: (d.unit ?? "None") as StandardUnit,
              Timestamp: d.timestamp,
              Dimensions: Object.entries(d.dimensions ?? {}).map(([Name, Value]) => ({ Name, Value })),
            })),
          }),
        ),
      );
    }
  }
}

export class AwsParameterPort implements ParameterPort {
  constructor(
    private readonly ssm: () => Promise<SSMClient>,
    private readonly secrets: () => Promise<SecretsManagerClient>,
    private readonly kms: () => Promise<KMSClient>,
  ) {}

  async getParameter(name: string, opts?: { decrypt?: boolean }): Promise<string> {
    const { GetParameterCommand } = await import("@aws-sdk/client-ssm");
    const ssm = await this.ssm();
    const out = await awsCall(`SSM parameter ${name}`, () =>
      ssm.send(new GetParameterCommand({ Name: name, WithDecryption: opts?.decrypt ?? false })),
      { kind: "parameter", name },
    );
    return out.Parameter?.Value ?? "";
  }

  /** SecretString; a binary-only secret is returned as its UTF-8 text. */
  async getSecret(id: string): Promise<string> {
    const { GetSecretValueCommand } = await import("@aws-sdk/client-secrets-manager");
    const sm = await this.secrets();
    const out = await awsCall(`secret ${id}`, () => sm.send(new GetSecretValueCommand({ SecretId: id })), { kind: "secret", name: id });
    if (out.SecretString !== undefined) return out.SecretString;
    if (out.SecretBinary) return new TextDecoder().decode(out.SecretBinary);
    return "";
  }

  async encrypt(keyId: string, plaintext: Uint8Array): Promise<Uint8Array> {
    const { EncryptCommand } = await import("@aws-sdk/client-kms");
    const kms = await this.kms();
    const out = await awsCall(`KMS encrypt with ${keyId}`, () =>
      kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: plaintext })),
      { kind: "key", name: keyId },
    );
    if (!out.CiphertextBlob) throw new PortError(`KMS encrypt with ${keyId}: no ciphertext returned`);
    return out.CiphertextBlob;
  }

  async decrypt(ciphertext: Uint8Array): Promise<Uint8Array> {
    const { DecryptCommand } = await import("@aws-sdk/client-kms");
    const kms = await this.kms();
    const out = await awsCall("KMS decrypt", () => kms.send(new DecryptCommand({ CiphertextBlob: ciphertext })));
    if (!out.Plaintext) throw new PortError("KMS decrypt: no plaintext returned");
    return out.Plaintext;
  }
}

/** PutEvents takes at most 10 entries. */
const EVENTS_PER_CALL = 10;

export class EventBridgePort implements EventBusPort {
  constructor(private readonly client: () => Promise<EventBridgeClient>) {}

  async putEvents(entries: EventBusEntry[]): Promise<void> {
    if (!entries.length) return;
    const { PutEventsCommand } = await import("@aws-sdk/client-eventbridge");
    const eb = await this.client();
    for (const chunk of chunks(entries, EVENTS_PER_CALL)) {
      const out = await awsCall("EventBridge put events", () =>
        eb.send(
          new PutEventsCommand({
            Entries: chunk.map((e) => ({
              Source: e.source,
              DetailType: e.detailType,
              Detail: e.detail,
              EventBusName: e.eventBus,
              Resources: e.resources,
            })),
          }),
        ),
      );
      if (out.FailedEntryCount) {
        // Error codes only: an entry's detail may carry job data we must not echo.
        const codes = (out.Entries ?? []).flatMap((e) => (e.ErrorCode ? [e.ErrorCode] : []));
        throw new PortError(`EventBridge put events: ${out.FailedEntryCount} failed (${codes.join(", ")})`);
      }
    }
  }
}

export class SesEmailPort implements EmailPort {
  constructor(private readonly client: (region?: string) => Promise<SESClient>) {}

  async send(msg: EmailMessage, opts?: { region?: string; configurationSet?: string }): Promise<string> {
    const ses = await import("@aws-sdk/client-ses");
    const client = await this.client(opts?.region);
    const configurationSet = opts?.configurationSet ? { ConfigurationSetName: opts.configurationSet } : {};
    if (msg.raw) {
      const raw = msg.raw;
      const out = await awsCall("SES send raw email", () =>
        client.send(
          new ses.SendRawEmailCommand({
            Source: msg.from,
            Destinations: [...msg.to, ...(msg.cc ?? []), ...(msg.bcc ?? [])],
            RawMessage: { Data: raw },
            ...configurationSet,
          }),
        ),
      );
      return out.MessageId ?? "";
    }
    const content = (data: string) => ({ Data: data, Charset: "UTF-8" });
    const out = await awsCall("SES send email", () =>
      client.send(
        new ses.SendEmailCommand({
          Source: msg.from,
          Destination: { ToAddresses: msg.to, CcAddresses: msg.cc, BccAddresses: msg.bcc },
          ReplyToAddresses: msg.replyTo,
          Message: {
            Subject: content(msg.subject),
            Body: {
              ...(msg.text !== undefined ? { Text: content(msg.text) } : {}),
              ...(msg.html !== undefined ? { Html: content(msg.html) } : {}),
            },
          },
          ...configurationSet,
        }),
      ),
    );
    return out.MessageId ?? "";
  }
}
