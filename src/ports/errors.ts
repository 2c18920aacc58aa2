/**
 * Errors every adapter throws for the same conditions, so the domain can tell them apart without an SDK.
 * Decide by class (`instanceof`), never by message text. Adapters map their native errors onto these once,
 * at their boundary; `isRetryable` is the one classification of what a retry may heal.
 */
export class PortError extends Error {
  override name = "PortError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** What a `NotFoundError` is about: `{ kind: "table", name: "lava.dev.jobs" }`. */
export interface Resource {
  kind: "table" | "index" | "queue" | "message" | "bucket" | "object" | "parameter" | "secret" | "key" | "other";
  name: string;
}

/** The table, queue, object, parameter or secret does not exist. */
export class NotFoundError extends PortError {
  override name = "NotFoundError";
  readonly resource: Resource;
  constructor(message: string, resource: Resource, options?: { cause?: unknown }) {
    super(message, options);
    this.resource = resource;
  }
}

/** A conditional write's condition did not hold. */
export class ConditionFailedError extends PortError {
  override name = "ConditionFailedError";
}

/** The caller lacks permission (IAM denies it, credentials are refused). Permanent. */
export class AccessDeniedError extends PortError {
  override name = "AccessDeniedError";
}

/** The request itself is wrong (a key too long, a bad value, an item over the size limit). Permanent. */
export class ValidationError extends PortError {
  override name = "ValidationError";
}

/** The backend is throttling this caller; a retry with back-off heals it. */
export class ThrottledError extends PortError {
  override name = "ThrottledError";
}

/** The backend failed or could not be reached (5xx, connection refused or dropped, timeout, busy database). */
export class UnavailableError extends PortError {
  override name = "UnavailableError";
}

/** True for the errors a later attempt may heal: throttling and unavailability. Everything else is permanent. */
export function isRetryable(err: unknown): boolean {
  return err instanceof ThrottledError || err instanceof UnavailableError;
}
