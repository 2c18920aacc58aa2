/**
 * A recording HTTP proxy in front of an AWS emulator, so the AWS requests of a spawned lava process can be
 * seen exactly as the golden capture saw the original's: operation, path, headers and body, plus the
 * response body (to tie a ReceiveMessage to the message it returned).
 */

export interface RecordedRequest {
  /** `dynamodb.GetItem`, `sqs.ReceiveMessage`, `s3.PutObject`, ... as in golden/requests/*.json. */
  op: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  response: string;
}

export interface Recorder {
  url: string;
  requests: RecordedRequest[];
  stop(): void;
}

/** The golden naming of an S3 REST call (only the calls lava makes). */
function s3Operation(method: string, url: URL): string {
  const segments = url.pathname.split("/").filter(Boolean);
  const onObject = segments.length >= 2;
  if (method === "PUT") return onObject ? (url.searchParams.has("partNumber") ? "UploadPart" : "PutObject") : "CreateBucket";
  if (method === "GET") return onObject ? "GetObject" : url.searchParams.has("list-type") ? "ListObjectsV2" : "ListObjects";
  if (method === "HEAD") return onObject ? "HeadObject" : "HeadBucket";
  if (method === "DELETE") return onObject ? "DeleteObject" : "DeleteBucket";
  if (method === "POST") return url.searchParams.has("uploads") ? "CreateMultipartUpload" : url.searchParams.has("uploadId") ? "CompleteMultipartUpload" : "PostObject";
  return `${method}?`;
}

function operationOf(req: Request, url: URL, body: string): string {
  const target = req.headers.get("x-amz-target");
  if (target) {
    const [prefix, op] = target.split(".");
    const service = prefix!.startsWith("DynamoDB") ? "dynamodb" : prefix!.startsWith("AmazonSQS") ? "sqs" : prefix!.toLowerCase();
    return `${service}.${op}`;
  }
  const action = /(?:^|&)Action=([A-Za-z]+)/.exec(body);
  if (action) return `sns.${action[1]}`; // query protocol (SNS; SQS query protocol is not used by SDK v3)
  return `s3.${s3Operation(req.method, url)}`;
}

/** Starts a proxy to `target` (e.g. http://127.0.0.1:4566) on a free loopback port. */
export function startRecorder(target: string): Recorder {
  const requests: RecordedRequest[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const bytes = new Uint8Array(await req.arrayBuffer());
      const body = new TextDecoder().decode(bytes);
      const headers: Record<string, string> = {};
      req.headers.forEach((v, k) => (headers[k] = v));
      const forwarded = new Headers(req.headers);
      forwarded.delete("host");
      const res = await fetch(`${target}${url.pathname}${url.search}`, {
        method: req.method,
        headers: forwarded,
        body: req.method === "GET" || req.method === "HEAD" ? undefined : bytes,
        redirect: "manual",
        decompress: false,
      } as RequestInit);
      const out = new Uint8Array(await res.arrayBuffer());
      const response = new TextDecoder().decode(out);
      requests.push({ op: operationOf(req, url, body), method: req.method, path: url.pathname, headers, body, response });
      const resHeaders = new Headers(res.headers);
      resHeaders.delete("content-encoding");
      resHeaders.delete("transfer-encoding");
      if (req.method !== "HEAD") resHeaders.set("content-length", String(out.byteLength));
      return new Response(req.method === "HEAD" ? null : out, { status: res.status, headers: resHeaders });
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, requests, stop: () => server.stop(true) };
}

/** Operation → count, like `op_counts` in golden/requests/*.json. */
export function opCounts(requests: RecordedRequest[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of requests) counts[r.op] = (counts[r.op] ?? 0) + 1;
  return counts;
}
