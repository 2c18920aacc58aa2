/**
 * Error classes shared across lava. Each sets `name` so `instanceof` checks and log lines are reliable,
 * and carries the context (realm, job_id, run_id) needed to act on it without parsing the message.
 * Messages never contain secret values.
 */
export interface ErrorContext {
  realm?: string;
  job_id?: string;
  run_id?: string;
}

/** Base of lava's own errors. */
export class LavaError extends Error {
  override name = "LavaError";
  readonly context: ErrorContext;
  constructor(message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.context = context;
  }
}

/** The command line is wrong. The CLI prints one line and exits with status 2. */
export class UsageError extends LavaError {
  override name = "UsageError";
}

/** Exit status of a CLI command: 0 ok, 1 failure, 2 usage error. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
