/**
 * The `aws` backend: ports on DynamoDB, SQS, S3, SNS, CloudWatch, SSM, Secrets Manager, KMS, EventBridge
 * and SES (AWS SDK v3).
 *
 * Cold start matters (a dispatcher is a short-lived Lambda-style process that only needs DynamoDB and SQS),
 * so each SDK module is imported, and its client built, the first time a port needs it; one client per
 * service per `Ports`.
 *
 * Settings, from the options and then the environment:
 * - credentials: the SDK's standard chain; `profile` (`--profile`) selects a shared-config profile.
 * - region: `region` option, `AWS_REGION`, `AWS_DEFAULT_REGION`, else the profile's region.
 * - endpoints: `AWS_ENDPOINT_URL_<SERVICE>` (e.g. `AWS_ENDPOINT_URL_DYNAMODB`), else `AWS_ENDPOINT_URL`;
 *   ignored when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`. Used to point lava at emulators.
 * - `LAVA_S3_PATH_STYLE=true`: path-style S3 URLs (`http://host/bucket/key`), which emulators need.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { S3Client } from "@aws-sdk/client-s3";
import type { SNSClient } from "@aws-sdk/client-sns";
import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import type { SSMClient } from "@aws-sdk/client-ssm";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { KMSClient } from "@aws-sdk/client-kms";
import type { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import type { SESClient } from "@aws-sdk/client-ses";
import type { Ports } from "../../ports/index.ts";
import {
  clientOptions,
  lazy,
  RequestCounter,
  resolveSettings,
  type AwsSettings,
  type CountableClient,
  type RequestStats,
} from "./clients.ts";
import type { DynamoClients } from "./tables.ts";
import { LiteDynamoTableStore, LiteService, LiteSqsQueuePort } from "./lite/index.ts";
import { S3ObjectStore } from "./objects.ts";
import {
  AwsParameterPort,
  CloudWatchMetricsPort,
  EventBridgePort,
  SesEmailPort,
  SnsNotificationPort,
} from "./services.ts";
import { AwsCredentialsPort } from "./credentials.ts";
import { FileQueueUrlMemory, queueUrlFile, type QueueUrlMemory } from "./queue-urls.ts";
import { bunSqlite } from "../common/sqlite-driver.ts";

export type { RequestStats } from "./clients.ts";
export { mapAwsError } from "./errors.ts";

export interface AwsPortsOptions {
  /** Shared-config profile (`--profile`); default: the SDK's default chain. */
  profile?: string;
  /** Default: `AWS_REGION`, `AWS_DEFAULT_REGION`, then the profile's region. */
  region?: string;
  /**
   * Environment to read endpoints, region and path-style from; default `process.env`. When given
   * explicitly, static keys in it (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`) are used as credentials
   * unless a profile is named, so tests can target emulators without touching `process.env`.
   */
  env?: NodeJS.ProcessEnv;
}

export interface AwsPorts extends Ports {
  readonly backend: "aws";
  /** AWS requests sent so far through these ports, by `Service.Operation` (retries included). */
  stats(): RequestStats;
  /** Total of `stats()`. */
  requestCount(): number;
  resetStats(): void;
}

/** Request counts of `ports` when they are AWS ports; undefined for other backends. */
export function requestStats(ports: Ports): RequestStats | undefined {
  const maybe = ports as Partial<AwsPorts>;
  return maybe.backend === "aws" && typeof maybe.stats === "function" ? maybe.stats() : undefined;
}

interface Destroyable extends CountableClient {
  destroy(): void;
}

/** Builds clients on demand and remembers them so `close()` can release their sockets. */
class ClientPool {
  readonly counter = new RequestCounter();
  private readonly built: Destroyable[] = [];

  constructor(readonly settings: AwsSettings) {}

  register<C extends Destroyable>(client: C, service: string): C {
    this.counter.attach(client, service);
    this.built.push(client);
    return client;
  }

  close(): void {
    for (const client of this.built.splice(0)) client.destroy();
  }
}

/** Queue URLs remembered on this host for these settings' account and endpoint (queue-urls.ts). */
function queueUrlMemory(settings: AwsSettings, env: NodeJS.ProcessEnv): QueueUrlMemory | undefined {
  const file = queueUrlFile(env);
  if (!file) return undefined;
  const scope = [
    settings.region ?? "",
    settings.endpoints.SQS ?? "",
    settings.profile ?? env.AWS_PROFILE ?? "",
    settings.credentials?.accessKeyId ?? env.AWS_ACCESS_KEY_ID ?? "",
  ].join("|");
  const memory = new FileQueueUrlMemory(file, scope);
  memory.preload();
  return memory;
}

export async function openAwsPorts(opts: AwsPortsOptions = {}): Promise<AwsPorts> {
  const settings = resolveSettings(opts, opts.env ?? process.env, opts.env !== undefined);
  const pool = new ClientPool(settings);

  const dynamo = lazy<DynamoClients>(async () => {
    const [{ DynamoDBClient }, { DynamoDBDocumentClient }] = await Promise.all([
      import("@aws-sdk/client-dynamodb"),
      import("@aws-sdk/lib-dynamodb"),
    ]);
    const raw: DynamoDBClient = pool.register(new DynamoDBClient(clientOptions(settings, "DYNAMODB")), "DynamoDB");
    // The document client shares the raw client's middleware stack, so its requests are counted too.
    const doc = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
    return { raw, doc };
  });
  const sqs = lazy<SQSClient>(async () => {
    const { SQSClient } = await import("@aws-sdk/client-sqs");
    return pool.register(new SQSClient(clientOptions(settings, "SQS")), "SQS");
  });
  const s3 = lazy<S3Client>(async () => {
    const [{ S3Client }, { FetchHttpHandler }] = await Promise.all([
      import("@aws-sdk/client-s3"),
      import("@smithy/fetch-http-handler"),
    ]);
    const options = {
      ...clientOptions(settings, "S3"),
      forcePathStyle: settings.s3PathStyle,
      // Bun's native fetch moves large bodies with fewer copies than its node:http emulation: a 200 MB
      // round trip grew RSS by ~40 MB this way against ~60 MB through node:http; bodies arrive as web streams.
      requestHandler: new FetchHttpHandler(),
    };
    return pool.register(new S3Client(options), "S3");
  });
  const sns = lazy<SNSClient>(async () => {
    const { SNSClient } = await import("@aws-sdk/client-sns");
    return pool.register(new SNSClient(clientOptions(settings, "SNS")), "SNS");
  });
  const cloudwatch = lazy<CloudWatchClient>(async () => {
    const { CloudWatchClient } = await import("@aws-sdk/client-cloudwatch");
    return pool.register(new CloudWatchClient(clientOptions(settings, "CLOUDWATCH")), "CloudWatch");
  });
  const ssm = lazy<SSMClient>(async () => {
    const { SSMClient } = await import("@aws-sdk/client-ssm");
    return pool.register(new SSMClient(clientOptions(settings, "SSM")), "SSM");
  });
  const secrets = lazy<SecretsManagerClient>(async () => {
    const { SecretsManagerClient } = await import("@aws-sdk/client-secrets-manager");
    return pool.register(new SecretsManagerClient(clientOptions(settings, "SECRETS_MANAGER")), "SecretsManager");
  });
  const kms = lazy<KMSClient>(async () => {
    const { KMSClient } = await import("@aws-sdk/client-kms");
    return pool.register(new KMSClient(clientOptions(settings, "KMS")), "KMS");
  });
  const eventBridge = lazy<EventBridgeClient>(async () => {
    const { EventBridgeClient } = await import("@aws-sdk/client-eventbridge");
    return pool.register(new EventBridgeClient(clientOptions(settings, "EVENTBRIDGE")), "EventBridge");
  });
  // SES may be asked for another region (lava's email action can name one), so one client per region.
  const sesClients = new Map<string, () => Promise<SESClient>>();
  const ses = (region?: string): Promise<SESClient> => {
    const key = region ?? "";
    let get = sesClients.get(key);
    if (!get) {
      get = lazy<SESClient>(async () => {
        const { SESClient } = await import("@aws-sdk/client-ses");
        return pool.register(new SESClient(clientOptions(settings, "SES", region ?? settings.region)), "SES");
      });
      sesClients.set(key, get);
    }
    return get();
  };
  // A dispatcher's and a worker's hot calls skip the SDK (lite/dynamo.ts, lite/sqs.ts): see lite/client.ts.
  const liteDynamo = pool.register(new LiteService(settings, "DYNAMODB"), "DynamoDB");
  const liteSqs = pool.register(new LiteService(settings, "SQS"), "SQS");
  const env = opts.env ?? process.env;
  const s3Region = async (): Promise<string | undefined> => (await s3()).config.region();

  return {
    backend: "aws",
    tables: new LiteDynamoTableStore(dynamo, liteDynamo),
    queues: new LiteSqsQueuePort(sqs, liteSqs, queueUrlMemory(settings, env)),
    objects: new S3ObjectStore(s3, s3Region),
    notifications: new SnsNotificationPort(sns),
    metrics: new CloudWatchMetricsPort(cloudwatch),
    params: new AwsParameterPort(ssm, secrets, kms),
    eventBus: new EventBridgePort(eventBridge),
    email: new SesEmailPort(ses),
    credentials: new AwsCredentialsPort(settings, pool),
    sqlite: bunSqlite,
    stats: () => pool.counter.snapshot(),
    requestCount: () => pool.counter.total(),
    resetStats: () => pool.counter.reset(),
    async close() {
      pool.close();
    },
  };
}
