/**
 * Shared settings for every AWS SDK client of one `Ports` bundle, and the request counter.
 *
 * Endpoints: the SDK at this version already honours `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>`
 * from `process.env` and the shared config file. We still read them ourselves from the environment we were
 * given, so a caller that passes its own `env` (tests pointing at emulators) gets the same behaviour without
 * mutating `process.env`.
 */
import type {
  DeserializeHandler,
  DeserializeHandlerArguments,
  HandlerExecutionContext,
  MetadataBearer,
} from "@smithy/types";

/** Service ids as they appear in `AWS_ENDPOINT_URL_<ID>` (the SDK's service id, upper case, spaces as `_`). */
export type ServiceId =
  | "DYNAMODB"
  | "SQS"
  | "S3"
  | "SNS"
  | "CLOUDWATCH"
  | "SSM"
  | "SECRETS_MANAGER"
  | "KMS"
  | "EVENTBRIDGE"
  | "SES"
  | "STS"
  | "REDSHIFT"
  | "REDSHIFT_SERVERLESS";

export interface AwsSettings {
  /** Undefined lets the SDK resolve it from the profile's config. */
  region?: string;
  profile?: string;
  endpoints: Partial<Record<ServiceId, string>>;
  /** `LAVA_S3_PATH_STYLE=true`: path-style S3 addressing, for emulators. */
  s3PathStyle: boolean;
  /** Only set when the caller passed its own `env` holding static keys. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

const SERVICE_IDS: ServiceId[] = [
  "DYNAMODB",
  "SQS",
  "S3",
  "SNS",
  "CLOUDWATCH",
  "SSM",
  "SECRETS_MANAGER",
  "KMS",
  "EVENTBRIDGE",
  "SES",
  "STS",
  "REDSHIFT",
  "REDSHIFT_SERVERLESS",
];

function truthy(value: string | undefined): boolean {
  return /^(1|true|yes|on)$/i.test((value ?? "").trim());
}

/**
 * Region: explicit option, then `AWS_REGION`, then `AWS_DEFAULT_REGION` (which the JS SDK ignores but the
 * Python original honoured), else left to the SDK (profile config).
 */
export function resolveSettings(
  opts: { profile?: string; region?: string },
  env: NodeJS.ProcessEnv,
  explicitEnv: boolean,
): AwsSettings {
  const endpoints: Partial<Record<ServiceId, string>> = {};
  if (!truthy(env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS)) {
    for (const id of SERVICE_IDS) {
      const url = env[`AWS_ENDPOINT_URL_${id}`] || env.AWS_ENDPOINT_URL;
      if (url) endpoints[id] = url;
    }
  }
  const settings: AwsSettings = {
    region: opts.region || env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined,
    profile: opts.profile || undefined,
    endpoints,
    s3PathStyle: truthy(env.LAVA_S3_PATH_STYLE),
  };
  if (explicitEnv && !settings.profile && env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    settings.credentials = {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    };
  }
  return settings;
}

/**
 * Services whose ports the domain calls through its one retry policy (src/core/retry.ts, applied to
 * `Ports.tables` and `Ports.queues`): their SDK clients make one attempt per call, as the lite client
 * does, so retries never stack. The other services keep the SDK's built-in standard retry (3 attempts,
 * or `AWS_MAX_ATTEMPTS`), the only retry their calls get.
 */
const RETRIED_BY_CALLER: ReadonlySet<ServiceId> = new Set(["DYNAMODB", "SQS"]);

/** Constructor options common to every client; `undefined` fields are left to the SDK's defaults. */
export function clientOptions(settings: AwsSettings, service: ServiceId, region = settings.region) {
  return {
    ...(RETRIED_BY_CALLER.has(service) ? { maxAttempts: 1 } : {}),
    ...(region ? { region } : {}),
    ...(settings.profile ? { profile: settings.profile } : {}),
    ...(settings.endpoints[service] ? { endpoint: settings.endpoints[service] } : {}),
    ...(settings.credentials ? { credentials: settings.credentials } : {}),
  };
}

/** Requests sent, keyed `Service.Operation`. Retries count as separate requests, as AWS bills them. */
export type RequestStats = Record<string, number>;

type Middleware = (
  next: DeserializeHandler<object, MetadataBearer>,
  context: HandlerExecutionContext,
) => (args: DeserializeHandlerArguments<object>) => ReturnType<DeserializeHandler<object, MetadataBearer>>;

/** What we need of an SDK client to count its requests. */
export interface CountableClient {
  middlewareStack: {
    add(middleware: Middleware, options: { step: "deserialize"; name: string; priority?: "low" }): void;
  };
}

export class RequestCounter {
  private readonly counts = new Map<string, number>();

  /**
   * Counts in the `deserialize` step, which sits inside the retry loop, so every HTTP attempt is counted
   * (including the parts of a multipart upload, which go through the same client).
   */
  attach(client: CountableClient, service: string): void {
    client.middlewareStack.add(
      (next, context) => (args) => {
        const key = `${service}.${(context.commandName ?? "Unknown").replace(/Command$/, "")}`;
        this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
        return next(args);
      },
      { step: "deserialize", name: "lavaRequestCounter", priority: "low" },
    );
  }

  snapshot(): RequestStats {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)));
  }

  total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }

  reset(): void {
    this.counts.clear();
  }
}

/** One promise per service: the SDK module is imported and the client built on first use only. */
export function lazy<T>(make: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= make().catch((err: unknown) => {
      value = undefined; // a failed import or construction may succeed on a later call
      throw err;
    });
    return value;
  };
}
