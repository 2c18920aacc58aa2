/**
 * Unpacks a pkg job's package into its private directory, chosen by file name as the original does:
 * `*.zip`, `*.tar`, `*.tar.*`; anything else is refused.
 *
 * The original leaves path safety to GNU tar and Info-ZIP. We check every member *before* writing anything and
 * refuse the whole archive when a member has an absolute path or a `..` component, is a symlink or hard link
 * whose target leaves the directory, lies under a symlink from the same archive, or is a device/fifo.
 * After extraction every symlink is checked again against the real directory.
 */
import {
  chmodSync,
  closeSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, posix, resolve, sep } from "node:path";
import { inflateRawSync } from "node:zlib";
import * as tar from "tar";

export class UnpackError extends Error {
  override name = "UnpackError";
}

type MemberKind = "file" | "dir" | "symlink" | "hardlink" | "other";

interface Member {
  name: string;
  kind: MemberKind;
  linkTarget?: string;
}

export interface UnpackOptions {
  timeoutSeconds: number;
  /** Use the built-in zip reader even when `unzip` is installed (tests). */
  builtinZip?: boolean;
}

export async function unpackPackage(pkg: string, dir: string, opts: UnpackOptions): Promise<void> {
  const base = posix.basename(pkg);
  let work: Promise<void>;
  if (base.endsWith(".zip")) work = unpackZip(pkg, dir, opts);
  else if (base.endsWith(".tar") || /\.tar\.[^/]*$/.test(base)) work = unpackTar(pkg, dir);
  else throw new UnpackError(`Don't know how to unpack ${pkg}`);
  await withTimeout(work, opts.timeoutSeconds);
  checkLinksAfterwards(dir);
}

async function withTimeout(work: Promise<void>, seconds: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UnpackError(`Timed out after ${seconds} seconds`)), seconds * 1000);
  });
  try {
    await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Throws for the first member that could write outside the extraction directory. */
export function checkMembers(members: Member[]): void {
  const symlinks = new Set<string>();
  for (const m of members) {
    const name = m.name.replace(/\/+$/, "");
    if (m.name.startsWith("/")) throw new UnpackError(`Refusing member with absolute path: ${m.name}`);
    if (name.split("/").includes("..")) throw new UnpackError(`Refusing member with '..' in its path: ${m.name}`);
    if (m.kind === "other") throw new UnpackError(`Refusing special file member: ${m.name}`);
    const parts = name.split("/");
    for (let i = 1; i < parts.length; i++) {
      if (symlinks.has(parts.slice(0, i).join("/"))) {
        throw new UnpackError(`Refusing member under a symlink of the same archive: ${m.name}`);
      }
    }
    if (m.kind === "symlink" || m.kind === "hardlink") {
      const target = m.linkTarget ?? "";
      // A symlink target is relative to the link's own directory; a hard link's to the archive root.
      const from = m.kind === "symlink" ? posix.dirname(name) : ".";
      const resolved = posix.normalize(posix.join(from, target));
      if (target.startsWith("/") || resolved === ".." || resolved.startsWith("../")) {
        throw new UnpackError(`Refusing ${m.kind} that escapes the package directory: ${m.name} -> ${target}`);
      }
      if (m.kind === "symlink") symlinks.add(name);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// tar

async function unpackTar(original: string, dir: string): Promise<void> {
  const pkg = await decompressForTar(original);
  const members: Member[] = [];
  try {
    await tar.t({
      file: pkg,
      strict: true,
      onReadEntry: (entry) => {
        members.push({ name: entry.path, kind: tarKind(entry.type), linkTarget: entry.linkpath });
      },
    });
  } catch (e) {
    throw new UnpackError(`Cannot read ${pkg}: ${(e as Error).message}`);
  }
  checkMembers(members);
  try {
    await tar.x({ file: pkg, cwd: dir, strict: true, preservePaths: false });
  } catch (e) {
    throw new UnpackError(`Cannot unpack ${pkg} to ${dir}: ${(e as Error).message}`);
  }
}

// node-tar reads plain, gzip, brotli and zstd archives itself; bzip2 and xz go through the system tools.
const EXTERNAL_DECOMPRESSORS: [magic: number[], tool: string][] = [
  [[0x42, 0x5a, 0x68], "bzip2"],
  [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], "xz"],
];

async function decompressForTar(pkg: string): Promise<string> {
  const head = Buffer.alloc(6);
  const fd = openSync(pkg, "r");
  try {
    readSync(fd, head, 0, 6, 0);
  } finally {
    closeSync(fd);
  }
  const match = EXTERNAL_DECOMPRESSORS.find(([magic]) => magic.every((b, i) => head[i] === b));
  if (!match) return pkg;
  const tool = match[1];
  if (!Bun.which(tool)) throw new UnpackError(`Cannot unpack ${pkg}: ${tool} is not installed`);
  const out = `${pkg}.decompressed.tar`;
  const proc = Bun.spawn([tool, "-dc", pkg], { stdin: "ignore", stdout: Bun.file(out), stderr: "pipe" });
  const [err, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new UnpackError(`Cannot unpack ${pkg}: ${err.trim()}`);
  return out;
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

// ---------------------------------------------------------------------------------------------------------
// zip

interface ZipEntry extends Member {
  method: number;
  flags: number;
  compressedSize: number;
  localHeaderOffset: number;
  mode: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;

async function unpackZip(pkg: string, dir: string, opts: UnpackOptions): Promise<void> {
  const data = readFileSync(pkg);
  const entries = readCentralDirectory(data, pkg);
  for (const e of entries) if (e.kind === "symlink") e.linkTarget = entryData(data, e).toString("utf8");
  checkMembers(entries);
  if (!opts.builtinZip && Bun.which("unzip")) await runUnzip(pkg, dir, opts.timeoutSeconds);
  else extractZip(data, entries, dir);
}

function readCentralDirectory(data: Buffer, pkg: string): ZipEntry[] {
  const eocd = findEocd(data);
  if (eocd < 0) throw new UnpackError(`Cannot read ${pkg}: not a zip archive`);
  const count = data.readUInt16LE(eocd + 10);
  let offset = data.readUInt32LE(eocd + 16);
  if (count === 0xffff || offset === 0xffffffff) throw new UnpackError(`Cannot read ${pkg}: ZIP64 archives are not supported`);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (offset + 46 > data.length || data.readUInt32LE(offset) !== CENTRAL_SIGNATURE) {
      throw new UnpackError(`Cannot read ${pkg}: corrupt central directory`);
    }
    const madeBy = data.readUInt16LE(offset + 4) >> 8;
    const nameLength = data.readUInt16LE(offset + 28);
    const extraLength = data.readUInt16LE(offset + 30);
    const commentLength = data.readUInt16LE(offset + 32);
    const external = data.readUInt32LE(offset + 38);
    const name = data.subarray(offset + 46, offset + 46 + nameLength).toString("utf8");
    // Unix permissions and file type live in the top half of the external attributes (host system 3 = Unix).
    const mode = madeBy === 3 ? external >>> 16 : 0;
    const type = mode & S_IFMT;
    let kind: MemberKind = name.endsWith("/") ? "dir" : "file";
    if (type === S_IFLNK) kind = "symlink";
    else if (type !== 0 && type !== S_IFREG && type !== S_IFDIR) kind = "other";
    entries.push({
      name,
      kind,
      method: data.readUInt16LE(offset + 10),
      flags: data.readUInt16LE(offset + 8),
      compressedSize: data.readUInt32LE(offset + 20),
      localHeaderOffset: data.readUInt32LE(offset + 42),
      mode: mode & 0o777,
    });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

function findEocd(data: Buffer): number {
  const stop = Math.max(0, data.length - 22 - 0xffff);
  for (let i = data.length - 22; i >= stop; i--) if (data.readUInt32LE(i) === EOCD_SIGNATURE) return i;
  return -1;
}

function entryData(data: Buffer, e: ZipEntry): Buffer {
  const at = e.localHeaderOffset;
  if (data.readUInt32LE(at) !== LOCAL_SIGNATURE) throw new UnpackError(`Corrupt zip member: ${e.name}`);
  if (e.flags & 1) throw new UnpackError(`Encrypted zip member not supported: ${e.name}`);
  const start = at + 30 + data.readUInt16LE(at + 26) + data.readUInt16LE(at + 28);
  const raw = data.subarray(start, start + e.compressedSize);
  if (e.method === 0) return raw;
  if (e.method === 8) return inflateRawSync(raw);
  throw new UnpackError(`Unsupported zip compression method ${e.method}: ${e.name}`);
}

function extractZip(data: Buffer, entries: ZipEntry[], dir: string): void {
  for (const e of entries) {
    const target = join(dir, e.name);
    if (e.kind === "dir") {
      mkdirSync(target, { recursive: true });
      continue;
    }
    mkdirSync(dirname(target), { recursive: true });
    const content = entryData(data, e);
    if (e.kind === "symlink") symlinkSync(content.toString("utf8"), target);
    else {
      writeFileSync(target, content);
      if (e.mode) chmodSync(target, e.mode);
    }
  }
}

async function runUnzip(pkg: string, dir: string, timeoutSeconds: number): Promise<void> {
  const proc = Bun.spawn(["unzip", "-o", "-qq", pkg, "-d", dir], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: timeoutSeconds * 1000,
    killSignal: "SIGKILL",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new UnpackError(`Cannot unpack ${pkg} to ${dir}: ${(out + err).trim()}`);
}

// ---------------------------------------------------------------------------------------------------------

/** Second line of defence: every symlink actually created must resolve inside `dir`. */
function checkLinksAfterwards(dir: string): void {
  const root = realpathSync(dir);
  const walk = (path: string): void => {
    for (const name of readdirSync(path)) {
      const full = join(path, name);
      const st = lstatSync(full);
      if (st.isSymbolicLink()) {
        const target = resolve(dirname(full), readlinkSync(full));
        if (target !== root && !target.startsWith(root + sep)) {
          throw new UnpackError(`Refusing symlink that escapes the package directory: ${full.slice(root.length + 1)}`);
        }
      } else if (st.isDirectory()) walk(full);
    }
  };
  walk(root);
}

