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
