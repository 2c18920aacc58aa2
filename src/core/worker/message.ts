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

/** A message the worker deletes without running anything. `reason` is the log line. */
export class MessageRejected extends Error {
  override name = "MessageRejected";
  constructor(
    readonly reason: string,
    readonly jobId?: string,
    readonly runId?: string,
  ) {
    super(reason);
  }
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
  for (const k of OPTIONAL_MESSAGE_FIELDS) {
    if (k in data && data[k] !== null && !isMap(data[k])) {
      throw new MessageRejected(`Malformed dispatch message: ${k} must be a map`, jobId, runId);
    }
  }
  const ts = parseIsoTimestamp(data.ts_dispatch as string);
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
