/**
 * A deterministic tar.gz writer for release bundles.
 *
 * Guarantee: the same entries (paths, modes, contents, link targets) give the same bytes, whoever builds
 * them and whenever. To make that true every header carries the same fixed fields: uid/gid 0, empty
 * owner names, one mtime for every entry (SOURCE_DATE_EPOCH, else 0), entries sorted by path, and the
 * gzip header has no timestamp, no file name and a fixed OS byte. GNU tar and bsdtar read the result.
 */
import { gzipSync } from "node:zlib";

export type TarEntry =
  | { kind: "file"; path: string; mode: number; data: Uint8Array }
  | { kind: "dir"; path: string; mode: number }
  | { kind: "symlink"; path: string; target: string };

const BLOCK = 512;
const encoder = new TextEncoder();

/** The mtime stamped on every entry: `SOURCE_DATE_EPOCH` when set (the reproducible-builds convention), else 0. */
export function fixedMtime(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === "") return 0;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`SOURCE_DATE_EPOCH must be a whole number of seconds, got ${raw}`);
  return value;
}

/** Write `value` as a zero-padded octal field of `width` bytes (the last byte is the NUL terminator). */
function octal(header: Uint8Array, offset: number, width: number, value: number): void {
  const text = value.toString(8).padStart(width - 1, "0");
  if (text.length > width - 1) throw new Error(`tar field overflow: ${value} does not fit ${width - 1} octal digits`);
  header.set(encoder.encode(text), offset);
  header[offset + width - 1] = 0;
}

function text(header: Uint8Array, offset: number, width: number, value: string): void {
  const bytes = encoder.encode(value);
  if (bytes.length > width) throw new Error(`tar field overflow: "${value}" is longer than ${width} bytes`);
  header.set(bytes, offset);
}

/** Split a path into the ustar `prefix` (≤155) and `name` (≤100) fields. */
function splitPath(path: string): { prefix: string; name: string } {
  if (encoder.encode(path).length <= 100) return { prefix: "", name: path };
  const cut = path.lastIndexOf("/", 155);
  if (cut <= 0 || encoder.encode(path.slice(cut + 1)).length > 100) throw new Error(`path too long for ustar: ${path}`);
  return { prefix: path.slice(0, cut), name: path.slice(cut + 1) };
}

function header(entry: TarEntry, mtime: number): Uint8Array {
  const block = new Uint8Array(BLOCK);
  const path = entry.kind === "dir" && !entry.path.endsWith("/") ? `${entry.path}/` : entry.path;
  const { prefix, name } = splitPath(path);
  text(block, 0, 100, name);
  octal(block, 100, 8, entry.kind === "symlink" ? 0o777 : entry.mode);
  octal(block, 108, 8, 0); // uid
  octal(block, 116, 8, 0); // gid
  octal(block, 124, 12, entry.kind === "file" ? entry.data.length : 0);
  octal(block, 136, 12, mtime);
  block.fill(0x20, 148, 156); // checksum is computed with its own field as spaces
  block[156] = entry.kind === "file" ? 0x30 : entry.kind === "dir" ? 0x35 : 0x32;
  if (entry.kind === "symlink") text(block, 157, 100, entry.target);
  text(block, 257, 6, "ustar");
  text(block, 263, 2, "00");
  octal(block, 329, 8, 0); // devmajor
  octal(block, 337, 8, 0); // devminor
  text(block, 345, 155, prefix);
  let sum = 0;
  for (const byte of block) sum += byte;
  const check = sum.toString(8).padStart(6, "0");
  block.set(encoder.encode(check), 148);
  block[154] = 0;
  block[155] = 0x20;
  return block;
}

/** The uncompressed tar stream for `entries`, sorted by path so input order never matters. */
export function tarBytes(entries: TarEntry[], mtime = fixedMtime()): Uint8Array {
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const parts: Uint8Array[] = [];
  let size = 0;
  for (const entry of sorted) {
    const head = header(entry, mtime);
    parts.push(head);
    size += BLOCK;
    if (entry.kind === "file") {
      parts.push(entry.data);
      const padded = Math.ceil(entry.data.length / BLOCK) * BLOCK;
      if (padded > entry.data.length) parts.push(new Uint8Array(padded - entry.data.length));
      size += padded;
    }
  }
  parts.push(new Uint8Array(BLOCK * 2)); // end-of-archive marker
  size += BLOCK * 2;
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** gzip with a fixed header: MTIME 0 (zlib's default when no name/time is given) and OS byte 3 (Unix). */
export function gzipDeterministic(data: Uint8Array): Uint8Array {
  const gz = new Uint8Array(gzipSync(data, { level: 6 }));
  gz[4] = 0;
  gz[5] = 0;
  gz[6] = 0;
  gz[7] = 0;
  gz[9] = 3; // zlib writes the build host's OS code here (19 on macOS), which would differ between builders
  return gz;
}

export function tarGz(entries: TarEntry[], mtime = fixedMtime()): Uint8Array {
  return gzipDeterministic(tarBytes(entries, mtime));
}
