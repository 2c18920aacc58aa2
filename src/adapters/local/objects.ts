/**
 * ObjectStore over a directory tree: `s3://bucket/a/b.txt` is the file `<root>/bucket/a/b.txt`, so a
 * local realm's objects can be read with ordinary tools.
 *
 * - Puts stream into a temp file under `<root>/.tmp` and then rename into place: readers see the old
 *   object or the new one, never a partial one, even across processes.
 * - Gets stream from an open file descriptor in fixed-size chunks; no object is ever held whole in memory.
 * - Content type, KMS key id, user metadata and the ETag (MD5, as S3 gives for single-part puts) are kept
 *   in the `local_object_meta` table. A file dropped into the tree by hand is still an object, without them.
 * - Files are 0600 and directories 0700 (home.ts); a full disk is a StorageFullError.
 * - Keys must map to safe paths: no empty, `.` or `..` segments and no trailing `/`. A key that is also a
 *   "directory" of other keys (`a` and `a/b`) cannot be stored; S3 allows that, lava does not use it.
 */
import type { Database } from "bun:sqlite";
import { mkdir, open, readdir, rename, rm, rmdir, stat } from "node:fs/promises";
import { dirname, join, sep } from "node:path";
import type { Body, BucketSecurity, ListInput, ListPage, ObjectInfo, ObjectStore, PutOptions } from "../../ports/objects.ts";
import { parseS3Uri, s3Uri } from "../../ports/objects.ts";
import { NotFoundError, ValidationError } from "../../ports/errors.ts";
import { storageFull, writeTransaction } from "./db.ts";
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from "./home.ts";

const READ_CHUNK = 256 * 1024;
const DEFAULT_MAX_KEYS = 1000;
/** Directory for in-flight puts; bucket names cannot start with a dot, so it never looks like a bucket. */
const TMP_DIR = ".tmp";

interface MetaRow {
  content_type: string | null;
  etag: string | null;
}

export class LocalObjectStore implements ObjectStore {
  constructor(
    private readonly db: Database,
    private readonly root: string,
  ) {}

  async createBucket(bucket: string): Promise<void> {
    validateBucket(bucket);
    await mkdir(join(this.root, bucket), { recursive: true, mode: PRIVATE_DIR_MODE });
  }

  async put(uri: string, body: Body, opts: PutOptions = {}): Promise<void> {
    const { bucket, key } = this.parse(uri);
    const target = this.path(bucket, key);
    // Local is lenient where S3 would say NoSuchBucket: the bucket directory is made on first put.
    await mkdir(dirname(target), { recursive: true, mode: PRIVATE_DIR_MODE }).catch((err) => {
      throw storageFull(err, target) ?? conflictOrRethrow(err, uri);
    });
    const tmpDir = join(this.root, TMP_DIR);
    const tmp = join(tmpDir, crypto.randomUUID());
    let etag: string;
    try {
      await mkdir(tmpDir, { recursive: true, mode: PRIVATE_DIR_MODE });
      etag = await writeBody(tmp, body);
      await rename(tmp, target).catch((err) => {
        throw conflictOrRethrow(err, uri);
      });
    } catch (err) {
      await rm(tmp, { force: true });
      throw storageFull(err, target) ?? err;
    }
    writeTransaction(this.db, () =>
      this.db
        .query("INSERT OR REPLACE INTO local_object_meta (bucket, key, content_type, kms_key_id, metadata, etag) VALUES (?, ?, ?, ?, ?, ?)")
        .run(bucket, key, opts.contentType ?? null, opts.kmsKeyId ?? null, JSON.stringify(opts.metadata ?? {}), etag),
    );
  }

  async get(uri: string): Promise<ReadableStream<Uint8Array>> {
    const { bucket, key } = this.parse(uri);
    const handle = await open(this.path(bucket, key), "r").catch((err) => {
      throw notFoundOrRethrow(err, uri);
    });
    if ((await handle.stat()).isDirectory()) {
      await handle.close();
      throw new NotFoundError(`object ${uri} does not exist`, { kind: "object", name: uri });
    }
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const chunk = new Uint8Array(READ_CHUNK);
          const { bytesRead } = await handle.read(chunk, 0, READ_CHUNK, null);
          if (bytesRead === 0) {
            await handle.close();
            controller.close();
          } else {
            controller.enqueue(bytesRead === READ_CHUNK ? chunk : chunk.subarray(0, bytesRead));
          }
        } catch (err) {
          await handle.close().catch(() => {});
          controller.error(err);
        }
      },
      async cancel() {
        await handle.close();
      },
    });
  }

  async head(uri: string): Promise<ObjectInfo | undefined> {
    const { bucket, key } = this.parse(uri);
    const info = await stat(this.path(bucket, key)).catch(() => undefined);
    if (!info?.isFile()) return undefined;
    return this.info(bucket, key, info.size, info.mtime);
  }

  async list(prefixUri: string, input: ListInput = {}): Promise<ListPage> {
    const { bucket, key: prefix } = parseS3Uri(prefixUri);
    validateBucket(bucket);
    const bucketDir = join(this.root, bucket);
    // As S3's NoSuchBucket: an empty listing would hide a misspelt bucket name.
    if (!(await stat(bucketDir).catch(() => undefined))?.isDirectory()) {
      throw new NotFoundError(`bucket ${bucket} does not exist`, { kind: "bucket", name: bucket });
    }
    // Only the directory holding the prefix needs walking: every matching key lies beneath it.
    const startDir = prefix.includes("/") ? prefix.slice(0, prefix.lastIndexOf("/") + 1) : "";
    const keys = (await walk(bucketDir, startDir)).filter((k) => k.startsWith(prefix)).sort(compareUtf8);
    const after = input.continuationToken ? Buffer.from(input.continuationToken, "base64url").toString("utf8") : undefined;
    const maxKeys = input.maxKeys ?? DEFAULT_MAX_KEYS;
    const page: ListPage = { objects: [], prefixes: [] };
    let count = 0;
    let lastEntry: string | undefined;
    for (const key of keys) {
      const entry = commonPrefix(key, prefix, input.delimiter) ?? key;
      if (after !== undefined && compareUtf8(entry, after) <= 0) continue;
      if (entry === lastEntry) continue; // further keys under a prefix already reported
      if (count === maxKeys) {
        page.continuationToken = Buffer.from(lastEntry!, "utf8").toString("base64url");
        break;
      }
      count++;
      lastEntry = entry;
      if (entry !== key) {
        page.prefixes.push(s3Uri(bucket, entry));
      } else {
        const info = await stat(this.path(bucket, key)).catch(() => undefined);
        if (info) page.objects.push(await this.info(bucket, key, info.size, info.mtime));
      }
    }
    return page;
  }

  async delete(uri: string): Promise<void> {
    const { bucket, key } = this.parse(uri);
    const target = this.path(bucket, key);
    await rm(target, { force: true }).catch((err) => {
      if ((err as NodeJS.ErrnoException).code !== "EISDIR" && (err as NodeJS.ErrnoException).code !== "ERR_FS_EISDIR") throw err;
    });
    this.db.query("DELETE FROM local_object_meta WHERE bucket = ? AND key = ?").run(bucket, key);
    await pruneEmptyDirs(dirname(target), join(this.root, bucket));
  }

  /**
   * A local bucket is a directory of the realm owner's 0700 tree: never public and owned by the caller, but
   * neither encrypted nor access-logged, so lava's safety checks refuse it as they would such an S3 bucket.
   */
  async bucketSecurity(bucket: string): Promise<BucketSecurity> {
    validateBucket(bucket);
    if (!(await stat(join(this.root, bucket)).catch(() => undefined))?.isDirectory()) {
      throw new NotFoundError(`bucket ${bucket} does not exist`, { kind: "bucket", name: bucket });
    }
    return { publicAccess: false, defaultEncryption: false, serverLogging: false, ownedByCaller: true };
  }

  /**
   * Nothing to do: Content-Encoding is an HTTP header of S3 responses, and local objects are read as files by
   * lava itself, never by a database over HTTP. The object must exist, as on S3.
   */
  async setContentEncoding(uri: string, _encoding: string): Promise<void> {
    if (!(await this.head(uri))) throw new NotFoundError(`object ${uri} does not exist`, { kind: "object", name: uri });
  }

  private async info(bucket: string, key: string, size: number, mtime: Date): Promise<ObjectInfo> {
    const meta = this.db
      .query<MetaRow, [string, string]>("SELECT content_type, etag FROM local_object_meta WHERE bucket = ? AND key = ?")
      .get(bucket, key);
    return {
      uri: s3Uri(bucket, key),
      bucket,
      key,
      size,
      lastModified: mtime,
      ...(meta?.etag ? { etag: meta.etag } : {}),
      ...(meta?.content_type ? { contentType: meta.content_type } : {}),
    };
  }

  private parse(uri: string): { bucket: string; key: string } {
    const { bucket, key } = parseS3Uri(uri);
    validateBucket(bucket);
    validateKey(key, uri);
    return { bucket, key };
  }

  private path(bucket: string, key: string): string {
    return join(this.root, bucket, ...key.split("/"));
  }
}

function validateBucket(bucket: string): void {
  if (!/^[a-z0-9][a-z0-9.-]{1,62}$/.test(bucket)) throw new ValidationError(`invalid bucket name "${bucket}"`);
}

function validateKey(key: string, uri: string): void {
  const segments = key.split("/");
  if (!key || segments.some((s) => s === "" || s === "." || s === "..") || key.includes("\0") || (sep !== "/" && key.includes(sep))) {
    throw new ValidationError(`object key of ${uri} cannot be stored locally (empty, ".", ".." segment or trailing "/")`);
  }
}

/** Streams `body` into `file`, returning the quoted MD5 ETag. */
async function writeBody(file: string, body: Body): Promise<string> {
  const md5 = new Bun.CryptoHasher("md5");
  const handle = await open(file, "wx", PRIVATE_FILE_MODE);
  try {
    const write = async (chunk: Uint8Array) => {
      md5.update(chunk);
      let offset = 0;
      while (offset < chunk.byteLength) {
        const { bytesWritten } = await handle.write(chunk, offset, chunk.byteLength - offset);
        offset += bytesWritten;
      }
    };
    if (typeof body === "string") await write(Buffer.from(body, "utf8"));
    else if (body instanceof Uint8Array) await write(body);
    else {
      const stream = body instanceof Blob ? body.stream() : body;
      for await (const chunk of stream) await write(chunk);
    }
  } finally {
    await handle.close();
  }
  return `"${md5.digest("hex")}"`;
}

/** Keys (relative, `/`-separated) of every file under `<bucketDir>/<relDir>`. */
async function walk(bucketDir: string, relDir: string): Promise<string[]> {
  const entries = await readdir(join(bucketDir, relDir), { withFileTypes: true }).catch(() => []);
  const keys: string[] = [];
  for (const entry of entries) {
    const rel = relDir + entry.name;
    if (entry.isDirectory()) keys.push(...(await walk(bucketDir, `${rel}/`)));
    else if (entry.isFile()) keys.push(rel);
  }
  return keys;
}

/** With a delimiter, the common prefix `key` rolls up into (prefix + text up to and including the delimiter). */
function commonPrefix(key: string, prefix: string, delimiter: string | undefined): string | undefined {
  if (!delimiter) return undefined;
  const at = key.indexOf(delimiter, prefix.length);
  return at < 0 ? undefined : key.slice(0, at + delimiter.length);
}

/** S3 lists keys in UTF-8 byte order, which differs from JS string order above U+FFFF. */
function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

async function pruneEmptyDirs(dir: string, stopAt: string): Promise<void> {
  while (dir.length > stopAt.length && dir.startsWith(stopAt)) {
    try {
      await rmdir(dir);
    } catch {
      return; // not empty (or already gone): stop climbing
    }
    dir = dirname(dir);
  }
}

function notFoundOrRethrow(err: unknown, uri: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR" ? new NotFoundError(`object ${uri} does not exist`, { kind: "object", name: uri }, { cause: err }) : err;
}

function conflictOrRethrow(err: unknown, uri: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "EEXIST" || code === "ENOTDIR" || code === "EISDIR"
    ? new ValidationError(`${uri}: a key cannot be both an object and a prefix of other objects in the local store`, { cause: err })
    : err;
}
