/**
 * A small AWS JSON-protocol client (`application/x-amz-json-1.0`, `X-Amz-Target`) for the requests a
 * dispatcher sends (DynamoDB GetItem, SQS GetQueueUrl and SendMessage) and those a worker sends per job
 * (ReceiveMessage, DeleteMessage[Batch], ChangeMessageVisibility, UpdateItem, BatchGetItem). Loading the
 * SDK clients costs more than the rest of a dispatch (see bench/dispatch.ts), and the SDK's per-request
 * CPU (middleware, node:http emulation) was most of a worker's CPU per trivial job; so these go over
 * fetch with SigV4 signing and the SDK's error shape (so `mapAwsError` maps them alike). Each call is
 * one request: like the SDK clients of DynamoDB and SQS (`maxAttempts: 1`), it leaves retrying to the
 * policy the callers apply (src/core/retry.ts).
 *
 * `route()` is undefined when a setting needs what only the SDK implements (FIPS or dual-stack endpoints,
 * endpoints from the shared config file, unknown partitions, no region): callers then use the SDK path.
 */
import type { AwsSettings, CountableClient, ServiceId } from "../clients.ts";
import { credentialSource, envCredentials, type CredentialSource } from "./credentials.ts";
import { loadProfile, profileName, type ProfileData } from "./profile.ts";
import { signRequest } from "./sigv4.ts";

export interface LiteRoute {
  endpoint: URL;
  region: string;
  credentials: CredentialSource;
}

interface ServiceShape {
  /** SigV4 signing name and endpoint prefix. */
  signingName: string;
  /** X-Amz-Target prefix. */
  targetPrefix: string;
}

const SERVICES: Partial<Record<ServiceId, ServiceShape>> = {
  DYNAMODB: { signingName: "dynamodb", targetPrefix: "DynamoDB_20120810" },
  SQS: { signingName: "sqs", targetPrefix: "AmazonSQS" },
};

/** An error AWS answered with, shaped like the SDK's service exceptions (`name`, `$metadata`, `$fault`). */
export class LiteServiceError extends Error {
  readonly $metadata: { httpStatusCode: number; requestId?: string; attempts: 1 };
  readonly $fault: "client" | "server";
  /** The query-protocol code (`AWS.SimpleQueueService.NonExistentQueue`) when the service sent one. */
  readonly Code?: string;

  constructor(code: string, message: string, status: number, requestId?: string, queryCode?: string) {
    super(message);
    this.name = code;
    this.$metadata = { httpStatusCode: status, attempts: 1, ...(requestId ? { requestId } : {}) };
    this.$fault = status >= 500 ? "server" : "client";
    if (queryCode) this.Code = queryCode;
  }
}

function truthy(value: string | undefined): boolean {
  return /^(1|true|yes|on)$/i.test((value ?? "").trim());
}

/** The regional endpoint of the commercial, China and GovCloud partitions; undefined for any other. */
export function regionalEndpoint(signingName: string, region: string): URL | undefined {
  if (/^cn-[a-z]+-\d+$/.test(region)) return new URL(`https://${signingName}.${region}.amazonaws.com.cn`);
  if (/^(us-gov|[a-z]{2})-[a-z]+-\d+$/.test(region)) return new URL(`https://${signingName}.${region}.amazonaws.com`);
  return undefined;
}

type Json = Record<string, unknown>;

/** One AWS service over the lite protocol. Counted by the pool's RequestCounter like an SDK client. */
export class LiteService implements CountableClient {
  private readonly counters: Parameters<CountableClient["middlewareStack"]["add"]>[0][] = [];
  private routed: Promise<LiteRoute | undefined> | undefined;
  readonly middlewareStack: CountableClient["middlewareStack"] = {
    add: (middleware, options) => {
      if (options.step === "deserialize") this.counters.push(middleware);
    },
  };

  constructor(
    private readonly settings: AwsSettings,
    private readonly service: ServiceId,
    /** Where the SDK would read files, profile and credentials from. */
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** Where and how to send, or undefined when the SDK must handle this configuration. */
  route(): Promise<LiteRoute | undefined> {
    this.routed ??= Promise.resolve().then(() => this.resolveRoute());
    return this.routed;
  }

  private resolveRoute(): LiteRoute | undefined {
    const shape = SERVICES[this.service];
    if (!shape) return undefined;
    const env = this.env;
    // The shared files are read only when the region, the endpoint or the keys are still unknown.
    const keysAtHand = this.settings.credentials || (!this.settings.profile && !env.AWS_PROFILE && envCredentials(env));
    const needsProfile = !this.settings.region || !this.settings.endpoints[this.service] || !keysAtHand;
    const data: ProfileData | undefined = needsProfile ? loadProfile(profileName(this.settings.profile, env), env) : undefined;
    const region = this.settings.region || data?.region;
    if (!region) return undefined;
    let endpoint: URL | undefined;
    const configured = this.settings.endpoints[this.service];
    if (configured) {
      endpoint = new URL(configured);
    } else {
      if (truthy(env.AWS_USE_FIPS_ENDPOINT) || truthy(env.AWS_USE_DUALSTACK_ENDPOINT)) return undefined;
      if (data && (truthy(data.use_fips_endpoint) || truthy(data.use_dualstack_endpoint))) return undefined;
      if (data && !truthy(env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS) && (data.endpoint_url || data.services)) return undefined;
      endpoint = regionalEndpoint(shape.signingName, region);
      if (!endpoint) return undefined;
    }
    const credentials = credentialSource({
      explicit: this.settings.credentials,
      profile: this.settings.profile,
      env,
      profileData: data,
    });
    return { endpoint, region, credentials };
  }

  /**
   * Sends `operation` with `input` as JSON, once: retrying is the caller's (src/core/retry.ts), so a second
   * loop here would multiply the requests one failing call costs. The request is counted. `signal` aborts
   * the request (a worker stopping during a long poll); the call then rejects with fetch's AbortError.
   */
  async call(route: LiteRoute, operation: string, input: Json, signal?: AbortSignal): Promise<Json> {
    const shape = SERVICES[this.service]!;
    const body = JSON.stringify(input);
    return this.counted(operation, () => this.attempt(route, shape, operation, body, signal));
  }

  /** Runs one HTTP attempt through the counting middleware the pool registered. */
  private async counted(operation: string, send: () => Promise<Json>): Promise<Json> {
    let result: Json | undefined;
    type Handler = Parameters<Parameters<CountableClient["middlewareStack"]["add"]>[0]>[0];
    let handler: Handler = (async () => {
      result = await send();
      return { response: undefined, output: { $metadata: {} } };
    }) as Handler;
    for (const middleware of this.counters) handler = middleware(handler, { commandName: `${operation}Command` });
    await handler({ input: {}, request: undefined });
    return result!;
  }

  private async attempt(route: LiteRoute, shape: ServiceShape, operation: string, body: string, signal?: AbortSignal): Promise<Json> {
    const credentials = await route.credentials();
    const headers = signRequest(
      {
        method: "POST",
        url: route.endpoint,
        headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": `${shape.targetPrefix}.${operation}` },
        body,
      },
      { service: shape.signingName, region: route.region, credentials, now: new Date() },
    );
    // fetch sets Host itself; sending ours too would duplicate it.
    delete headers.host;
    const response = await fetch(route.endpoint, { method: "POST", headers, body, ...(signal ? { signal } : {}) });
    const text = await response.text();
    const parsed = text ? (safeJson(text) ?? {}) : {};
    if (response.ok) return parsed;
    throw serviceError(response, parsed);
  }

  /** Nothing to release: fetch pools its own connections. Present so the pool can treat it as a client. */
  destroy(): void {}
}

function safeJson(text: string): Json | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
  } catch {
    return undefined;
  }
}

/** `com.amazonaws.dynamodb.v20120810#ResourceNotFoundException` or `Code:http://...` → the bare code. */
function bareCode(raw: string): string {
  const afterHash = raw.includes("#") ? raw.slice(raw.lastIndexOf("#") + 1) : raw;
  return afterHash.split(":")[0]!.trim();
}

function serviceError(response: Response, body: Json): LiteServiceError {
  const rawType = response.headers.get("x-amzn-errortype") ?? (typeof body.__type === "string" ? body.__type : "") ?? "";
  const code = bareCode(rawType || (typeof body.code === "string" ? body.code : "")) || "UnknownError";
  const message = typeof body.message === "string" ? body.message : typeof body.Message === "string" ? body.Message : code;
  // SQS speaks JSON but keeps its query-protocol codes in this header (`AWS.SimpleQueueService.NonExistentQueue;Sender`).
  const queryCode = response.headers.get("x-amzn-query-error")?.split(";")[0] || undefined;
  const requestId = response.headers.get("x-amzn-requestid") ?? undefined;
  return new LiteServiceError(code, message, response.status, requestId, queryCode);
}
