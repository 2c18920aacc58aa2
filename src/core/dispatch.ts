/**
 * The dispatch primitive shared by `lava-dispatcher`, the `dispatch` job type and action, and the lambdas:
 * one SQS message per run, in exactly the original's format (a Python worker on the same queue parses it).
 */
import type { Ports } from "../ports/index.ts";
import { workerQueueName } from "./names.ts";
import { loadJobSpec } from "./job-spec.ts";
import { isoLocal, pyJsonDumps, truncateToSeconds } from "./pyformat.ts";

/** The dispatch message body. Keys appear in this order; `parameters`/`globals` only when non-empty. */
export interface DispatchMessage {
  realm: string;
  worker: string;
  job_id: string;
  run_id: string;
  /** Sender's local time, whole seconds, ISO 8601 with offset. */
  ts_dispatch: string;
  parameters?: Record<string, unknown>;
  globals?: Record<string, unknown>;
}

export class DispatchError extends Error {
  override name = "DispatchError";
  constructor(
    message: string,
    readonly realm: string,
    readonly jobId: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface BuildDispatchInput {
  realm: string;
  worker: string;
  jobId: string;
  parameters?: Record<string, unknown>;
  globals?: Record<string, unknown>;
  now?: Date;
}

export function buildDispatchMessage(input: BuildDispatchInput): DispatchMessage {
  const msg: DispatchMessage = {
    realm: input.realm,
    worker: input.worker,
    job_id: input.jobId,
    run_id: crypto.randomUUID(),
    ts_dispatch: isoLocal(truncateToSeconds(input.now ?? new Date())),
  };
  if (input.parameters && Object.keys(input.parameters).length) msg.parameters = input.parameters;
  if (input.globals && Object.keys(input.globals).length) msg.globals = input.globals;
  return msg;
}

/** The message body as the Python dispatcher writes it (`json.dumps`). */
export function dispatchMessageBody(msg: DispatchMessage): string {
  return pyJsonDumps(msg);
}

export interface DispatchJobInput {
  realm: string;
  jobId: string;
  /** When absent the job is read (and validated) to find its worker, as the original does. */
  worker?: string;
  parameters?: Record<string, unknown>;
  globals?: Record<string, unknown>;
  delaySeconds?: number;
  /** Queue name override; default `lava-<realm>-<worker>`. */
  queue?: string;
  /**
   * Told when the job read to find its worker is statically disabled (`enabled` absent or false). The
   * message is sent all the same, as the original does: the worker records the run as `skipped`, which
   * scripts and the events history rely on. A template `enabled` is decided by the worker at run time.
   */
  onDisabled?: () => void;
  /** When given, `delaySeconds` must lie in 0..maxDelayMinutes*60 (SQS_MAX_DELAY_MINS). */
  maxDelayMinutes?: number;
  now?: Date;
  /** Told the queue and delay just before the send (for debug logging; never the message body). */
  onSend?: (queue: string, delaySeconds: number) => void;
}

/** Sends one dispatch message; returns its run_id. */
export async function dispatchJob(ports: Ports, input: DispatchJobInput): Promise<string> {
  const { realm, jobId } = input;
  const delay = Math.round(input.delaySeconds ?? 0);
  if (input.maxDelayMinutes !== undefined && !(delay >= 0 && delay <= input.maxDelayMinutes * 60)) {
    throw new DispatchError(`Bad delay ${delay}s: must be between 0 and ${input.maxDelayMinutes} minutes`, realm, jobId);
  }
  if (delay < 0) throw new DispatchError(`Bad delay ${delay}s: must not be negative`, realm, jobId);
  const worker = input.worker || (await workerOf(ports, input));
  if (!worker) throw new DispatchError("Job has no worker", realm, jobId);
  const msg = buildDispatchMessage({ ...input, worker });
  const queue = input.queue || workerQueueName(realm, worker);
  input.onSend?.(queue, delay);
  try {
    await ports.queues.send(queue, dispatchMessageBody(msg), { delaySeconds: delay });
  } catch (err) {
    throw new DispatchError(`Cannot dispatch ${jobId}@${realm} - ${(err as Error).message}`, realm, jobId, { cause: err });
  }
  return msg.run_id;
}

/** Reads the job, as the original dispatcher does when no worker is given. */
async function workerOf(ports: Ports, input: DispatchJobInput): Promise<string> {
  const spec = await loadJobSpec(ports, input.realm, input.jobId);
  if (spec.enabled === false) input.onDisabled?.();
  return spec.worker;
}
