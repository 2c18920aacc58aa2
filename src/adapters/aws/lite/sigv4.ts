/**
 * AWS Signature Version 4 for the few JSON requests the lite client sends (and any other request shape, so
 * it can be checked against published vectors): canonical request, string to sign, derived key, header.
 * Bun.CryptoHasher rather than node:crypto: the same synchronous HMAC, without loading node:crypto's
 * module, which costs a short-lived process ~6 MiB of RSS (bench/dispatch.ts).
 */

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface RequestToSign {
  method: string;
  url: URL;
  /** Lower-case names. `host` and `x-amz-date` are added; every header given here is signed. */
  headers: Record<string, string>;
  body: string;
}

export interface SigningScope {
  service: string;
  region: string;
  credentials: Credentials;
  now: Date;
}

const sha256Hex = (data: string): string => new Bun.CryptoHasher("sha256").update(data).digest("hex");
const hmac = (key: string | Uint8Array, data: string): Uint8Array => new Bun.CryptoHasher("sha256", key).update(data).digest();

/** `20150830T123600Z`. */
export function amzDate(now: Date): string {
  return now.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

/** RFC 3986 encoding as SigV4 wants it: everything but unreserved characters, `%XX` upper case. */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Every service but S3 encodes each path segment twice (once for the URL, once for the signature). */
function canonicalPath(url: URL): string {
  const path = url.pathname || "/";
  return path
    .split("/")
    .map((segment) => uriEncode(uriEncode(decodeURIComponent(segment))))
    .join("/");
}

function canonicalQuery(url: URL): string {
  const pairs: [string, string][] = [];
  for (const [k, v] of url.searchParams) pairs.push([uriEncode(k), uriEncode(v)]);
  pairs.sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

/** Header values trimmed, inner runs of spaces collapsed, as the canonical form requires. */
function canonicalHeaders(headers: Record<string, string>): { canonical: string; signed: string } {
  const names = Object.keys(headers).sort();
  const canonical = names.map((n) => `${n}:${headers[n]!.trim().replace(/\s+/g, " ")}\n`).join("");
  return { canonical, signed: names.join(";") };
}

/** Derived signing key; the same for a whole day, region and service. */
function signingKey(secret: string, day: string, region: string, service: string): Uint8Array {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), service), "aws4_request");
}

/**
 * The headers to send: the given ones plus `host`, `x-amz-date`, `x-amz-security-token` (temporary
 * credentials) and `authorization`.
 */
export function signRequest(req: RequestToSign, scope: SigningScope): Record<string, string> {
  const date = amzDate(scope.now);
  const day = date.slice(0, 8);
  const headers: Record<string, string> = { ...req.headers, host: req.url.host, "x-amz-date": date };
  if (scope.credentials.sessionToken) headers["x-amz-security-token"] = scope.credentials.sessionToken;
  const { canonical, signed } = canonicalHeaders(headers);
  const canonicalRequest = [
    req.method.toUpperCase(),
    canonicalPath(req.url),
    canonicalQuery(req.url),
    canonical,
    signed,
    sha256Hex(req.body),
  ].join("\n");
  const credentialScope = `${day}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", date, credentialScope, sha256Hex(canonicalRequest)].join("\n");
  const signature = new Bun.CryptoHasher("sha256", signingKey(scope.credentials.secretAccessKey, day, scope.region, scope.service))
    .update(stringToSign)
    .digest("hex");
  headers.authorization =
    `AWS4-HMAC-SHA256 Credential=${scope.credentials.accessKeyId}/${credentialScope}, SignedHeaders=${signed}, Signature=${signature}`;
  return headers;
}
