/**
 * What every db_from_s3 loader shares (the original's lava/lib/db.py `Database`): object names, the
 * table steps the modes use (exists, empty, create, drop, truncate, delete), the transaction, and the
 * helpers loaders use on their objects (COPY argument checks, manifests, runt files, streams).
 *
 * A loader runs inside one transaction that db_from_s3 opens before the first table step and commits after
 * the load, so a failed load leaves the table as it was wherever the database's statements are
 * transactional (each loader says where they are not). The original committed after TRUNCATE and CREATE on
 * PostgreSQL and SQLite (to let its separate psql process see them); ours loads on the same connection and
 * needs no such commit.
 */
import { pipeline, Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import type { SqlResult, SqlSession } from "../../ports/index.ts";
import { InvalidS3NameError, s3Split as splitS3Name } from "../../ports/objects.ts";
import { errorText } from "../../core/error-text.ts";
import type { JobRun } from "../../core/job-contract.ts";
import type { AwsConnection } from "../../connectors/aws.ts";

/** One db_from_s3 load: the object (or manifest), its target and the job's loader options. */
export interface LoadRequest {
  schema: string;
  table: string;
  bucket: string;
  key: string;
  region: string | undefined;
  /** The job's `args`, as given. */
  args: string[] | undefined;
  /** The job's `columns` (specs; the name is the first word). */
  columns: string[] | undefined;
  s3Keys: AwsConnection | undefined;
  iamRole: string | undefined;
  minSize: number;
}

/** A loader error worded as the original's (it becomes `Copy failed: <message>`). */
export class LoadError extends Error {
  override name = "LoadError";
}

export abstract class Loader {
  /** Left and right quote characters of object names (one or two characters). */
  protected quotes = '"';
  private readonly columnCache = new Map<string, string[]>();
  /** Statements to run once the load has committed (outside the transaction). */
  protected readonly afterCommit: string[] = [];
  protected inTransaction = false;

  constructor(
    protected readonly run: JobRun,
    protected readonly session: SqlSession,
    protected readonly preserveCase: boolean,
  ) {}

  protected async exec(sql: string, params?: unknown[]): Promise<SqlResult> {
    this.run.log.debug(`SQL: ${sql}`);
    return this.session.query(sql, params);
  }

  /** The original's object_name: quoted parts, lower-cased unless the connection has preserve_case. */
  objectName(...parts: string[]): string {
    for (const s of parts) if ([...this.quotes].some((q) => s.includes(q))) throw new LoadError(`Bad database object name: ${s}`);
    const [l, r] = [this.quotes[0]!, this.quotes.at(-1)!];
    return parts
      .filter((s) => s)
      .map((s) => `${l}${this.preserveCase ? s : s.toLowerCase()}${r}`)
      .join(".");
  }

  protected beginSql(): string | null {
    return "BEGIN";
  }

  async begin(): Promise<void> {
    const sql = this.beginSql();
    if (sql) await this.exec(sql);
    this.inTransaction = true;
  }

  async commit(): Promise<void> {
    await this.exec("COMMIT");
    this.inTransaction = false;
    while (this.afterCommit.length) await this.exec(this.afterCommit.shift()!);
  }

  /** Nothing when no transaction is open (the load committed and a later step failed). */
  async rollback(): Promise<void> {
    if (!this.inTransaction) return;
    this.inTransaction = false;
    this.afterCommit.length = 0;
    await this.exec("ROLLBACK");
  }

  async truncateTable(schema: string, table: string): Promise<void> {
    await this.exec(`TRUNCATE TABLE ${this.objectName(schema, table)}`);
  }

  async deleteFrom(fqn: string): Promise<void> {
    await this.exec(`DELETE FROM ${fqn}`);
  }

  async createTable(schema: string, table: string, columns: string[]): Promise<void> {
    await this.exec(`CREATE TABLE ${this.objectName(schema, table)} (${columns.join(", ")})`);
  }

  async dropTable(schema: string, table: string): Promise<void> {
    await this.exec(`DROP TABLE IF EXISTS ${this.objectName(schema, table)}`);
  }

  async tableIsEmpty(schema: string, table: string): Promise<boolean> {
    return (await this.exec(`SELECT 1 FROM ${this.objectName(schema, table)} LIMIT 1`)).rows.length === 0;
  }

  protected static checkLiteral(schema: string, table: string): void {
    if (schema.includes("'")) throw new LoadError(`Bad schema name: ${schema}`);
    if (table.includes("'")) throw new LoadError(`Bad table name: ${table}`);
  }

  async tableExists(schema: string, table: string): Promise<boolean> {
    Loader.checkLiteral(schema, table);
    const sql = `SELECT 1 FROM information_schema.tables WHERE table_schema = '${schema}' AND table_name = '${table}'`;
    return (await this.exec(sql)).rows.length > 0;
  }

  protected columnsSql(schema: string, table: string): string {
    return `SELECT column_name FROM information_schema.columns WHERE table_schema = '${schema}' AND table_name = '${table}' ORDER BY ordinal_position`;
  }

  /** Column names of the table (lower-cased, as the original), cached. */
  async columns(schema: string, table: string): Promise<string[]> {
    Loader.checkLiteral(schema, table);
    const t = `${schema}.${table}`;
    let cols = this.columnCache.get(t);
    if (!cols) {
      cols = (await this.exec(this.columnsSql(schema, table))).rows.map((r) => String(r[0]).toLowerCase());
      this.columnCache.set(t, cols);
    }
    return cols;
  }

  /** The column list of `columns` specs (first word of each), quoted, or "" without any. */
  protected columnList(columns: string[] | undefined, parens = true): string {
    if (!columns?.length) return "";
    const list = columns.map((c) => this.objectName(c.split(" ", 1)[0]!)).join(",");
    return parens ? `(${list})` : list;
  }

  /** Loads the object (or the manifest's objects) into the table; no commit. Returns the step messages. */
  abstract copyFromS3(req: LoadRequest): Promise<string[]>;
}

/** `args` by keyword (first word, upper-cased), refusing keywords not in `allowed`, as the original. */
export function copyArgs(args: string[] | undefined, allowed: ReadonlySet<string>): Map<string, string> {
  const dict = new Map<string, string>();
  for (const a of args ?? []) dict.set((a.trim().split(/\s+/)[0] ?? "").toUpperCase(), a);
  const bad = [...dict.keys()].filter((k) => !allowed.has(k));
  if (bad.length) throw new LoadError(`Invalid COPY arguments: ${bad.join(", ")}`);
  return dict;
}

/** The original's s3_split of a manifest URL (src/ports/objects.ts), its refusal as a load error. */
function s3Split(s: string): [string, string] {
  try {
    return splitS3Name(s);
  } catch (err) {
    if (err instanceof InvalidS3NameError) throw new LoadError(err.message);
    throw err;
  }
}

/** The objects a Redshift-style manifest (`{"entries": [{"url": ...}, ...]}`) lists. */
export async function readManifest(run: JobRun, bucket: string, key: string): Promise<[string, string][]> {
  let text: string;
  try {
    text = await new Response(await run.ports.objects.get(`s3://${bucket}/${key}`)).text();
  } catch (e) {
    throw new LoadError(errorText(e));
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new LoadError(`Bad JSON: ${errorText(e)}`);
  }
  const entries = (data as { entries?: unknown })?.entries;
  if (!Array.isArray(entries)) throw new LoadError(`s3://${bucket}/${key}: Bad manifest: no entries list`);
  return entries.map((e) => s3Split(String((e as { url?: unknown })?.url ?? "")));
}

/** The objects to load: the manifest's entries with MANIFEST, else the object itself. */
export async function objectList(run: JobRun, req: LoadRequest, manifest: boolean, events: string[]): Promise<[string, string][]> {
  if (!manifest) return [[req.bucket, req.key]];
  run.log.debug(`Reading manifest s3://${req.bucket}/${req.key}`);
  events.push(`Reading manifest s3://${req.bucket}/${req.key}`);
  return readManifest(run, req.bucket, req.key);
}

/** True (and a "Skipping runt file" event) when the object is smaller than `minSize`. */
export async function isRunt(run: JobRun, bucket: string, key: string, minSize: number, events: string[]): Promise<boolean> {
  if (!minSize) return false;
  let info;
  try {
    info = await run.ports.objects.head(`s3://${bucket}/${key}`);
  } catch (e) {
    throw new LoadError(`s3://${bucket}/${key}: ${errorText(e)}`);
  }
  if (!info) throw new LoadError(`s3://${bucket}/${key}: Not Found`);
  if (info.size < minSize) {
    events.push(`Skipping runt file s3://${bucket}/${key}`);
    return true;
  }
  return false;
}

/**
 * The object's bytes as they come from the store, gunzipped with `gzip` (every member of a multi-member
 * file, as Python's gzip module reads them). Never held whole.
 */
export async function objectBytes(run: JobRun, bucket: string, key: string, gzip: boolean): Promise<AsyncIterable<Uint8Array>> {
  let stream: ReadableStream<Uint8Array>;
  try {
    stream = await run.ports.objects.get(`s3://${bucket}/${key}`);
  } catch (e) {
    throw new LoadError(`Download failed: s3://${bucket}/${key} - ${errorText(e)}`);
  }
  const readable = Readable.fromWeb(stream as import("node:stream/web").ReadableStream<Uint8Array>);
  if (!gzip) return readable;
  // The callback form: an error (a file that is not gzip) destroys the gunzip stream with it, which is how
  // the reader sees it, instead of surfacing as an unhandled stream error.
  return pipeline(readable, createGunzip(), () => undefined);
}
