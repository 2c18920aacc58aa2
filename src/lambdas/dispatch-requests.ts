/**
 * Event parsing of the dispatch helper lambda (pure; the handler is in dispatch.ts).
 *
 * An event carries message bodies: SNS records (`Sns.Message`), SQS records (`body`), or, without
 * `Records`, the event itself when it has a `job_id` (direct invoke, EventBridge input transformer).
 * A body that parses as truthy JSON is the JSON form (one request object or a list of them); anything else
 * is the CLI form, one request per line: `job_id [-d|--delay DUR] [-p|--param k=v]… [-g|--global k=v]…`.
 */
import { parseDuration } from "../core/config.ts";

export interface DispatchRequest {
  jobId: string;
  parameters?: Record<string, unknown>;
  globals?: Record<string, unknown>;
  delaySeconds: number;
}

/** A body as delivered: text from SNS/SQS, or an already-decoded object for direct invocations. */
export type MessageBody = string | Record<string, unknown>;

export class DispatchRequestError extends Error {
  override name = "DispatchRequestError";
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The event's shape, never its values: dispatch parameters may hold secrets. */
function shapeOf(event: unknown): string {
  if (!isObject(event)) return Array.isArray(event) ? "a list" : event === null ? "null" : `a ${typeof event}`;
  return `an object with keys ${Object.keys(event).sort().join(", ") || "(none)"}`;
}

export function messageBodies(event: unknown): MessageBody[] {
  if (!isObject(event)) throw new DispatchRequestError(`Cannot determine event format: ${shapeOf(event)}`);
  const records = event.Records;
  if (Array.isArray(records)) {
    return records.map((rec: unknown) => {
      if (!isObject(rec)) throw new DispatchRequestError("Event record is not an object");
      // SNS spells it EventSource, SQS eventSource.
      const source = rec.EventSource ?? rec.eventSource;
      if (source === "aws:sns" && isObject(rec.Sns) && typeof rec.Sns.Message === "string") return rec.Sns.Message;
      if (source === "aws:sqs" && typeof rec.body === "string") return rec.body;
      throw new DispatchRequestError(`Event source ${String(source)} not supported`);
    });
  }
  if ("job_id" in event) return [event];
  throw new DispatchRequestError(`Cannot determine event format: ${shapeOf(event)}`);
}

/** JSON form when the body decodes to something truthy; otherwise undefined (CLI form). */
export function jsonBody(body: MessageBody): unknown {
  if (typeof body !== "string") return body;
  try {
    const value: unknown = JSON.parse(body);
    const truthy = Array.isArray(value) ? value.length > 0 : isObject(value) ? Object.keys(value).length > 0 : Boolean(value);
    return truthy ? value : undefined;
  } catch {
    return undefined;
  }
}

const JSON_KEYS = new Set(["job_id", "parameters", "globals", "delay"]);

/** Requests of the JSON form. The delay is not range-checked here, as in the original. */
export function jsonRequests(value: unknown): DispatchRequest[] {
  const list = Array.isArray(value) ? value : isObject(value) ? [value] : undefined;
  if (!list) throw new DispatchRequestError("JSON message body must be list or dict");
  return list.map((req: unknown) => {
    if (!isObject(req)) throw new DispatchRequestError(`${JSON.stringify(req)}: must be a dict`);
    const unknownKeys = Object.keys(req).filter((k) => !JSON_KEYS.has(k) && !/^x-/i.test(k));
    if (unknownKeys.length) throw new DispatchRequestError(`Unexpected keys: ${unknownKeys.sort().join(", ")}`);
    if (typeof req.job_id !== "string" || !req.job_id) throw new DispatchRequestError("Missing keys: job_id");
    for (const k of ["parameters", "globals"] as const) {
      if (req[k] !== undefined && req[k] !== null && !isObject(req[k])) throw new DispatchRequestError(`${k} must be a dict`);
    }
    const delay = req.delay === undefined || req.delay === null ? 0 : durationOf(req.delay, "delay");
    return {
      jobId: req.job_id,
      ...(isObject(req.parameters) ? { parameters: req.parameters } : {}),
      ...(isObject(req.globals) ? { globals: req.globals } : {}),
      delaySeconds: Math.trunc(delay),
    };
  });
}

function durationOf(value: unknown, what: string): number {
  if (typeof value !== "string" && typeof value !== "number") throw new DispatchRequestError(`Bad ${what}: ${String(value)}`);
  try {
    return parseDuration(value);
  } catch (err) {
    throw new DispatchRequestError(`Bad ${what} value: ${(err as Error).message}`);
  }
}

/**
 * POSIX shell word splitting with `#` comments (like Python's `shlex.split(s, comments=True)`).
 * Quotes group, backslash escapes outside single quotes; a `#` starts a comment only at a word start.
 */
export function shellSplit(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'" ) {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new DispatchRequestError("No closing quotation");
      word += line.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      inWord = true;
      for (i++; ; i++) {
        if (i >= line.length) throw new DispatchRequestError("No closing quotation");
        const d = line[i]!;
        if (d === '"') break;
        if (d === "\\" && i + 1 < line.length && '\\"$`\n'.includes(line[i + 1]!)) word += line[++i];
        else word += d;
      }
    } else if (c === "\\") {
      if (i + 1 >= line.length) throw new DispatchRequestError("No escaped character");
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else if (c === "#" && !inWord) {
      break;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** `a.b=1` → `{a: {b: "1"}}`; a name that is both a leaf and a branch is an error. */
export function expandDottedPairs(pairs: [string, string][], what: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of pairs) {
    const path = name.split(".");
    let node = out;
    for (const part of path.slice(0, -1)) {
      const next = node[part];
      if (next === undefined) node = node[part] = {} as Record<string, unknown>;
      else if (isObject(next)) node = next;
      else throw new DispatchRequestError(`Bad ${what} args: ${name}: conflicts with an earlier value`);
    }
    const leaf = path[path.length - 1]!;
    if (isObject(node[leaf])) throw new DispatchRequestError(`Bad ${what} args: ${name}: conflicts with an earlier value`);
    node[leaf] = value;
  }
  return out;
}

function nameValue(text: string, option: string): [string, string] {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new DispatchRequestError(`argument ${option}: expected name=value, got ${text}`);
  return [text.slice(0, eq), text.slice(eq + 1)];
}

const OPTIONS: Record<string, "delay" | "param" | "global"> = {
  "-d": "delay",
  "--delay": "delay",
  "-p": "param",
  "--param": "param",
  "-g": "global",
  "--global": "global",
};

/** One CLI-form line; undefined for blank and comment lines. */
export function cliRequest(line: string, maxDelayMinutes: number): DispatchRequest | undefined {
  const words = shellSplit(line);
  if (!words.length) return undefined;
  const [jobId, ...rest] = words as [string, ...string[]];
  const params: [string, string][] = [];
  const globals: [string, string][] = [];
  let delayText = "0";
  for (let i = 0; i < rest.length; i++) {
    let word = rest[i]!;
    let value: string | undefined;
    const eq = word.startsWith("--") ? word.indexOf("=") : -1;
    if (eq > 0) {
      value = word.slice(eq + 1);
      word = word.slice(0, eq);
    } else if (/^-[dpg]./.test(word)) {
      value = word.slice(2);
      word = word.slice(0, 2);
    }
    const kind = OPTIONS[word];
    if (!kind) throw new DispatchRequestError(`unrecognized arguments: ${rest.slice(i).join(" ")}`);
    if (value === undefined) {
      value = rest[++i];
      if (value === undefined) throw new DispatchRequestError(`argument ${word}: expected one argument`);
    }
    if (kind === "delay") delayText = value;
    else if (kind === "param") params.push(nameValue(value, word));
    else globals.push(nameValue(value, word));
  }
  const delay = Math.round(durationOf(delayText, "-d, --delay"));
  if (!(delay >= 0 && delay <= 60 * maxDelayMinutes)) {
    throw new DispatchRequestError(`Bad -d, --delay value: Must be between 0 and ${maxDelayMinutes} minutes`);
  }
  return {
    jobId,
    ...(params.length ? { parameters: expandDottedPairs(params, "-p, --param") } : {}),
    ...(globals.length ? { globals: expandDottedPairs(globals, "-g, --global") } : {}),
    delaySeconds: delay,
  };
}
