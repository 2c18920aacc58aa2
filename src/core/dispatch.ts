/**
 * The dispatch primitive shared by `lava-dispatcher`, the `dispatch` job type and action, and the lambdas:
 * one SQS message per run, in exactly the original's format (a Python worker on the same queue parses it).
 */
import type { Ports } from "../ports/index.ts";
import { workerQueueName } from "./names.ts";
import { jobSpecFromItem, loadJobSpec, readJobItems } from "./job-spec.ts";
import { BatchSendError } from "../ports/errors.ts";
import { isoLocal, isoUtc, pyJsonDumps, pyJsonString, truncateToSeconds } from "./pyformat.ts";
import type { AugmentedJob } from "./job-contract.ts";

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
  /** `ts_dispatch` already formatted (several messages of one call); else formatted from `now`. */
  tsDispatch?: string;
}

/** `ts_dispatch` for a dispatch sent at `now`: local time, whole seconds, with its offset. */
export function dispatchTimestamp(now: Date = new Date()): string {
  return isoLocal(truncateToSeconds(now));
}

export function buildDispatchMessage(input: BuildDispatchInput): DispatchMessage {
  const msg: DispatchMessage = {
    realm: input.realm,
    worker: input.worker,
    job_id: input.jobId,
    run_id: crypto.randomUUID(),
    ts_dispatch: input.tsDispatch ?? dispatchTimestamp(input.now),
  };
  if (input.parameters && Object.keys(input.parameters).length) msg.parameters = input.parameters;
  if (input.globals && Object.keys(input.globals).length) msg.globals = input.globals;
  return msg;
}

/** The message body as the Python dispatcher writes it (`json.dumps`): the text of `pyJsonDumps(msg)`. */
export function dispatchMessageBody(msg: DispatchMessage): string {
  return bodyText(msg, bodyTail(msg));
}

/**
 * The body written for its fixed shape instead of walked as any value: the dispatcher writes 1,000 of them
 * in a process too short for the walk to be compiled (docs/BENCHMARKS.md, "Many dispatches in one
 * process"). `tail` is bodyTail's text, the same for every message of one call.
 */
function bodyText(msg: DispatchMessage, tail: string): string {
  return `{"realm": ${pyJsonString(msg.realm)}, "worker": ${pyJsonString(msg.worker)}, "job_id": ${pyJsonString(msg.job_id)}, "run_id": ${pyJsonString(msg.run_id)}, "ts_dispatch": ${pyJsonString(msg.ts_dispatch)}${tail}}`;
}

/** `, "parameters": {...}, "globals": {...}` as far as the message has them. */
function bodyTail(msg: DispatchMessage): string {
  return (msg.parameters ? `, "parameters": ${pyJsonDumps(msg.parameters)}` : "") + (msg.globals ? `, "globals": ${pyJsonDumps(msg.globals)}` : "");
}


/**
 * The globals a run passes to the runs it dispatches (the `dispatch` job type and action): all of its globals,
 * with `lava.parent_*` naming this run and every `lava` time as ISO text, as the original's `json.dumps` of
 * its datetimes writes them (`*_ustart` in UTC, `*_start` local). `master_*` and `iteration` pass through.
 * Key order is kept: the original overwrites `parent_*` in place. A copy: the run's own globals are untouched.
 */
export function childDispatchGlobals(job: AugmentedJob): Record<string, unknown> {
  const own = job.globals.lava;
  const lava: Record<string, unknown> = { ...(own && typeof own === "object" && !Array.isArray(own) ? own : {}) };
  lava.parent_job_id = job.job_id;
  lava.parent_start = job.ts_start;
  lava.parent_ustart = job.ts_start;
  for (const [key, value] of Object.entries(lava)) {
    if (value instanceof Date) lava[key] = key.endsWith("ustart") ? isoUtc(value) : isoLocal(value);
  }
  return { ...job.globals, lava };
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

/** The delay in whole seconds, checked against the limits `input` sets. */
function checkedDelay(input: Pick<DispatchJobInput, "delaySeconds" | "maxDelayMinutes" | "realm">, jobId: string): number {
  const delay = Math.round(input.delaySeconds ?? 0);
  if (input.maxDelayMinutes !== undefined && !(delay >= 0 && delay <= input.maxDelayMinutes * 60)) {
    throw new DispatchError(`Bad delay ${delay}s: must be between 0 and ${input.maxDelayMinutes} minutes`, input.realm, jobId);
  }
  if (delay < 0) throw new DispatchError(`Bad delay ${delay}s: must not be negative`, input.realm, jobId);
  return delay;
}

/** Sends one dispatch message; returns its run_id. */
export async function dispatchJob(ports: Ports, input: DispatchJobInput): Promise<string> {
  const { realm, jobId } = input;
  const delay = checkedDelay(input, jobId);
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

export interface DispatchJobsInput extends Omit<DispatchJobInput, "jobId" | "onDisabled" | "onSend"> {
  jobIds: string[];
  onDisabled?: (jobId: string) => void;
  onSend?: (jobId: string, queue: string, delaySeconds: number) => void;
  /** Told once when the jobs could not be read together and are read one by one instead. */
  onReadOneByOne?: (reason: Error) => void;
}

/** What became of one job id of `dispatchJobs`: its run_id, or why nothing was sent for it. */
export type DispatchOutcome = { jobId: string; runId: string } | { jobId: string; error: DispatchError };

/**
 * Dispatches several jobs in as few requests as the backend allows: their items read together (DynamoDB
 * BatchGetItem, 100 keys a request) and their messages sent together per queue (SendMessageBatch, 10 a
 * request; one transaction locally). Each job succeeds or fails on its own, as with `dispatchJob` one by
 * one; outcomes come back in the order of `jobIds`. A batch read that fails (BatchGetItem not allowed, say)
 * falls back to one read per job.
 */
export async function dispatchJobs(ports: Ports, input: DispatchJobsInput): Promise<DispatchOutcome[]> {
  const { realm, jobIds } = input;
  if (jobIds.length === 1) return [await dispatchOne(ports, input, jobIds[0]!)];
  let delay: number;
  try {
    delay = checkedDelay(input, jobIds[0] ?? "");
  } catch (err) {
    return jobIds.map((jobId) => ({ jobId, error: new DispatchError((err as Error).message, realm, jobId) }));
  }
  const workers = input.worker ? jobIds.map(() => ({ worker: input.worker! })) : await workersOf(ports, input);
  const outcomes: (DispatchOutcome | undefined)[] = jobIds.map(() => undefined);
  // One timestamp for the whole call: local-time formatting costs (docs/BENCHMARKS.md), and it is whole seconds.
  const tsDispatch = dispatchTimestamp(input.now);
  const byQueue = new Map<string, { index: number; msg: DispatchMessage }[]>();
  jobIds.forEach((jobId, index) => {
    const found = workers[index]!;
    if ("error" in found) return void (outcomes[index] = { jobId, error: found.error });
    if (!found.worker) return void (outcomes[index] = { jobId, error: new DispatchError("Job has no worker", realm, jobId) });
    const queue = input.queue || workerQueueName(realm, found.worker);
    const msg = buildDispatchMessage({ realm, worker: found.worker, jobId, parameters: input.parameters, globals: input.globals, tsDispatch });
    input.onSend?.(jobId, queue, delay);
    let batch = byQueue.get(queue);
    if (!batch) byQueue.set(queue, (batch = []));
    batch.push({ index, msg });
  });
  for (const [queue, batch] of byQueue) {
    const results = await sendAll(ports, queue, batch.map((b) => b.msg), delay);
    batch.forEach(({ index, msg }, i) => {
      const jobId = jobIds[index]!;
      const result = results[i]!;
      outcomes[index] = typeof result === "string"
        ? { jobId, runId: msg.run_id }
        : { jobId, error: new DispatchError(`Cannot dispatch ${jobId}@${realm} - ${result.message}`, realm, jobId, { cause: result }) };
    });
  }
  return outcomes as DispatchOutcome[];
}

async function dispatchOne(ports: Ports, input: DispatchJobsInput, jobId: string): Promise<DispatchOutcome> {
  try {
    const runId = await dispatchJob(ports, {
      ...input,
      jobId,
      onDisabled: input.onDisabled && (() => input.onDisabled!(jobId)),
      onSend: input.onSend && ((queue, delay) => input.onSend!(jobId, queue, delay)),
    });
    return { jobId, runId };
  } catch (err) {
    if (err instanceof DispatchError) return { jobId, error: err };
    return { jobId, error: new DispatchError((err as Error).message, input.realm, jobId, { cause: err }) };
  }
}

/** Each message's id, or the error that kept it from being sent. */
async function sendAll(ports: Ports, queue: string, msgs: DispatchMessage[], delay: number): Promise<(string | Error)[]> {
  try {
    // Every message of one call carries the same parameters and globals (buildDispatchMessage).
    const tail = msgs.length ? bodyTail(msgs[0]!) : "";
    return await ports.queues.sendBatch(queue, msgs.map((m) => ({ body: bodyText(m, tail), delaySeconds: delay })));
  } catch (err) {
    if (err instanceof BatchSendError) return err.results;
    return msgs.map(() => err as Error);
  }
}

/** The worker of each job, read together; a job that cannot be used gets its error instead. */
async function workersOf(ports: Ports, input: DispatchJobsInput): Promise<({ worker: string } | { error: DispatchError })[]> {
  const { realm, jobIds } = input;
  let items: Awaited<ReturnType<typeof readJobItems>> | undefined;
  try {
    items = await readJobItems(ports, realm, jobIds);
  } catch (err) {
    input.onReadOneByOne?.(err as Error);
  }
  const found: ({ worker: string } | { error: DispatchError })[] = [];
  // A job id given twice is checked (and warned about) once.
  const seen = new Map<string, { worker: string } | { error: DispatchError }>();
  // One by one, as the original reads them, when the batch read failed.
  for (const [i, jobId] of jobIds.entries()) {
    const known = seen.get(jobId);
    if (known) {
      found.push(known);
      continue;
    }
    try {
      const spec = items ? jobSpecFromItem(items[i], realm, jobId) : await loadJobSpec(ports, realm, jobId);
      if (spec.enabled === false) input.onDisabled?.(jobId);
      found.push({ worker: spec.worker });
    } catch (err) {
      found.push({ error: new DispatchError((err as Error).message, realm, jobId, { cause: err }) });
    }
    seen.set(jobId, found.at(-1)!);
  }
  return found;
}
