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

/**
 * The backend has no room to write (a full disk under a local realm). Nothing was written; the same write
 * may succeed once space is freed, so callers that must not lose it (the event writer) keep retrying.
 */
export class StorageFullError extends PortError {
  override name = "StorageFullError";
}

/**
 * The store went away under the process (a local realm's database file deleted or replaced while open):
 * writes would go to a file nobody will read again. Not retryable; the process should stop.
 */
export class StoreLostError extends PortError {
  override name = "StoreLostError";
}

/** The backend failed or could not be reached (5xx, connection refused or dropped, timeout, busy database). */
export class UnavailableError extends PortError {
  override name = "UnavailableError";
}

/**
 * Some entries of a batch send were refused while the others were sent. Not retryable as a whole: sending
 * the batch again would send the accepted entries twice. `results` has one entry per message, in order: its
 * message id when sent, else the error for that entry (retryable when the service, not the message, failed).
 */
export class BatchSendError extends PortError {
  override name = "BatchSendError";
  constructor(
    message: string,
    readonly results: (string | Error)[],
  ) {
    super(message);
  }
}

/**
 * True for the errors a later attempt may heal: throttling, unavailability, and a full disk (space may be
 * freed). Everything else is permanent.
 */
export function isRetryable(err: unknown): boolean {
  return err instanceof ThrottledError || err instanceof UnavailableError || err instanceof StorageFullError;
}
