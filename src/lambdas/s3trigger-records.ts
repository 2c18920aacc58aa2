/**
 * Pure parts of the s3trigger lambda: S3 event records (bucket notifications, possibly wrapped in SNS or
 * SQS, and EventBridge "Object Created"-style events) reduced to one canonical form, trigger validation,
 * the `if_*` conditions and the prefix walk order.
 */
import { parseDuration, parseSize } from "../core/config.ts";
import { fnmatch } from "../core/fnmatch.ts";

export interface S3EventInfo {
  bucket: string;
  key: string;
  size: number;
  /** Client address, or null when absent or not an IP address. */
  source_ip: string | null;
  event_time: Date;
  /** `ObjectCreated:Put` (notification) or `ObjectCreated:PutObject` (EventBridge, reason appended). */
  event_type: string;
  aws_region: string;
}

export interface S3EventRecord {
  raw: Record<string, unknown>;
  info: S3EventInfo;
}

export class S3TriggerError extends Error {
  override name = "S3TriggerError";
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const at = (v: unknown, ...path: string[]): unknown => path.reduce<unknown>((o, k) => (isObj(o) ? o[k] : undefined), v);

/** Python's `unquote_plus`: `+` is a space, then %-decoding (invalid escapes stay as they are). */
export function unquotePlus(text: string): string {
  const spaced = text.replace(/\+/g, " ");
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
}

function ipOrNull(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const v4 = /^(\d{1,3})(\.\d{1,3}){3}$/.test(value) && value.split(".").every((p) => Number(p) <= 255);
  const v6 = value.includes(":") && /^[0-9A-Fa-f:.]+$/.test(value);
  return v4 || v6 ? value : null;
}

function notificationRecord(r: Obj, defaultRegion: string): S3EventRecord {
  const bucket = at(r, "s3", "bucket", "name");
  const key = at(r, "s3", "object", "key");
  if (typeof bucket !== "string" || typeof key !== "string") throw new S3TriggerError("Bad S3 notification record");
  return {
    raw: r,
    info: {
      bucket,
      key: unquotePlus(key),
      size: Number(at(r, "s3", "object", "size") ?? 0),
      source_ip: ipOrNull(at(r, "requestParameters", "sourceIPAddress")),
      event_time: new Date(String(r.eventTime)),
      event_type: String(r.eventName ?? ""),
      aws_region: typeof r.awsRegion === "string" ? r.awsRegion : defaultRegion,
    },
  };
}

function eventBridgeRecord(e: Obj): S3EventRecord {
  const bucket = at(e, "detail", "bucket", "name");
  const key = at(e, "detail", "object", "key");
  if (typeof bucket !== "string" || typeof key !== "string") throw new S3TriggerError("Bad S3 EventBridge record");
  const reason = at(e, "detail", "reason");
  return {
    raw: e,
    info: {
      bucket,
      // EventBridge keys are not URL-encoded.
      key,
      size: Number(at(e, "detail", "object", "size") ?? 0),
      source_ip: ipOrNull(at(e, "detail", "source-ip-address")),
      event_time: new Date(String(e.time)),
      event_type: `${String(e["detail-type"])}:${String(reason ?? "")}`.replace(/ /g, ""),
      aws_region: String(e.region ?? ""),
    },
  };
}

/** Every S3 record of a lambda event; SNS and SQS wrappers are unwrapped recursively. */
export function extractRecords(event: unknown, defaultRegion = process.env.AWS_REGION ?? ""): S3EventRecord[] {
  if (!isObj(event)) throw new S3TriggerError("Event blob must be a dict");
  if (event.Event === "s3:TestEvent") return [];
  if (Array.isArray(event.Records)) {
    return event.Records.flatMap((r: unknown): S3EventRecord[] => {
      if (!isObj(r)) throw new S3TriggerError("Event record must be a dict");
      const source = r.eventSource ?? r.EventSource;
      if (source === "aws:sqs") return extractRecords(JSON.parse(String(r.body)), defaultRegion);
      if (source === "aws:sns") return extractRecords(JSON.parse(String(at(r, "Sns", "Message"))), defaultRegion);
      if (source === "aws:s3") return [notificationRecord(r, defaultRegion)];
      throw new S3TriggerError(`Unexpected event source: ${String(source)}`);
    });
  }
  if ("detail-type" in event) return [eventBridgeRecord(event)];
  throw new S3TriggerError("Cannot determine event format");
}

/** Prefixes to look up, most specific first: the key, its parents, then `*` (whole bucket). */
export function prefixWalk(key: string): string[] {
  const parts = key.split("/");
  const walk: string[] = [];
  for (let n = parts.length; n > 0; n--) walk.push(parts.slice(0, n).join("/"));
  walk.push("*");
  return walk;
}


type Condition = (info: S3EventInfo, arg: unknown) => boolean;

const CONDITIONS: Record<string, Condition> = {
  fnmatch(info, arg) {
    const patterns = typeof arg === "string" ? [arg] : arg;
    if (!Array.isArray(patterns)) throw new S3TriggerError("glob patterns must be a string or list of strings");
    const key = unquotePlus(info.key);
    return patterns.some((p) => {
      if (typeof p !== "string") throw new S3TriggerError("glob patterns must be strings");
      return fnmatch(key, p);
    });
  },
  size_gt(info, arg) {
    if (typeof arg !== "string" && typeof arg !== "number") throw new S3TriggerError("size must be a number or size string");
    return info.size > parseSize(arg);
  },
  event_type(info, arg) {
    if (typeof arg !== "string") throw new S3TriggerError("event type must be a string");
    return fnmatch(info.event_type, arg);
  },
};

const REQUIRED = ["bucket", "prefix", "job_id", "enabled", "trigger_id"];
const OPTIONAL = new Set(["globals", "parameters", "description", "jinja", "delay", "owner"]);
for (const c of Object.keys(CONDITIONS)) OPTIONAL.add(`if_${c}`).add(`if_not_${c}`);

export interface TriggerSpec {
  trigger_id: string;
  bucket: string;
  prefix: string;
  job_id: unknown;
  enabled: unknown;
  jinja: boolean;
  delaySeconds: number;
  globals?: unknown;
  parameters?: unknown;
  /** `if_*` / `if_not_*` entries in item order. */
  conditions: [string, unknown][];
}

/** Checks a trigger item as the original does; `jinja` defaults to true and `delay` to 0. */
export function validateTrigger(item: Record<string, unknown>, maxDelayMinutes: number): TriggerSpec {
  const where = `s3://${String(item.bucket)}/${String(item.prefix)}`;
  const missing = REQUIRED.filter((k) => !(k in item)).sort();
  if (missing.length) throw new S3TriggerError(`Bad trigger spec for ${where} - Missing keys: ${missing.join(", ")}`);
  const extra = Object.keys(item).filter((k) => !REQUIRED.includes(k) && !OPTIONAL.has(k) && !/^x-/i.test(k)).sort();
  if (extra.length) throw new S3TriggerError(`Bad trigger spec for ${where} - Unexpected keys: ${extra.join(", ")}`);
  let delaySeconds: number;
  try {
    delaySeconds = parseDuration((item.delay ?? 0) as string | number);
    if (!(delaySeconds >= 0 && delaySeconds <= maxDelayMinutes * 60)) {
      throw new Error(`must be between 0 and ${maxDelayMinutes} minutes`);
    }
  } catch (err) {
    throw new S3TriggerError(`Bad delay: ${String(item.delay)}: ${(err as Error).message}`);
  }
  return {
    trigger_id: String(item.trigger_id),
    bucket: String(item.bucket),
    prefix: String(item.prefix),
    job_id: item.job_id,
    enabled: item.enabled,
    jinja: item.jinja === undefined ? true : Boolean(item.jinja),
    delaySeconds,
    globals: item.globals,
    parameters: item.parameters,
    conditions: Object.entries(item).filter(([k]) => k.startsWith("if_")),
  };
}

/** The first failing condition's name, or undefined when all hold. Unknown conditions are errors. */
export function failedCondition(trigger: TriggerSpec, info: S3EventInfo): string | undefined {
  for (const [name, arg] of trigger.conditions) {
    const negated = name.startsWith("if_not_");
    const check = CONDITIONS[name.slice(negated ? 7 : 3)];
    if (!check) throw new S3TriggerError(`${name}: Unknown condition type`);
    if (check(info, arg) === negated) return name;
  }
  return undefined;
}

/** A small TTL cache; entries expire `ttlMs` after they were set. */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; at: number }>();
  constructor(
    private readonly maxSize: number,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (this.now() - e.at >= this.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(key: string, value: V): void {
    if (this.maxSize <= 0 || this.ttlMs <= 0) return;
    this.entries.delete(key);
    if (this.entries.size >= this.maxSize) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, at: this.now() });
  }
}
