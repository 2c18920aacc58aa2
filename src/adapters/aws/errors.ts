/**
 * Maps AWS errors (SDK service exceptions, the lite client's look-alikes, connection failures) onto the port
 * errors the domain understands, keeping the original as `cause`. This is the one list of AWS codes: the SDK
 * path and the lite client both classify through it, and neither retries on its own (src/core/retry.ts does).
 */
import {
  AccessDeniedError,
  ConditionFailedError,
  NotFoundError,
  PortError,
  ThrottledError,
  UnavailableError,
  ValidationError,
  type Resource,
} from "../../ports/errors.ts";

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

/** The SDK's throttling codes (its standard retry strategy's list) and the services' own. */
export const THROTTLING_CODES: ReadonlySet<string> = new Set([
  "ThrottlingException",
  "Throttling",
  "ThrottledException",
  "RequestThrottledException",
  "TooManyRequestsException",
  "ProvisionedThroughputExceededException",
  "TransactionInProgressException",
  "RequestLimitExceeded",
  "BandwidthLimitExceeded",
  "LimitExceededException",
  "RequestThrottled",
  "SlowDown",
  "PriorRequestNotComplete",
  "EC2ThrottledException",
]);

/** Server-side failures and timeouts that a later attempt may not meet. */
const UNAVAILABLE_CODES = new Set([
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "InternalServerError",
  "InternalError",
  "InternalFailure",
  "KMSInternalException",
  "RequestTimeout",
  "RequestTimeoutException",
]);

const ACCESS_DENIED = new Set([
  "AccessDenied",
  "AccessDeniedException",
  "AWS.SimpleQueueService.AccessDenied",
  "AuthorizationError",
  "AuthFailure",
  "UnauthorizedOperation",
  "UnrecognizedClientException",
  "InvalidClientTokenId",
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "IncompleteSignature",
  "MissingAuthenticationToken",
  "ExpiredToken",
  "ExpiredTokenException",
  "KMSAccessDeniedException",
  "CredentialsProviderError",
]);

/**
 * Connection failures (refused, reset, dropped mid-request, DNS, client-side timeouts). They mean
 * "unavailable" just as a 503 does. Aborts and the client's own timeouts (`AbortError`, `TimeoutError`) are
 * not among them: they pass unchanged, since callers treat them as cancellation.
 */
const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "ConnectionRefused",
  "ConnectionClosed",
]);

interface SdkErrorShape {
  name?: unknown;
  Code?: unknown;
  code?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** The service's error code: the SDK (and the lite client) put it in `name`; query-protocol codes in `Code`. */
function errorCode(err: unknown): string {
  if (typeof err !== "object" || err === null) return "";
  const shape = err as SdkErrorShape;
  if (typeof shape.name === "string" && shape.name !== "Error") return shape.name;
  return typeof shape.Code === "string" ? shape.Code : "";
}

/** A connection-level code (`ECONNRESET`, ..., and Bun's fetch names such as `ConnectionRefused`). */
function networkCode(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const { code, name } = err as SdkErrorShape;
  if (typeof code === "string" && NETWORK_CODES.has(code)) return code;
  return typeof name === "string" && NETWORK_CODES.has(name) ? name : undefined;
}

function httpStatus(err: unknown): number | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  return (err as SdkErrorShape).$metadata?.httpStatusCode;
}

/**
 * Returns the port error for `err`. `what` names the operation and resource (table, queue, URI, parameter
 * name): never a value, which could be a secret. `resource` is what a not-found error is about.
 * Errors that never reached AWS and are not connection failures (an abort, a bug) pass unchanged.
 */
export function mapAwsError(err: unknown, what: string, resource: Resource = { kind: "other", name: what }): unknown {
  if (err instanceof PortError) return err;
  const code = errorCode(err);
  const status = httpStatus(err);
  const detail = err instanceof Error && err.message && err.message !== code ? `: ${err.message}` : "";
  const options = { cause: err };
  if (CONDITION_FAILED.has(code)) return new ConditionFailedError(`${what}: condition failed`, options);
  if (NOT_FOUND.has(code)) return new NotFoundError(`${what}: not found (${code})`, resource, options);
  if (THROTTLING_CODES.has(code) || status === 429) return new ThrottledError(`${what}: throttled (${code || status})`, options);
  if (UNAVAILABLE_CODES.has(code) || (status !== undefined && status >= 500)) {
    return new UnavailableError(`${what}: unavailable (${code || `HTTP ${status}`})`, options);
  }
  if (ACCESS_DENIED.has(code) || status === 403) return new AccessDeniedError(`${what}: access denied (${code || status})${detail}`, options);
  if (status === undefined) {
    const network = networkCode(err);
    return network ? new UnavailableError(`${what}: unavailable (${network})`, options) : err;
  }
  // Every other answer from AWS is the request's fault (4xx): retrying it cannot help.
  return new ValidationError(`${what}: ${code || `HTTP ${status}`}${detail}`, options);
}

/** Runs one SDK or lite call, translating its errors. */
export async function awsCall<T>(what: string, fn: () => Promise<T>, resource?: Resource): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw mapAwsError(err, what, resource);
  }
}

/** For the adapter's own handling of one AWS code before mapping (a table that already exists). */
export function isAwsError(err: unknown, ...codes: string[]): boolean {
  return codes.includes(errorCode(err));
}
