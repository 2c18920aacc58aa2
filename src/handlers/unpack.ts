/**
 * Unpacks a pkg job's package into its private directory, chosen by file name as the original does:
 * `*.zip`, `*.tar`, `*.tar.*`; anything else is refused.
 *
 * The original leaves path safety and size to GNU tar and Info-ZIP. We refuse the whole archive when a member
 * has an absolute path or a `..` component, is a symlink or hard link whose target leaves the directory, lies
 * under (or, for a hard link, points through) a symlink from the same archive, or is a device/fifo. Zip
 * members are all checked before anything is written; tar members as their headers arrive (a stream has no
 * table of contents), and whatever was written before a refusal is removed.
 *
 * Bounds (docs/SECURITY.md "Archive limits"): the expanded size (PKG_MAX_UNPACKED_SIZE) and the member count
 * (PKG_MAX_ENTRIES) are counted while streaming, so a bomb stops at the cap, not after it has filled memory or
 * disk; the unpack timeout cancels the work itself (streams destroyed, decompressor processes killed). Nothing
 * here reads or inflates archive data synchronously: decompression runs in node:zlib streams (off the event
 * loop) or in an `xz`/`bzip2` subprocess whose output is streamed.
 *
 * After extraction every symlink is resolved on the real file system (following every link on the way) and
 * must land inside the directory: a chain of links that each look harmless can still climb out.
 */
import { createReadStream } from "node:fs";
import { chmod, link, lstat, mkdir, open, opendir, readdir, readlink, realpath, rm, symlink, unlink, type FileHandle } from "node:fs/promises";
import { constants as fsConstants } from "node:fs";
import { basename, dirname, join, posix, sep } from "node:path";
import { Readable } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflateRaw, createZstdDecompress } from "node:zlib";
import * as tar from "tar";

export class UnpackError extends Error {
  override name = "UnpackError";
}

/** A package over one of the archive limits (the message names the configuration variable). */
export class UnpackLimitError extends UnpackError {
  override name = "UnpackLimitError";
}

export class UnpackTimeoutError extends UnpackError {
  override name = "UnpackTimeoutError";
}

type MemberKind = "file" | "dir" | "symlink" | "hardlink" | "other";

interface Member {
  name: string;
  kind: MemberKind;
  linkTarget?: string;
}

export interface UnpackLimits {
  /** PKG_MAX_UNPACKED_SIZE in bytes, and as configured (quoted in the error). */
  maxBytes: number;
  maxBytesText: string;
  /** PKG_MAX_ENTRIES. */
  maxEntries: number;
}

export interface UnpackOptions {
  timeoutSeconds: number;
  limits: UnpackLimits;
  /** Aborts the unpack (the worker is stopping). */
  signal?: AbortSignal;
}

/** Longest symlink target accepted (Linux PATH_MAX); a zip symlink's content is read only up to this. */
const MAX_LINK_TARGET = 4096;
/** Decompressed chunk size: large enough to keep per-chunk overhead low, small enough to bound memory. */
const CHUNK = 256 * 1024;

export async function unpackPackage(pkg: string, dir: string, opts: UnpackOptions): Promise<void> {
  const base = posix.basename(pkg);
  let unpack: (pkg: string, dir: string, budget: Budget, signal: AbortSignal) => Promise<void>;
  if (base.endsWith(".zip")) unpack = unpackZip;
  else if (base.endsWith(".tar") || /\.tar\.[^/]*$/.test(base)) unpack = unpackTar;
  else throw new UnpackError(`Don't know how to unpack ${pkg}`);
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new UnpackTimeoutError(`Timed out after ${opts.timeoutSeconds} seconds (PKG_UNPACK_TIMEOUT)`)),
    opts.timeoutSeconds * 1000,
  );
  const onStop = () => controller.abort(new UnpackError("Stopped: the worker is stopping"));
  opts.signal?.addEventListener("abort", onStop, { once: true });
  if (opts.signal?.aborted) onStop();
  const signal = controller.signal;
  try {
    await unpack(pkg, dir, new Budget(opts.limits), signal);
    await checkLinksResolveInside(dir, signal);
  } catch (e) {
    // Whatever a cancelled stream threw, the cause is the abort.
    const cause = signal.aborted ? signal.reason : e;
    await emptyDirectory(dir);
    throw cause;
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener("abort", onStop);
  }
}

/** Counts members and expanded bytes against the limits. */
class Budget {
  private entries = 0;
  private declared = 0;
  private streamed = 0;
  constructor(private readonly limits: UnpackLimits) {}

  entry(): void {
    if (++this.entries > this.limits.maxEntries) this.tooManyEntries();
  }

  entryCount(n: number): void {
    if (n > this.limits.maxEntries) this.tooManyEntries();
  }

  /** Sizes the archive announces (tar headers, zip central directory): refused before any data is read. */
  declare(bytes: number): void {
    this.declared += bytes;
    if (this.declared > this.limits.maxBytes) this.tooBig();
  }

  /** Bytes actually produced by decompression. */
  produced(bytes: number): void {
    this.streamed += bytes;
    if (this.streamed > this.limits.maxBytes) this.tooBig();
  }

  private tooBig(): never {
    throw new UnpackLimitError(`Package expands to more than PKG_MAX_UNPACKED_SIZE (${this.limits.maxBytesText})`);
  }

  private tooManyEntries(): never {
    throw new UnpackLimitError(`Package has more than PKG_MAX_ENTRIES (${this.limits.maxEntries}) members`);
  }
}

/** Throws when the member could write outside the extraction directory; `symlinks` holds the links seen so far. */
function checkMember(m: Member, symlinks: Set<string>): void {
  const name = m.name.replace(/\/+$/, "");
  if (m.name.startsWith("/")) throw new UnpackError(`Refusing member with absolute path: ${m.name}`);
  if (name.split("/").includes("..")) throw new UnpackError(`Refusing member with '..' in its path: ${m.name}`);
  if (m.kind === "other") throw new UnpackError(`Refusing special file member: ${m.name}`);
  // A directory member named like an earlier link would have its mode set through the link.
  if (underSymlink(name, symlinks) || (m.kind === "dir" && symlinks.has(name))) {
    throw new UnpackError(`Refusing member under a symlink of the same archive: ${m.name}`);
  }
  if (m.kind === "symlink" || m.kind === "hardlink") {
    const target = m.linkTarget ?? "";
    // A symlink target is relative to the link's own directory; a hard link's to the archive root.
    const from = m.kind === "symlink" ? posix.dirname(name) : ".";
    const resolved = posix.normalize(posix.join(from, target));
    if (target === "" || target.startsWith("/") || resolved === ".." || resolved.startsWith("../")) {
      throw new UnpackError(`Refusing ${m.kind} that escapes the package directory: ${m.name} -> ${target}`);
    }
    // link(2) follows symlinks in the target path, so a hard link through an archive symlink could reach anywhere.
    if (m.kind === "hardlink" && (symlinks.has(resolved) || underSymlink(resolved, symlinks))) {
      throw new UnpackError(`Refusing hardlink through a symlink of the same archive: ${m.name} -> ${target}`);
    }
    if (m.kind === "symlink") symlinks.add(name);
  }
}

function underSymlink(name: string, symlinks: Set<string>): boolean {
  const parts = name.split("/");
  for (let i = 1; i < parts.length; i++) if (symlinks.has(parts.slice(0, i).join("/"))) return true;
  return false;
}

/** Throws the first member (in order) that could write outside the extraction directory. */
export function checkMembers(members: Member[]): void {
  const symlinks = new Set<string>();
  for (const m of members) checkMember(m, symlinks);
}

// ---------------------------------------------------------------------------------------------------------
// Writing members. Files are created with O_EXCL|O_NOFOLLOW, so a write never follows a link; a name that
// exists already (a later member of the same name) is replaced, as tar and unzip do.

async function writeFileMember(
  path: string,
  mode: number,
  data: AsyncIterable<Uint8Array>,
  signal: AbortSignal,
  mtime?: Date,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const fh = await createExclusive(path, mode);
  try {
    for await (const chunk of abortable(data, signal)) await fh.write(chunk);
    if (mtime) await fh.utimes(mtime, mtime);
  } finally {
    await fh.close();
  }
}

/** Iterates `source` until it ends or `signal` fires (then the source is closed and the reason thrown). */
async function* abortable<T>(source: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  const stopped = aborted(signal);
  stopped.catch(() => undefined);
  try {
    for (;;) {
      const next = await Promise.race([it.next(), stopped]);
      if (next.done) return;
      yield next.value;
    }
  } finally {
    if (signal.aborted) void it.return?.();
  }
}

async function createExclusive(path: string, mode: number): Promise<FileHandle> {
  const flags = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW;
  try {
    return await open(path, flags, mode);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    await removeExisting(path);
    return await open(path, flags, mode);
  }
}

async function removeExisting(path: string): Promise<void> {
  const st = await lstat(path);
  if (st.isDirectory()) throw new UnpackError(`Cannot replace directory with a member of the same name: ${path}`);
  await unlink(path);
}

async function writeSymlink(path: string, target: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  try {
    await symlink(target, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    await removeExisting(path);
    await symlink(target, path);
  }
}

async function writeDirectory(path: string, mode: number): Promise<void> {
  if ((await lstat(path).catch(() => undefined))?.isSymbolicLink()) throw new UnpackError(`Refusing directory member over a symlink: ${path}`);
  await mkdir(path, { recursive: true });
  // Owner rwx always, so the members inside can be written. (Never follows a link: checkMember refused any.)
  await chmod(path, mode | 0o700);
}

/** Leaves `dir` empty after a refused or failed unpack. */
async function emptyDirectory(dir: string): Promise<void> {
  const handle = await opendir(dir).catch(() => undefined);
  if (!handle) return;
  for await (const entry of handle) await rm(join(dir, entry.name), { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------------------
// tar

async function unpackTar(pkg: string, dir: string, budget: Budget, signal: AbortSignal): Promise<void> {
  const stream = await decompressedTar(pkg, signal);
  const symlinks = new Set<string>();
  let failure: unknown;
  // Stops the member being written, whether the unpack was cancelled or the archive refused mid-stream.
  const halt = new AbortController();
  const onAbort = () => fail(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  const fail = (e: unknown) => {
    failure ??= e;
    if (!halt.signal.aborted) halt.abort(failure);
  };
  let writing: Promise<void> = Promise.resolve();
  const parser = new tar.Parser({
    strict: true,
    // Called as each header is parsed, before its body is read: the checks and the limits apply here.
    filter: (_path, stat) => {
      if (failure !== undefined) return false;
      const entry = stat as tar.ReadEntry;
      try {
        budget.entry();
        budget.declare(entry.size ?? 0);
        checkMember({ name: entry.path, kind: tarKind(entry.type), linkTarget: entry.linkpath }, symlinks);
      } catch (e) {
        fail(e);
        return false;
      }
      return true;
    },
  });
  parser.on("entry", (entry: tar.ReadEntry) => {
    writing = writing
      .then(() => (failure === undefined ? writeTarEntry(dir, entry, halt.signal) : undefined))
      .catch(fail)
      .finally(() => entry.resume());
  });
  parser.on("error", (e: Error) => fail(new UnpackError(`Cannot read ${pkg}: ${e.message}`)));
  const parsed = new Promise<void>((resolve) => {
    parser.on("end", resolve);
    parser.on("close", resolve);
    parser.on("abort", resolve);
  });
  let first = true;
  try {
    for await (const chunk of stream) {
      if (failure !== undefined) break;
      if (first) refuseNestedCompression(pkg, chunk);
      first = false;
      budget.produced(chunk.length);
      if (!parser.write(chunk)) await drained(parser, halt.signal);
    }
  } catch (e) {
    fail(e);
  }
  if (failure === undefined) {
    parser.end();
    await Promise.race([parsed, halted(halt.signal)]);
  }
  await writing;
  signal.removeEventListener("abort", onAbort);
  if (failure !== undefined) throw failure;
}

/** node-tar would inflate a second gzip layer itself, synchronously and unbounded; GNU tar refuses it too. */
function refuseNestedCompression(pkg: string, chunk: Uint8Array): void {
  if ((chunk[0] === 0x1f && chunk[1] === 0x8b) || (chunk[0] === 0x28 && chunk[1] === 0xb5 && chunk[2] === 0x2f && chunk[3] === 0xfd)) {
    throw new UnpackError(`Cannot read ${pkg}: not a tar archive (compressed twice)`);
  }
}

/** Waits for the parser to want more input, or for the unpack to be halted (the caller then stops). */
function drained(parser: tar.Parser, halt: AbortSignal): Promise<void> {
  if (halt.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      parser.off("drain", done);
      parser.off("error", done);
      halt.removeEventListener("abort", done);
      resolve();
    };
    parser.on("drain", done);
    parser.on("error", done);
    halt.addEventListener("abort", done, { once: true });
  });
}

function halted(halt: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (halt.aborted) resolve();
    halt.addEventListener("abort", () => resolve(), { once: true });
  });
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

async function writeTarEntry(dir: string, entry: tar.ReadEntry, signal: AbortSignal): Promise<void> {
  const path = join(dir, entry.path);
  const mode = (entry.mode ?? 0o644) & 0o777;
  switch (tarKind(entry.type)) {
    case "dir":
      return writeDirectory(path, mode);
    case "file":
      return writeFileMember(path, mode, entry as AsyncIterable<Uint8Array>, signal, entry.mtime);
    case "symlink":
      return writeSymlink(path, entry.linkpath!);
    case "hardlink":
      await mkdir(dirname(path), { recursive: true });
      await unlink(path).catch(() => undefined);
      return link(join(dir, entry.linkpath!), path);
    default:
      throw new UnpackError(`Refusing special file member: ${entry.path}`);
  }
}

function tarKind(type: string): MemberKind {
  switch (type) {
    case "File":
    case "OldFile":
    case "ContiguousFile":
      return "file";
    case "Directory":
      return "dir";
    case "SymbolicLink":
      return "symlink";
    case "Link":
      return "hardlink";
    default:
      return "other";
  }
}

const MAGIC: [bytes: number[], kind: "gzip" | "zstd" | "bzip2" | "xz"][] = [
  [[0x1f, 0x8b], "gzip"],
  [[0x28, 0xb5, 0x2f, 0xfd], "zstd"],
  [[0x42, 0x5a, 0x68], "bzip2"],
  [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], "xz"],
];

/**
 * The package as a stream of plain tar bytes. gzip, zstd and brotli (`.br`, which has no magic) go through
 * node:zlib streams; bzip2 and xz through the system tools, their stdout streamed (so the pipe's back-pressure
 * bounds them) and the process killed when the stream is abandoned or the signal fires.
 */
async function decompressedTar(pkg: string, signal: AbortSignal): Promise<AsyncIterable<Uint8Array>> {
  const head = Buffer.alloc(6);
  const fh = await open(pkg, "r");
  try {
    await fh.read(head, 0, 6, 0);
  } finally {
    await fh.close();
  }
  const kind = MAGIC.find(([magic]) => magic.every((b, i) => head[i] === b))?.[1];
  if (kind === "bzip2" || kind === "xz") return decompressorProcess(pkg, kind, signal);
  const file = createReadStream(pkg, { highWaterMark: CHUNK });
  const zlibStream =
    kind === "gzip" ? createGunzip({ chunkSize: CHUNK })
    : kind === "zstd" ? createZstdDecompress({ chunkSize: CHUNK })
    : pkg.endsWith(".br") ? createBrotliDecompress({ chunkSize: CHUNK })
    : undefined;
  const stream: Readable = zlibStream ? file.pipe(zlibStream) : file;
  if (zlibStream) file.on("error", (e) => zlibStream.destroy(e));
  const onAbort = () => {
    file.destroy();
    stream.destroy(signal.reason);
  };
  signal.addEventListener("abort", onAbort, { once: true });
  return (async function* () {
    try {
      for await (const chunk of stream) yield chunk as Uint8Array;
    } catch (e) {
      if (signal.aborted) throw signal.reason;
      throw new UnpackError(`Cannot read ${pkg}: ${(e as Error).message}`);
    } finally {
      signal.removeEventListener("abort", onAbort);
      file.destroy();
      stream.destroy();
    }
  })();
}

async function* decompressorProcess(pkg: string, tool: "bzip2" | "xz", signal: AbortSignal): AsyncGenerator<Uint8Array> {
  if (!Bun.which(tool)) throw new UnpackError(`Cannot unpack ${pkg}: ${tool} is not installed`);
  const proc = Bun.spawn([tool, "-dc", "--", pkg], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const kill = () => proc.kill("SIGKILL");
  signal.addEventListener("abort", kill, { once: true });
  const stderr = new Response(proc.stderr).text();
  let finished = false;
  try {
    // node-tar needs Buffers (it reads header fields with Buffer#toString).
    for await (const chunk of proc.stdout) yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    finished = true;
  } finally {
    signal.removeEventListener("abort", kill);
    if (!finished) kill();
    const code = await proc.exited;
    const message = (await stderr).slice(0, 2000).trim();
    signal.throwIfAborted();
    if (finished && code !== 0) throw new UnpackError(`Cannot unpack ${pkg}: ${message || `${tool} exited with status ${code}`}`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// zip: read with positioned async reads; members inflated by node:zlib streams, each bounded by its declared size.

interface ZipEntry extends Member {
  method: number;
  flags: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
  /** Permission bits; only archives made on Unix carry them. */
  mode: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const HOST_UNIX = 3;
const MSDOS_DIRECTORY = 0x10;

async function unpackZip(pkg: string, dir: string, budget: Budget, signal: AbortSignal): Promise<void> {
  const fh = await open(pkg, "r");
  try {
    const entries = await readCentralDirectory(fh, pkg, budget);
    for (const e of entries) budget.declare(e.uncompressedSize);
    for (const e of entries) if (e.kind === "symlink") e.linkTarget = await readLinkTarget(fh, pkg, e, signal);
    checkMembers(entries);
    for (const e of entries) {
      signal.throwIfAborted();
      await extractZipEntry(fh, pkg, e, dir, budget, signal);
    }
  } finally {
    await fh.close();
  }
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

async function readCentralDirectory(fh: FileHandle, pkg: string, budget: Budget): Promise<ZipEntry[]> {
  const size = (await fh.stat()).size;
  const tailStart = Math.max(0, size - 22 - 0xffff);
  const tail = await readAt(fh, tailStart, size - tailStart);
  const eocd = findEocd(tail);
  if (eocd < 0) throw new UnpackError(`Cannot read ${pkg}: not a zip archive`);
  const count = tail.readUInt16LE(eocd + 10);
  const cdSize = tail.readUInt32LE(eocd + 12);
  const cdOffset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdOffset === 0xffffffff || cdSize === 0xffffffff) {
    throw new UnpackError(`Cannot read ${pkg}: ZIP64 archives are not supported`);
  }
  budget.entryCount(count);
  if (cdOffset + cdSize > size) throw new UnpackError(`Cannot read ${pkg}: corrupt central directory`);
  const cd = await readAt(fh, cdOffset, cdSize);
  const entries: ZipEntry[] = [];
  let offset = 0;
  for (let i = 0; i < count; i++) {
    if (offset + 46 > cd.length || cd.readUInt32LE(offset) !== CENTRAL_SIGNATURE) {
      throw new UnpackError(`Cannot read ${pkg}: corrupt central directory`);
    }
    const nameLength = cd.readUInt16LE(offset + 28);
    const extraLength = cd.readUInt16LE(offset + 30);
    const commentLength = cd.readUInt16LE(offset + 32);
    const name = cd.subarray(offset + 46, offset + 46 + nameLength).toString("utf8");
    const host = cd.readUInt16LE(offset + 4) >> 8;
    const external = cd.readUInt32LE(offset + 38);
    const { kind, mode } = zipKind(name, host, external);
    const entry: ZipEntry = {
      name,
      kind,
      method: cd.readUInt16LE(offset + 10),
      flags: cd.readUInt16LE(offset + 8),
      compressedSize: cd.readUInt32LE(offset + 20),
      uncompressedSize: cd.readUInt32LE(offset + 24),
      localHeaderOffset: cd.readUInt32LE(offset + 42),
      mode,
    };
    if (entry.compressedSize === 0xffffffff || entry.uncompressedSize === 0xffffffff || entry.localHeaderOffset === 0xffffffff) {
      throw new UnpackError(`Cannot read ${pkg}: ZIP64 archives are not supported`);
    }
    entries.push(entry);
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/**
 * A member's type. The Unix mode lives in the top half of the external attributes. Info-ZIP and Python's
 * zipfile write host 3 (Unix) with `st_mode << 16`; but unzip also honours a symlink mode written by other
 * hosts, so a symlink is recognised whatever the host. Permissions and other file types are taken only from
 * Unix-made archives; otherwise a trailing `/` or the MS-DOS directory bit makes a directory.
 */
function zipKind(name: string, host: number, external: number): { kind: MemberKind; mode: number } {
  const unixMode = external >>> 16;
  const type = unixMode & S_IFMT;
  if (type === S_IFLNK) return { kind: "symlink", mode: 0 };
  const isDir = name.endsWith("/") || (external & MSDOS_DIRECTORY) !== 0 || (host === HOST_UNIX && type === S_IFDIR);
  if (host !== HOST_UNIX) return { kind: isDir ? "dir" : "file", mode: 0 };
  if (type !== 0 && type !== S_IFREG && type !== S_IFDIR) return { kind: "other", mode: 0 };
  return { kind: isDir ? "dir" : "file", mode: unixMode & 0o777 };
}

function findEocd(data: Buffer): number {
  for (let i = data.length - 22; i >= 0; i--) if (data.readUInt32LE(i) === EOCD_SIGNATURE) return i;
  return -1;
}

async function readLinkTarget(fh: FileHandle, pkg: string, e: ZipEntry, signal: AbortSignal): Promise<string> {
  if (e.uncompressedSize > MAX_LINK_TARGET) {
    throw new UnpackError(`Refusing symlink with a target longer than ${MAX_LINK_TARGET} bytes: ${e.name}`);
  }
  const parts: Uint8Array[] = [];
  for await (const chunk of await entryData(fh, pkg, e, signal)) parts.push(chunk);
  return Buffer.concat(parts).toString("utf8");
}

/**
 * The member's content, decompressed as a stream. Output beyond the size the central directory declares is
 * refused, so the declared sizes (already counted against the limit) bound what is inflated.
 */
async function entryData(fh: FileHandle, pkg: string, e: ZipEntry, signal: AbortSignal): Promise<AsyncIterable<Uint8Array>> {
  if (e.flags & 1) throw new UnpackError(`Encrypted zip member not supported: ${e.name}`);
  if (e.method !== 0 && e.method !== 8) throw new UnpackError(`Unsupported zip compression method ${e.method}: ${e.name}`);
  const local = await readAt(fh, e.localHeaderOffset, 30);
  if (local.length < 30 || local.readUInt32LE(0) !== LOCAL_SIGNATURE) throw new UnpackError(`Corrupt zip member: ${e.name}`);
  const start = e.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  if (e.compressedSize === 0) return (async function* () {})();
  const file = createReadStream(pkg, { start, end: start + e.compressedSize - 1, highWaterMark: CHUNK });
  const inflate = e.method === 8 ? createInflateRaw({ chunkSize: CHUNK }) : undefined;
  const stream: Readable = inflate ? file.pipe(inflate) : file;
  if (inflate) file.on("error", (err) => inflate.destroy(err));
  const onAbort = () => {
    file.destroy();
    stream.destroy(signal.reason);
  };
  signal.addEventListener("abort", onAbort, { once: true });
  return (async function* () {
    let produced = 0;
    try {
      for await (const chunk of stream) {
        produced += (chunk as Uint8Array).length;
        if (produced > e.uncompressedSize) {
          throw new UnpackError(`Corrupt zip member: ${e.name} expands past its declared size of ${e.uncompressedSize} bytes`);
        }
        yield chunk as Uint8Array;
      }
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      if (err instanceof UnpackError) throw err;
      throw new UnpackError(`Cannot read ${pkg}: ${e.name}: ${(err as Error).message}`);
    } finally {
      signal.removeEventListener("abort", onAbort);
      file.destroy();
      stream.destroy();
    }
  })();
}

async function extractZipEntry(fh: FileHandle, pkg: string, e: ZipEntry, dir: string, budget: Budget, signal: AbortSignal): Promise<void> {
  const target = join(dir, e.name);
  if (e.kind === "dir") return writeDirectory(target, e.mode || 0o755);
  if (e.kind === "symlink") return writeSymlink(target, e.linkTarget!);
  const data = await entryData(fh, pkg, e, signal);
  const counted = (async function* () {
    for await (const chunk of data) {
      budget.produced(chunk.length);
      yield chunk;
    }
  })();
  await writeFileMember(target, e.mode || 0o644, counted, signal);
}

// ---------------------------------------------------------------------------------------------------------
// Containment on the real file system

/** Every symlink created must resolve, following all links on the way, to a place inside `dir`. */
async function checkLinksResolveInside(dir: string, signal: AbortSignal): Promise<void> {
  const root = await realpath(dir);
  const walk = async (path: string): Promise<void> => {
    const entries = (await readdir(path, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      signal.throwIfAborted();
      const full = join(path, entry.name);
      if (entry.isSymbolicLink()) {
        const resolved = await resolveLink(full);
        if (!isInside(root, resolved)) {
          const rel = full.slice(root.length + 1);
          throw new UnpackError(`Refusing symlink that resolves outside the package directory: ${rel} -> ${await readlink(full)}`);
        }
      } else if (entry.isDirectory()) await walk(full);
    }
  };
  await walk(root);
}

export function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * Where a link leads. A dangling link (a component is missing) is resolved as far as the file system goes,
 * and the rest lexically: the kernel cannot follow it past the missing component until someone creates it.
 */
async function resolveLink(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ELOOP") throw new UnpackError(`Refusing symlink that cannot be resolved (a loop): ${basename(path)}`);
    if (code !== "ENOENT" && code !== "ENOTDIR") throw e;
  }
  const target = await readlink(path);
  const parent = await realpath(dirname(path));
  return resolveExisting(target.startsWith("/") ? target : `${parent}/${target}`);
}

/** realpath of the longest existing prefix of `path` (not normalised first), the remaining components joined on. */
async function resolveExisting(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ELOOP") throw new UnpackError(`Refusing symlink that cannot be resolved (a loop): ${path}`);
    if (code !== "ENOENT" && code !== "ENOTDIR") throw e;
  }
  const parent = dirname(path);
  if (parent === path) return path;
  return join(await resolveExisting(parent), basename(path));
}
