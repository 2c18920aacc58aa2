/**
 * ObjectStore on S3. Streams go up as multipart uploads (multipart.ts) and come down as the response body's
 * web stream, so no object is ever held whole in memory.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import type { Body, BucketSecurity, ListInput, ListPage, ObjectInfo, ObjectStore, PutOptions } from "../../ports/objects.ts";
import { NotFoundError } from "../../ports/errors.ts";
import { parseS3Uri, s3Uri } from "../../ports/objects.ts";
import { awsCall, isAwsError, mapAwsError } from "./errors.ts";
import { streamingPut } from "./multipart.ts";

/** Blobs larger than this are streamed through a multipart upload instead of read into memory. */
const BLOB_STREAM_THRESHOLD = 8 * 1024 * 1024;

/** lava's rule: SSE-KMS with the given key, else AES256. */
function encryption(opts?: PutOptions) {
  return opts?.kmsKeyId
    ? { ServerSideEncryption: "aws:kms" as const, SSEKMSKeyId: opts.kmsKeyId }
    : { ServerSideEncryption: "AES256" as const };
}

const ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers";

export class S3ObjectStore implements ObjectStore {
  /** Bucket owner checks, kept as the original keeps them: buckets do not change accounts. */
  private readonly owned = new Map<string, boolean>();

  constructor(
    private readonly client: () => Promise<S3Client>,
    private readonly region: () => Promise<string | undefined>,
  ) {}

  async put(uri: string, body: Body, opts?: PutOptions): Promise<void> {
    const { bucket, key } = parseS3Uri(uri);
    const params = {
      Bucket: bucket,
      Key: key,
      ContentType: opts?.contentType,
      Metadata: opts?.metadata,
      ...encryption(opts),
    };
    const s3 = await this.client();
    if (body instanceof ReadableStream || (body instanceof Blob && body.size > BLOB_STREAM_THRESHOLD)) {
      const stream = body instanceof Blob ? body.stream() : body;
      // A single PutObject when the stream fits in one part, multipart otherwise.
      await awsCall(`put ${uri}`, () => streamingPut(s3, params, stream), { kind: "object", name: uri });
      return;
    }
    const { PutObjectCommand } = await import("@aws-sdk/client-s3");
    const bytes = body instanceof Blob ? new Uint8Array(await body.arrayBuffer()) : body;
    await awsCall(`put ${uri}`, () => s3.send(new PutObjectCommand({ ...params, Body: bytes })), { kind: "object", name: uri });
  }

  async get(uri: string): Promise<ReadableStream<Uint8Array>> {
    const { bucket, key } = parseS3Uri(uri);
    const { GetObjectCommand } = await import("@aws-sdk/client-s3");
    const s3 = await this.client();
    const out = await awsCall(`get ${uri}`, () => s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })), { kind: "object", name: uri });
    if (!out.Body) throw new NotFoundError(`get ${uri}: no body`, { kind: "object", name: uri });
    return out.Body.transformToWebStream() as ReadableStream<Uint8Array>;
  }

  async head(uri: string): Promise<ObjectInfo | undefined> {
    const { bucket, key } = parseS3Uri(uri);
    const { HeadObjectCommand } = await import("@aws-sdk/client-s3");
    const s3 = await this.client();
    try {
      const out = await awsCall(`head ${uri}`, () => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })), { kind: "object", name: uri });
      return {
        uri,
        bucket,
        key,
        size: out.ContentLength ?? 0,
        lastModified: out.LastModified ?? new Date(0),
        ...(out.ETag ? { etag: out.ETag } : {}),
        ...(out.ContentType ? { contentType: out.ContentType } : {}),
      };
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  async list(prefixUri: string, input: ListInput = {}): Promise<ListPage> {
    const { bucket, key: prefix } = parseS3Uri(prefixUri);
    const { ListObjectsV2Command } = await import("@aws-sdk/client-s3");
    const s3 = await this.client();
    const out = await awsCall(`list ${prefixUri}`, () =>
      s3.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: prefix || undefined,
          Delimiter: input.delimiter,
          ContinuationToken: input.continuationToken,
          MaxKeys: input.maxKeys,
        }),
      ),
      { kind: "object", name: prefixUri },
    );
    return {
      objects: (out.Contents ?? []).map((o) => ({
        uri: s3Uri(bucket, o.Key ?? ""),
        bucket,
        key: o.Key ?? "",
        size: o.Size ?? 0,
        lastModified: o.LastModified ?? new Date(0),
        ...(o.ETag ? { etag: o.ETag } : {}),
      })),
      prefixes: (out.CommonPrefixes ?? []).map((p) => s3Uri(bucket, p.Prefix ?? "")),
      ...(out.IsTruncated && out.NextContinuationToken ? { continuationToken: out.NextContinuationToken } : {}),
    };
  }

  async delete(uri: string): Promise<void> {
    const { bucket, key } = parseS3Uri(uri);
    const { DeleteObjectCommand } = await import("@aws-sdk/client-s3");
    const s3 = await this.client();
    await awsCall(`delete ${uri}`, () => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })), { kind: "object", name: uri });
  }

  /** Idempotent: a bucket we already own is fine. Outside us-east-1 S3 needs the location constraint. */
  async createBucket(bucket: string): Promise<void> {
    const { CreateBucketCommand } = await import("@aws-sdk/client-s3");
    const s3 = await this.client();
    const region = await this.region();
    try {
      await s3.send(
        new CreateBucketCommand({
          Bucket: bucket,
          ...(region && region !== "us-east-1"
            ? { CreateBucketConfiguration: { LocationConstraint: region as never } }
            : {}),
        }),
      );
    } catch (err) {
      if (isAwsError(err, "BucketAlreadyOwnedByYou")) return;
      throw mapAwsError(err, `create bucket ${bucket}`, { kind: "bucket", name: bucket });
    }
  }

  /** The original's four checks (lava/lib/aws.py s3_check_bucket_security), each one S3 request. */
  async bucketSecurity(bucket: string): Promise<BucketSecurity> {
    const { GetBucketAclCommand, GetBucketEncryptionCommand, GetBucketLoggingCommand, ListBucketsCommand } = await import("@aws-sdk/client-s3");
    const s3 = await this.client();
    const resource = { kind: "bucket" as const, name: bucket };
    const acl = await awsCall(`get bucket acl ${bucket}`, () => s3.send(new GetBucketAclCommand({ Bucket: bucket })), resource);
    const publicAccess = (acl.Grants ?? []).some((g) => g.Grantee?.Type?.toLowerCase() === "group" && g.Grantee.URI === ALL_USERS);
    let defaultEncryption = true;
    try {
      await s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
    } catch (err) {
      if (!isAwsError(err, "ServerSideEncryptionConfigurationNotFoundError")) throw mapAwsError(err, `Cannot verify bucket is encrypted`, resource);
      defaultEncryption = false;
    }
    const logging = await awsCall(`Cannot verify bucket has logging enabled`, () => s3.send(new GetBucketLoggingCommand({ Bucket: bucket })), resource);
    let ownedByCaller = this.owned.get(bucket);
    if (ownedByCaller === undefined) {
      const mine = await awsCall("list buckets", () => s3.send(new ListBucketsCommand({})), resource);
      ownedByCaller = mine.Owner?.ID !== undefined && mine.Owner.ID === acl.Owner?.ID;
      this.owned.set(bucket, ownedByCaller);
    }
    return { publicAccess, defaultEncryption, serverLogging: logging.LoggingEnabled !== undefined, ownedByCaller };
  }

  async setContentEncoding(uri: string, encoding: string): Promise<void> {
    const { bucket, key } = parseS3Uri(uri);
    const { HeadObjectCommand, CopyObjectCommand } = await import("@aws-sdk/client-s3");
    const s3 = await this.client();
    const resource = { kind: "object" as const, name: uri };
    const info = await awsCall(`head ${uri}`, () => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })), resource);
    if (info.ContentEncoding === encoding) return;
    await awsCall(
      `copy ${uri}`,
      () =>
        s3.send(
          new CopyObjectCommand({
            Bucket: bucket,
            Key: key,
            CopySource: `${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`,
            ContentEncoding: encoding,
            MetadataDirective: "REPLACE",
            // What the original keeps across the copy: metadata, encryption, storage class.
            ...(info.Metadata && Object.keys(info.Metadata).length ? { Metadata: info.Metadata } : {}),
            ...(info.ServerSideEncryption ? { ServerSideEncryption: info.ServerSideEncryption } : {}),
            ...(info.SSEKMSKeyId ? { SSEKMSKeyId: info.SSEKMSKeyId } : {}),
            ...(info.StorageClass ? { StorageClass: info.StorageClass } : {}),
            ...(info.ContentType ? { ContentType: info.ContentType } : {}),
          }),
        ),
      resource,
    );
  }
}
