/** Maps AWS SDK errors onto the port errors the domain understands, keeping the SDK error as `cause`. */
import { ConditionFailedError, NotFoundError, PortError, ThrottledError } from "../../ports/errors.ts";

const CONDITION_FAILED = new Set(["ConditionalCheckFailedException"]);

const NOT_FOUND = new Set([
  "ResourceNotFoundException",
  "NoSuchKey",
  "NoSuchBucket",
  "NotFound",
  "QueueDoesNotExist",
  "AWS.SimpleQueueService.NonExistentQueue",
  "ParameterNotFound",
  "NotFoundException",
  "NotFoundFault",
]);

const THROTTLED = new Set([
  "ThrottlingException",
  "Throttling",
  "ThrottledException",
  "TooManyRequestsException",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "InternalServerError",
  "InternalError",
  "InternalFailure",
  "LimitExceededException",
  "KMSInternalException",
]);

interface SdkErrorShape {
  name?: unknown;
  Code?: unknown;
  $metadata?: { httpStatusCode?: number };
}

function errorCode(err: unknown): string {
  if (typeof err !== "object" || err === null) return "";
  const shape = err as SdkErrorShape;
  if (typeof shape.name === "string" && shape.name !== "Error") return shape.name;
  return typeof shape.Code === "string" ? shape.Code : "";
}

/**
 * Connection failures (refused, reset, dropped mid-request) that outlast the SDK's own retries. They mean
 * "unavailable" just as a 503 does, so callers that retry throttling retry these too. Aborts and client
 * timeouts are not among them: they pass unchanged, since callers treat them as cancellation.
 */
const NETWORK_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "ConnectionRefused", "ConnectionClosed"]);

function networkCode(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" && NETWORK_CODES.has(code) ? code : undefined;
}

function httpStatus(err: unknown): number | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  return (err as SdkErrorShape).$metadata?.httpStatusCode;
}

/**
 * Returns the port error for `err`; connection failures become `ThrottledError`; other errors that never
 * reached AWS (abort, timeout, bugs) pass unchanged.
 * `what` names the operation and resource (table, queue, URI, parameter name): never a value, which could
 * be a secret.
 */
export function mapAwsError(err: unknown, what: string): unknown {
  const code = errorCode(err);
  const status = httpStatus(err);
  if (CONDITION_FAILED.has(code)) return new ConditionFailedError(`${what}: condition failed`, { cause: err });
  if (NOT_FOUND.has(code)) return new NotFoundError(`${what}: not found (${code})`, { cause: err });
  if (THROTTLED.has(code) || status === 429 || (status !== undefined && status >= 500)) {
    return new ThrottledError(`${what}: throttled or unavailable (${code || status})`, { cause: err });
  }
  const network = status === undefined ? networkCode(err) : undefined;
  if (network) return new ThrottledError(`${what}: throttled or unavailable (${network})`, { cause: err });
  // Any other error AWS answered with becomes a plain PortError, so the domain never sees an SDK class.
  if (status !== undefined) {
    const detail = err instanceof Error && err.message && err.message !== code ? `: ${err.message}` : "";
    return new PortError(`${what}: ${code || `HTTP ${status}`}${detail}`, { cause: err });
  }
  return err;
}

/** Runs one SDK call, translating its errors. */
export async function awsCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw mapAwsError(err, what);
  }
}

export function isAwsError(err: unknown, ...codes: string[]): boolean {
  return codes.includes(errorCode(err));
}
