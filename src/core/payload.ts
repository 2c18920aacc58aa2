/**
 * Fetches a job's S3 payload into its run directory.
 *
 * The payload names are relative to the realm's `s3_payloads` area and are matched as S3 *prefixes*, one
 * level deep: payload `demo/x.sh` also fetches `demo/x.sh.bak`, and a trailing `/` names a folder. Local
 * files are named by the key's basename only, so an S3 key can never place a file outside the target dir.
 *
 * v2 (default): a string or list; each item goes into its own fresh `pld-<n>-XXXX.d/` dir (n from 0),
 * files sorted within the item, items in the order given; sub-prefixes are ignored.
 * v1 (deprecated): one string; any sub-prefix is an error; files land directly in the target dir, all sorted.
 */
import { mkdirSync } from "node:fs";
import { open } from "node:fs/promises";
import { basename, join } from "node:path";
import { randomBytes } from "node:crypto";
import { parseS3Uri, s3Uri, type ObjectInfo, type ObjectStore } from "../ports/index.ts";

export type PayloadDownloader = "v1" | "v2";

export interface PayloadRequest {
  payload: unknown;
  /** The realm's `s3_payloads` URI. */
  s3Payloads: string;
  /** Existing local directory (the run directory). */
  localDir: string;
  /** Largest object accepted, in bytes; undefined = no cap. */
  maxSize?: number;
  /** The cap as configured (e.g. `10M`), quoted in the error. */
  maxSizeText?: string;
  downloader: PayloadDownloader;
  /** Pause after downloading, to dodge "Text file busy" when executing the files at once. */
  settlingSeconds: number;
}

export class PayloadError extends Error {
  override name = "PayloadError";
}

export async function downloadPayload(objects: ObjectStore, req: PayloadRequest): Promise<string[]> {
  const files = req.downloader === "v1" ? await downloadV1(objects, req) : await downloadV2(objects, req);
  if (req.settlingSeconds > 0) await Bun.sleep(req.settlingSeconds * 1000);
  return files;
}

async function downloadV2(objects: ObjectStore, req: PayloadRequest): Promise<string[]> {
  const items = payloadItems(req.payload, true);
  const local: string[] = [];
  for (const [n, item] of items.entries()) {
    const dir = makeUniqueDir(req.localDir, `pld-${n}-`, ".d");
    const { objects: found } = await listLevel(objects, payloadPrefix(req.s3Payloads, item));
    const files: string[] = [];
    for (const obj of found) {
      if (obj.key.endsWith("/")) continue; // console "folder" markers
      checkSize(obj, req);
      files.push(await fetchObject(objects, obj, dir));
    }
    if (files.length === 0) throw new PayloadError(`No payload files downloaded from S3 for payload: ${item}`);
    local.push(...files.sort());
  }
  return local;
}

async function downloadV1(objects: ObjectStore, req: PayloadRequest): Promise<string[]> {
  const [item] = payloadItems(req.payload, false);
  const prefix = payloadPrefix(req.s3Payloads, item!);
  const { objects: found, prefixes } = await listLevel(objects, prefix);
  if (prefixes.length > 0) throw new PayloadError(`${prefix}: Recursive download not supported`);
  const files: string[] = [];
  for (const obj of found) {
    if (basename(obj.key) === "" || obj.key.endsWith("/")) continue;
    checkSize(obj, req);
    files.push(await fetchObject(objects, obj, req.localDir));
  }
  if (files.length === 0) throw new PayloadError("No payload files downloaded from S3");
  return files.sort();
}

function payloadItems(payload: unknown, allowList: boolean): string[] {
  if (typeof payload === "string") return [payload];
  if (allowList && Array.isArray(payload) && payload.every((p) => typeof p === "string")) return payload;
  const kind = Array.isArray(payload) ? "list" : payload === null ? "null" : typeof payload;
  throw new PayloadError(`Payload must be ${allowList ? "string or list of strings" : "string"} not ${kind}`);
}

function payloadPrefix(s3Payloads: string, item: string): string {
  const { bucket, key } = parseS3Uri(s3Payloads);
  const base = key.replace(/\/+$/, "");
  return s3Uri(bucket, base ? `${base}/${item}` : item);
}

async function listLevel(objects: ObjectStore, prefixUri: string): Promise<{ objects: ObjectInfo[]; prefixes: string[] }> {
  const all: ObjectInfo[] = [];
  const prefixes: string[] = [];
  let continuationToken: string | undefined;
  do {
    const page = await objects.list(prefixUri, { delimiter: "/", continuationToken });
    all.push(...page.objects);
    prefixes.push(...page.prefixes);
    continuationToken = page.continuationToken;
  } while (continuationToken);
  return { objects: all, prefixes };
}

function checkSize(obj: ObjectInfo, req: PayloadRequest): void {
  if (req.maxSize !== undefined && req.maxSize > 0 && obj.size > req.maxSize) {
    throw new PayloadError(
      `${obj.uri}: Payload size ${obj.size} exceeds maximum of ${req.maxSizeText ?? req.maxSize}`,
    );
  }
}

async function fetchObject(objects: ObjectStore, obj: ObjectInfo, dir: string): Promise<string> {
  const path = join(dir, basename(obj.key));
  await Bun.write(path, new Response(await objects.get(obj.uri)));
  // Flushed to disk before anyone executes it (the original's "Text file busy" defence); off the event loop,
  // since flushing a large package can take a while.
  const fh = await open(path, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  return path;
}

/** mkdtemp with a suffix: `<dir>/<prefix>XXXXXXXX<suffix>`, created 0700. */
export function makeUniqueDir(dir: string, prefix: string, suffix: string): string {
  for (;;) {
    const path = join(dir, `${prefix}${randomBytes(6).toString("base64url")}${suffix}`);
    try {
      mkdirSync(path, { mode: 0o700 });
      return path;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
  }
}
