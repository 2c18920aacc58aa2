/**
 * A fault-injecting HTTP proxy on loopback, in front of dynalite (DynamoDB) and fauxqs (SQS, SNS, S3).
 *
 * A spawned lava process is pointed at it with `AWS_ENDPOINT_URL_{DYNAMODB,SQS,S3}` (see `proxyEnv`). Each
 * request is classified as `<service>.<Operation>` (DynamoDB and SQS by `X-Amz-Target`, S3 by method and
 * path) and checked against the rules in order; the first rule that fires decides what happens:
 * - `throttle`: the service's own throttling answer (DynamoDB `ProvisionedThroughputExceededException` or
 *   `ThrottlingException`, JSON 400; SQS JSON-protocol `RequestThrottled` 400 with its query-error header;
 *   S3 `SlowDown` 503 XML), so the SDK classifies it exactly as it would AWS's;
 * - `error`: a 500 or 503 server error in the service's shape;
 * - `deny`: the service's access-denied answer (DynamoDB `AccessDeniedException` 400, SQS `AccessDenied` 403,
 *   S3 `AccessDenied` 403);
 * - `delay`: waits, then forwards;
 * - `drop`: destroys the connection, either before forwarding (`before`: the backend never saw it) or after
 *   the backend answered (`after`: the operation took effect, the client never learns it).
 *
 * A rule fires for the matching requests after skipping `skip` of them, `count` times (default: always),
 * each with `probability` (default 1) drawn from a PRNG seeded per proxy, so a run is reproducible.
 * Every request is logged with the fault applied, for assertions.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { seededRandom } from "../support/random.ts";

export type Service = "dynamodb" | "sqs" | "s3" | "sns";

export type Fault =
  | { kind: "throttle"; code?: string }
  | { kind: "error"; status: 500 | 503 }
  | { kind: "deny" }
  | { kind: "delay"; ms: number }
  | { kind: "drop"; when: "before" | "after" };

export interface ProxiedRequest {
  service: Service;
  /** `GetItem`, `ReceiveMessage`, `PutObject`, ... */
  op: string;
  method: string;
  path: string;
  body: string;
}

export interface FaultRule {
  service: Service;
  /** Operation name, or `*` for every operation of the service. */
  op: string;
  /** Only requests whose path or body contains this text (a table name, a run_id), or that pass this test. */
  match?: string | ((req: ProxiedRequest) => boolean);
  fault: Fault;
  /** Matching requests let through before the rule starts firing. Default 0. */
  skip?: number;
  /** Times the rule fires; default unlimited. */
  count?: number;
  /** Chance that an eligible request is faulted, drawn from the proxy's seeded PRNG. Default 1. */
  probability?: number;
}

export interface RuleHandle {
  readonly rule: FaultRule;
  /** Matching requests seen so far. */
  readonly seen: number;
  /** Times the rule fired. */
  readonly fired: number;
  /** Stops the rule firing. */
  remove(): void;
}

export interface LoggedRequest {
  /** `dynamodb.GetItem` etc. */
  op: string;
  /** The fault applied, if any (`throttle`, `error 503`, `delay 200`, `drop before`). */
  fault?: string;
  /** Status the client received; undefined when the connection was dropped. */
  status?: number;
  /** Set when forwarding to the emulator failed (the client got a 502). */
  error?: string;
  at: number;
  /** The request body as text (JSON or form protocols; S3 bodies too, so keep objects small). */
  body: string;
}

export interface FaultProxy {
  url: string;
  requests: LoggedRequest[];
  add(rule: FaultRule): RuleHandle;
  /** Removes every rule. */
  clear(): void;
  /** Requests of `service.op` received so far (faulted or not). */
  count(op: string, filter?: (r: LoggedRequest) => boolean): number;
  stop(): Promise<void>;
}

export interface ProxyTargets {
  dynamodb: string;
  /** fauxqs: SQS, SNS and S3. */
  fauxqs: string;
}

export { seededRandom } from "../support/random.ts";

function s3Operation(method: string, url: URL): string {
  const onObject = url.pathname.split("/").filter(Boolean).length >= 2;
  const q = url.searchParams;
  switch (method) {
    case "PUT":
      return onObject ? (q.has("partNumber") ? "UploadPart" : "PutObject") : "CreateBucket";
    case "GET":
      return onObject ? "GetObject" : q.has("list-type") ? "ListObjectsV2" : "ListObjects";
    case "HEAD":
      return onObject ? "HeadObject" : "HeadBucket";
    case "DELETE":
      return onObject ? (q.has("uploadId") ? "AbortMultipartUpload" : "DeleteObject") : "DeleteBucket";
    case "POST":
      return q.has("uploads") ? "CreateMultipartUpload" : q.has("uploadId") ? "CompleteMultipartUpload" : q.has("delete") ? "DeleteObjects" : "PostObject";
    default:
      return method;
  }
}

export function classify(method: string, url: URL, headers: IncomingMessage["headers"], body: string): ProxiedRequest {
  const target = headers["x-amz-target"];
  const base = { method, path: `${url.pathname}${url.search}`, body };
  if (typeof target === "string" && target.includes(".")) {
    const [prefix, op] = target.split(".") as [string, string];
    if (prefix.startsWith("DynamoDB")) return { ...base, service: "dynamodb", op };
    if (prefix.startsWith("AmazonSQS")) return { ...base, service: "sqs", op };
  }
  const action = /(?:^|&)Action=([A-Za-z]+)/.exec(body);
  if (action && method === "POST" && url.pathname === "/") return { ...base, service: "sns", op: action[1]! };
  return { ...base, service: "s3", op: s3Operation(method, url) };
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const DYNAMO_PREFIX = "com.amazonaws.dynamodb.v20120810#";

/** The service's own answer for a fault, as AWS sends it. */
export function faultAnswer(service: Service, fault: { kind: "throttle"; code?: string } | { kind: "error"; status: 500 | 503 } | { kind: "deny" }): Answer {
  const requestId = crypto.randomUUID();
  if (fault.kind === "deny") return denyAnswer(service, requestId);
  if (service === "dynamodb") {
    const json = (status: number, type: string, message: string): Answer => ({
      status,
      headers: { "content-type": "application/x-amz-json-1.0", "x-amzn-requestid": requestId },
      body: JSON.stringify({ __type: type, message }),
    });
    if (fault.kind === "throttle") {
      const code = fault.code ?? "ProvisionedThroughputExceededException";
      // DynamoDB's account-level throttling comes from the coral framework, its table-level one from the service model.
      const type = code === "ThrottlingException" ? "com.amazon.coral.availability#ThrottlingException" : `${DYNAMO_PREFIX}${code}`;
      return json(400, type, "The level of configured provisioned throughput for the table was exceeded.");
    }
    return fault.status === 500
      ? json(500, `${DYNAMO_PREFIX}InternalServerError`, "Internal server error")
      : json(503, "com.amazon.coral.availability#ServiceUnavailableException", "Service unavailable");
  }
  if (service === "sqs") {
    const code = fault.kind === "throttle" ? (fault.code ?? "RequestThrottled") : fault.status === 500 ? "InternalError" : "ServiceUnavailable";
    const status = fault.kind === "throttle" ? 400 : fault.status;
    return {
      status,
      headers: {
        "content-type": "application/x-amz-json-1.0",
        "x-amzn-requestid": requestId,
        "x-amzn-query-error": `${code};${status >= 500 ? "Receiver" : "Sender"}`,
      },
      body: JSON.stringify({ __type: `com.amazonaws.sqs#${code}`, message: "Request rate exceeded or service unavailable" }),
    };
  }
  // S3 (and SNS's query protocol, which also answers in XML)
  const [status, code, message] =
    fault.kind === "throttle"
      ? [503, fault.code ?? "SlowDown", "Please reduce your request rate."]
      : fault.status === 500
        ? [500, "InternalError", "We encountered an internal error. Please try again."]
        : [503, "ServiceUnavailable", "Please reduce your request rate."];
  return {
    status,
    headers: { "content-type": "application/xml", "x-amz-request-id": requestId },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${requestId}</RequestId><HostId>fault-proxy</HostId></Error>`,
  };
}

function denyAnswer(service: Service, requestId: string): Answer {
  const message = "User: arn:aws:iam::000000000000:user/test is not authorized to perform this action";
  if (service === "dynamodb") {
    return {
      status: 400,
      headers: { "content-type": "application/x-amz-json-1.0", "x-amzn-requestid": requestId },
      body: JSON.stringify({ __type: `${DYNAMO_PREFIX}AccessDeniedException`, message }),
    };
  }
  if (service === "sqs") {
    return {
      status: 403,
      headers: { "content-type": "application/x-amz-json-1.0", "x-amzn-requestid": requestId, "x-amzn-query-error": "AccessDenied;Sender" },
      body: JSON.stringify({ __type: "com.amazonaws.sqs#AccessDenied", message }),
    };
  }
  return {
    status: 403,
    headers: { "content-type": "application/xml", "x-amz-request-id": requestId },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>${requestId}</RequestId></Error>`,
  };
}

interface LiveRule {
  rule: FaultRule;
  seen: number;
  fired: number;
  removed: boolean;
}

function describeFault(fault: Fault): string {
  switch (fault.kind) {
    case "throttle":
      return `throttle${fault.code ? ` ${fault.code}` : ""}`;
    case "error":
      return `error ${fault.status}`;
    case "deny":
      return "deny";
    case "delay":
      return `delay ${fault.ms}`;
    case "drop":
      return `drop ${fault.when}`;
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Starts the proxy on a free loopback port. `seed` fixes the probability draws. */
export async function startFaultProxy(targets: ProxyTargets, opts: { seed?: number } = {}): Promise<FaultProxy> {
  const random = seededRandom(opts.seed ?? 1);
  const rules: LiveRule[] = [];
  const requests: LoggedRequest[] = [];

  const choose = (r: ProxiedRequest): LiveRule | undefined => {
    for (const live of rules) {
      const { rule } = live;
      if (live.removed || rule.service !== r.service || (rule.op !== "*" && rule.op !== r.op)) continue;
      if (typeof rule.match === "string" && !r.path.includes(rule.match) && !r.body.includes(rule.match)) continue;
      if (typeof rule.match === "function" && !rule.match(r)) continue;
      live.seen++;
      if (live.seen <= (rule.skip ?? 0)) continue;
      if (rule.count !== undefined && live.fired >= rule.count) continue;
      if (rule.probability !== undefined && random() >= rule.probability) continue;
      live.fired++;
      return live;
    }
    return undefined;
  };

  const forward = async (
    req: IncomingMessage,
    url: URL,
    body: Buffer,
    r: ProxiedRequest,
    signal: AbortSignal,
  ): Promise<Answer & { raw: Uint8Array }> => {
    const target = r.service === "dynamodb" ? targets.dynamodb : targets.fauxqs;
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined || k === "host" || k === "connection" || k === "content-length") continue;
      headers.set(k, Array.isArray(v) ? v.join(", ") : v);
    }
    const res = await fetch(`${target}${url.pathname}${url.search}`, {
      method: req.method,
      headers,
      body: req.method === "GET" || req.method === "HEAD" ? undefined : body,
      redirect: "manual",
      decompress: false,
      signal,
    } as RequestInit);
    const raw = new Uint8Array(await res.arrayBuffer());
    const out: Record<string, string> = {};
    res.headers.forEach((v, k) => {
      if (k !== "content-encoding" && k !== "transfer-encoding" && k !== "connection" && k !== "content-length") out[k] = v;
    });
    if (req.method !== "HEAD") out["content-length"] = String(raw.byteLength);
    else if (res.headers.get("content-length")) out["content-length"] = res.headers.get("content-length")!;
    return { status: res.status, headers: out, body: "", raw };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://proxy");
    const body = await readBody(req);
    const r = classify(req.method ?? "GET", url, req.headers, body.toString("utf8"));
    const entry: LoggedRequest = { op: `${r.service}.${r.op}`, at: performance.now(), body: r.body };
    requests.push(entry);
    const live = choose(r);
    const fault = live?.rule.fault;
    if (fault) entry.fault = describeFault(fault);
    if (fault?.kind === "drop" && fault.when === "before") {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === "throttle" || fault?.kind === "error" || fault?.kind === "deny") {
      const a = faultAnswer(r.service, fault);
      entry.status = a.status;
      res.writeHead(a.status, { ...a.headers, "content-length": String(Buffer.byteLength(a.body)) });
      res.end(a.body);
      return;
    }
    if (fault?.kind === "delay") await Bun.sleep(fault.ms);
    // A client that gives up (an aborted long poll) closes its connection: the backend sees that too,
    // as it would without the proxy.
    const gone = new AbortController();
    res.on("close", () => {
      if (!res.writableEnded) gone.abort();
    });
    let answer: Answer & { raw: Uint8Array };
    try {
      answer = await forward(req, url, body, r, gone.signal);
    } catch (err) {
      if (gone.signal.aborted) return;
      entry.error = (err as Error).message;
      throw err;
    }
    if (fault?.kind === "drop") {
      req.socket.destroy();
      return;
    }
    entry.status = answer.status;
    res.writeHead(answer.status, answer.headers);
    res.end(req.method === "HEAD" ? undefined : answer.raw);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // The backend itself failed (emulator gone): tell the client plainly.
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(`fault proxy: ${(err as Error).message}`);
      if (process.env.DEBUG_FAULTS) console.error("fault proxy:", err);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    add(rule) {
      const live: LiveRule = { rule, seen: 0, fired: 0, removed: false };
      rules.push(live);
      return {
        rule,
        get seen() {
          return live.seen;
        },
        get fired() {
          return live.fired;
        },
        remove() {
          live.removed = true;
        },
      };
    },
    clear() {
      for (const live of rules) live.removed = true;
      rules.length = 0;
    },
    count(op, filter) {
      return requests.filter((r) => r.op === op && (!filter || filter(r))).length;
    },
    async stop() {
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Environment overrides that send a spawned lava process's DynamoDB, SQS, SNS and S3 requests through `proxy`. */
export function proxyEnv(proxy: { url: string }): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_DYNAMODB: proxy.url,
    AWS_ENDPOINT_URL_SQS: proxy.url,
    AWS_ENDPOINT_URL_SNS: proxy.url,
    AWS_ENDPOINT_URL_S3: proxy.url,
  };
}
