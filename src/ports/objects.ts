/**
 * Object storage (S3 in AWS, a directory tree locally), addressed by `s3://bucket/key` URIs.
 * Bodies stream: nothing here requires holding a whole object in memory.
 */
export interface ObjectInfo {
  uri: string;
  bucket: string;
  key: string;
  size: number;
  lastModified: Date;
  etag?: string;
  contentType?: string;
}

export interface PutOptions {
  contentType?: string;
  /** SSE-KMS key id; when absent adapters use AES256 server-side encryption (lava's rule). */
  kmsKeyId?: string;
  metadata?: Record<string, string>;
}

export type Body = Uint8Array | string | ReadableStream<Uint8Array> | Blob;

export interface ListInput {
  /** `/` lists one level and reports sub-prefixes. */
  delimiter?: string;
  continuationToken?: string;
  maxKeys?: number;
}

export interface ListPage {
  objects: ObjectInfo[];
  /** Common prefixes (full `s3://bucket/prefix/` URIs) when a delimiter is given. */
  prefixes: string[];
  continuationToken?: string;
}

export interface ObjectStore {
  put(uri: string, body: Body, opts?: PutOptions): Promise<void>;
  /** Throws NotFoundError when absent. */
  get(uri: string): Promise<ReadableStream<Uint8Array>>;
  head(uri: string): Promise<ObjectInfo | undefined>;
  /** Lists keys starting with the key part of `prefixUri`. */
  list(prefixUri: string, input?: ListInput): Promise<ListPage>;
  delete(uri: string): Promise<void>;
  createBucket(bucket: string): Promise<void>;
  /**
   * The bucket settings lava's safety checks read (redshift_unload), in the order it checks them. Throws
   * when a setting cannot be read.
   */
  bucketSecurity(bucket: string): Promise<BucketSecurity>;
  /**
   * Sets the object's Content-Encoding (S3: a copy onto itself keeping metadata, encryption and storage
   * class; nothing when it already has it). For databases that read S3 themselves and decompress by it.
   */
  setContentEncoding(uri: string, encoding: string): Promise<void>;
}

export interface BucketSecurity {
  /** A grant to everyone (AllUsers) in the bucket ACL. */
  publicAccess: boolean;
  /** Default encryption configured. */
  defaultEncryption: boolean;
  /** Server access logging on. */
  serverLogging: boolean;
  /** Owned by the account of the caller's credentials. */
  ownedByCaller: boolean;
}

export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw new Error(`not an s3:// URI: ${uri}`);
  return { bucket: m[1]!, key: m[2]! };
}

/** An S3 object name lava's s3_split cannot take apart (no bucket). */
export class InvalidS3NameError extends Error {
  override name = "InvalidS3NameError";
}

/**
 * The original's `s3_split`, which templates (`utils.s3bucket`/`s3key`) and db_from_s3 manifests use:
 * `s3://b/k`, `s3:b/k`, `/b/k` and `b/k`; the key loses leading and trailing `/`.
 */
export function s3Split(s: string): [string, string] {
  let rest = s;
  for (const p of ["s3://", "s3:"]) {
    if (rest.startsWith(p)) {
      rest = rest.slice(p.length);
      break;
    }
  }
  const trimmed = rest.replace(/^\/+|\/+$/g, "");
  const slash = trimmed.indexOf("/");
  const bucket = slash < 0 ? trimmed : trimmed.slice(0, slash);
  if (!bucket) throw new InvalidS3NameError(`Invalid S3 object name: ${rest}`);
  return [bucket, slash < 0 ? "" : trimmed.slice(slash + 1).replace(/^\/+|\/+$/g, "")];
}

export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}
