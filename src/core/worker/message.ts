/**
 * Parsing a dispatch message body at the boundary: JSON text from SQS (written by our dispatcher or the
 * Python one) into a typed request, or a rejection carrying the original worker's log text.
 */
import { parseIsoTimestamp } from "../pyformat.ts";

export const REQUIRED_MESSAGE_FIELDS = ["realm", "worker", "job_id", "run_id", "ts_dispatch"] as const;
export const OPTIONAL_MESSAGE_FIELDS = ["parameters", "globals"] as const;

export interface DispatchRequest {
  realm: string;
  worker: string;
  job_id: string;
  run_id: string;
  ts_dispatch: Date;
  /** `ts_dispatch` as written back into events (the sender's offset kept). */
  ts_dispatch_iso: string;
  parameters: Record<string, unknown>;
  globals: Record<string, unknown>;
}

/** Where a refused message's `rejected` event goes: the events item (job_id, run_id) and its ts_dispatch text. */
export interface RejectionRecord {
  job_id: string;
  run_id: string;
  ts_dispatch: string;
}

/**
 * A message the worker deletes without running anything. `reason` is the log line. `record` is set when
 * the refusal is also written as a `rejected` event (the ids were refused but still make a valid key).
 */
export class MessageRejected extends Error {
  override name = "MessageRejected";
  constructor(
    readonly reason: string,
    readonly jobId?: string,
    readonly runId?: string,
    readonly record?: RejectionRecord,
  ) {
    super(reason);
  }
}

/**
 * Bounds of the ids (docs/WORKER.md, Containment). `run_id` names the run directory
 * `<worker tmp>/<run_id>`, so it must be one path segment a filesystem accepts (NAME_MAX is 255 bytes);
 * `job_id` is the events and jobs tables' partition key and part of S3 keys, never a path of its own.
 */
export const MAX_RUN_ID_BYTES = 255;
export const MAX_JOB_ID_BYTES = 1024;
/** DynamoDB's key limits on the events table (job_id partition key, run_id sort key). */
const MAX_PARTITION_KEY_BYTES = 2048;
const MAX_SORT_KEY_BYTES = 1024;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// C0 controls (NUL included) and DEL: never part of an id, and they would garble log lines.
const CONTROL = /[\u0000-\u001f\u007f]/;

const utf8Bytes = (s: string): number => Buffer.byteLength(s, "utf8");

/** Why `runId` cannot be used, or undefined when it can: a UUID, or any safe single path segment. */
export function runIdProblem(runId: string): string | undefined {
  if (UUID.test(runId)) return undefined;
  if (!runId.isWellFormed()) return "is not valid Unicode";
  if (CONTROL.test(runId)) return "contains NUL or a control character";
  if (runId.includes("/") || runId.includes("\\")) return 'contains "/" or "\\"';
  if (runId === "." || runId === "..") return `is "${runId}"`;
  if (utf8Bytes(runId) > MAX_RUN_ID_BYTES) return `is longer than ${MAX_RUN_ID_BYTES} bytes`;
  return undefined;
}

/** Why `jobId` cannot be used, or undefined when it can. `/` is allowed (`team/job` is the usual form). */
export function jobIdProblem(jobId: string): string | undefined {
  if (!jobId.isWellFormed()) return "is not valid Unicode";
  if (CONTROL.test(jobId)) return "contains NUL or a control character";
  if (utf8Bytes(jobId) > MAX_JOB_ID_BYTES) return `is longer than ${MAX_JOB_ID_BYTES} bytes`;
  return undefined;
}

/** Whether (job_id, run_id) can key an events item: DynamoDB takes any well-formed text within its key limits. */
function recordableKey(jobId: string, runId: string): boolean {
  return (
    jobId.isWellFormed() &&
    runId.isWellFormed() &&
    utf8Bytes(jobId) <= MAX_PARTITION_KEY_BYTES &&
    utf8Bytes(runId) <= MAX_SORT_KEY_BYTES
  );
}

/** A hostile id as it may appear in a log line: JSON-quoted (control characters escaped) and cut short. */
function quoteId(id: string): string {
  const shown = JSON.stringify(id.length > 64 ? id.slice(0, 64) : id);
  return id.length > 64 ? `${shown}... (${id.length} characters)` : shown;
}

/** Refuses ids that could escape the run's area or break the events key (before anything else uses them). */
function checkIds(jobId: string, runId: string, tsDispatch: string, ours: boolean): void {
  const problems: string[] = [];
  const jobProblem = jobIdProblem(jobId);
  if (jobProblem) problems.push(`job_id ${quoteId(jobId)} ${jobProblem}`);
  const runProblem = runIdProblem(runId);
  if (runProblem) problems.push(`run_id ${quoteId(runId)} ${runProblem}`);
  if (problems.length === 0) return;
  const reason = `Malformed dispatch message: ${problems.join("; ")}`;
  // Only a message meant for this realm and worker is recorded in this realm's events table.
  const record = ours && recordableKey(jobId, runId) ? { job_id: jobId, run_id: runId, ts_dispatch: tsDispatch } : undefined;
  // The ids go on the log record only when they are harmless there; the reason quotes them escaped.
  throw new MessageRejected(reason, jobProblem ? undefined : jobId, runProblem ? undefined : runId, record);
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Validates `body` for this realm and worker; throws MessageRejected. */
export function parseDispatchMessage(body: string, realm: string, worker: string): DispatchRequest {
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch {
    // Neither the body nor the parser's text (which quotes the body) is logged: dispatch
    // parameters may carry values that must not reach logs.
    throw new MessageRejected(`Malformed dispatch message: not valid JSON (${body.length} bytes)`);
  }
  if (!isMap(data)) throw new MessageRejected("Malformed dispatch message: not a JSON object");
  const keys = Object.keys(data);
  const missing = REQUIRED_MESSAGE_FIELDS.filter((k) => !keys.includes(k)).sort();
  if (missing.length) throw new MessageRejected(`Malformed dispatch message: Missing keys: ${missing.join(", ")}`, str(data.job_id), str(data.run_id));
  const allowed = new Set<string>([...REQUIRED_MESSAGE_FIELDS, ...OPTIONAL_MESSAGE_FIELDS]);
  const unexpected = keys.filter((k) => !allowed.has(k)).sort();
  if (unexpected.length) {
    throw new MessageRejected(`Malformed dispatch message: Unexpected keys: ${unexpected.join(", ")}`, str(data.job_id), str(data.run_id));
  }
  for (const k of REQUIRED_MESSAGE_FIELDS) {
    if (typeof data[k] !== "string" || data[k] === "") {
      throw new MessageRejected(`Malformed dispatch message: ${k} must be a non-empty string`, str(data.job_id), str(data.run_id));
    }
  }
  const jobId = data.job_id as string;
  const runId = data.run_id as string;
  const ts = parseIsoTimestamp(data.ts_dispatch as string);
  checkIds(jobId, runId, ts ? ts.iso : "", data.realm === realm && data.worker === worker);
  for (const k of OPTIONAL_MESSAGE_FIELDS) {
    if (k in data && data[k] !== null && !isMap(data[k])) {
      throw new MessageRejected(`Malformed dispatch message: ${k} must be a map`, jobId, runId);
    }
  }
  if (!ts) throw new MessageRejected(`Bad timestamp in dispatch message for job ${jobId} (${runId}): ${JSON.stringify(data.ts_dispatch)}`, jobId, runId);
  if (data.realm !== realm) {
    throw new MessageRejected(`Bad dispatch for job ${jobId} (${runId}): Realm mismatch: Expected ${realm} but got ${String(data.realm)}`, jobId, runId);
  }
  if (data.worker !== worker) {
    throw new MessageRejected(`Bad dispatch for job ${jobId} (${runId}): Worker mismatch: Expected ${worker} but got ${String(data.worker)}`, jobId, runId);
  }
  return {
    realm,
    worker,
    job_id: jobId,
    run_id: runId,
    ts_dispatch: ts.date,
    ts_dispatch_iso: ts.iso,
    parameters: isMap(data.parameters) ? data.parameters : {},
    globals: isMap(data.globals) ? data.globals : {},
  };
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
