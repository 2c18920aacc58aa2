/** Errors every adapter throws for the same conditions, so the domain can tell them apart without an SDK. */
export class PortError extends Error {
  override name = "PortError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The item, object, queue, parameter or secret does not exist. */
export class NotFoundError extends PortError {
  override name = "NotFoundError";
}

/** A conditional write's condition did not hold. */
export class ConditionFailedError extends PortError {
  override name = "ConditionFailedError";
}

/** The backend is throttling or briefly unavailable; the caller may retry with back-off. */
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
