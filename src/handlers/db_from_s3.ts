/**
 * `db_from_s3`: loads an object (or the objects of a manifest) into a database table, in one of the modes
 * abort, append, delete, drop, switch, truncate, through the loader of the `db_conn_id` connection's type
 * (./loaders/registry.ts). The original's order is kept: parameters, mode and `min_size` checked; `bucket`
 * and `key` rendered (unless `jinja` is off); with `skip_missing` a missing object ends the job successfully;
 * then `schema` and `table` rendered with `bucket` and `key` added, a value starting `/` being a regular
 * expression whose first group is taken from the key without any of its extensions; both lower-cased.
 *
 * The load is one transaction: BEGIN, the mode's table steps, the load, COMMIT (switch: the old table's
 * DELETE too, and its TRUNCATE after the commit), ROLLBACK on any failure, so a failed load leaves the table
 * as it was except for the statements a database commits on its own (each loader's header says which).
 * Result: `{exit_status, bucket, key, events: [...]}`; a failure `Copy failed: <reason>` carries the same
 * dict with `exit_status: 1` and `error`.
 */
import { parseSize } from "../core/config.ts";
import { errorText } from "../core/error-text.ts";
import { JobFailure, type JobResult, type JobRun, type JobType } from "../core/job-contract.ts";
import { getAwsConnection, type AwsConnection } from "../connectors/aws.ts";
import { getConnectionSpec } from "../connectors/spec.ts";
import { connectSql, flag } from "../connectors/sql.ts";
import { ConnectionError } from "../connectors/types.ts";
import type { SqlSession } from "../ports/index.ts";
import { checkParameters, jinjaEnabled } from "./common.ts";
import type { Loader, LoadRequest } from "./loaders/base.ts";
import { loaderTypes } from "./loaders/registry.ts";

const REQUIRED = ["db_conn_id", "bucket", "key", "schema", "table", "mode"] as const;
const OPTIONAL = ["args", "columns", "jinja", "s3_conn_id", "s3_iam_role", "skip_missing", "vars", "min_size"] as const;
const MODES = new Set(["truncate", "drop", "append", "abort", "switch", "delete"]);

/** The original's str2bool: booleans as they are, the usual words, integers; anything else an error. */
function str2bool(v: unknown): boolean {
  if (typeof v === "boolean") return v;
  if (typeof v !== "string") throw new JobFailure(`Bad skip_missing: Expected str, got ${v === null ? "None" : typeof v}`);
  const t = v.trim().toLowerCase();
  if (["true", "t", "yes", "y"].includes(t)) return true;
  if (["false", "f", "no", "n"].includes(t)) return false;
  if (/^[+-]?\d+$/.test(t)) return Number(t) !== 0;
  throw new JobFailure(`Bad skip_missing: Cannot convert string to bool: ${v}`);
}

/** `a/b/c.x.y` → `a/b/c`: every extension of the last part removed (leading dots kept), as splitext2. */
export function stripExtensions(key: string): string {
  const slash = key.lastIndexOf("/");
  const dir = slash < 0 ? "" : key.slice(0, slash);
  let base = slash < 0 ? key : key.slice(slash + 1);
  let lead = "";
  while (base.startsWith(".")) {
    lead += ".";
    base = base.slice(1);
  }
  const dot = base.indexOf(".");
  const root = lead + (dot < 0 ? base : base.slice(0, dot));
  return [dir, root].filter((s) => s).join("/");
}

/** A Python `re` pattern in JavaScript syntax (named groups), for the simple patterns schema/table rules use. */
function pyRegex(pattern: string): RegExp {
  return new RegExp(pattern.replace(/\(\?P</g, "(?<").replace(/\(\?P=(\w+)\)/g, "\\k<$1>"));
}

/** The schema or table value: a `/regex` takes its first group from the key (extensions removed). */
export function nameFromKey(what: "schema" | "table", value: string, key: string): string {
  if (!value.startsWith("/")) return value.toLowerCase();
  const object = stripExtensions(key);
  let re: RegExp;
  try {
    re = pyRegex(value.slice(1));
  } catch (e) {
    throw new JobFailure(`Bad ${what} regex: ${errorText(e)}`);
  }
  const m = re.exec(object);
  if (!m) throw new JobFailure(`Object name ${object} does not match ${what} regex`);
  if (m.length < 2) throw new JobFailure(`Regex for ${what} does not contain a capture group`);
  if (m[1] === undefined) throw new JobFailure(`Regex for ${what} matched without its capture group`);
  return m[1].toLowerCase();
}

function stringList(v: unknown, name: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) throw new JobFailure(`Bad job parameters: ${name} must be a list of strings`);
  return v;
}

export const dbFromS3Job: JobType = {
  name: "db_from_s3",
  async run(run) {
    const parameters = checkParameters(run, REQUIRED, OPTIONAL);
    const mode = String(parameters.mode);
    if (!MODES.has(mode)) throw new JobFailure(`Bad mode: ${mode}`);
    let minSize: number;
    try {
      minSize = parseSize((parameters.min_size ?? 0) as string | number);
    } catch (e) {
      throw new JobFailure(`Bad min_size: ${errorText(e)}`);
    }
    const args = stringList(parameters.args, "args");
    const columns = stringList(parameters.columns, "columns");
    const render = jinjaEnabled(parameters);

    let bucket = String(parameters.bucket);
    let key = String(parameters.key);
    if (render) {
      bucket = await renderField(run, "bucket", bucket);
      key = await renderField(run, "key", key);
    }
    run.log.debug(`Copy source is s3://${bucket}/${key}`);
    const result: JobResult & { events?: string[] } = { exit_status: 0, bucket, key };

    if (parameters.skip_missing !== undefined && str2bool(parameters.skip_missing)) {
      let exists: boolean;
      try {
        exists = (await run.ports.objects.head(`s3://${bucket}/${key}`)) !== undefined;
      } catch (e) {
        throw new JobFailure(`s3://${bucket}/${key} - ${errorText(e)}`);
      }
      if (!exists) {
        run.log.info(`Object s3://${bucket}/${key} does not exist - skipping`);
        result.events = ["Skipped missing object"];
        if (run.dev) console.log(result.events.join("\n"));
        return result;
      }
    }

    let schema = String(parameters.schema);
    let table = String(parameters.table);
    if (render) {
      schema = await renderField(run, "schema", schema, { bucket, key });
      table = await renderField(run, "table", table, { bucket, key });
    }
    table = nameFromKey("table", table, key);
    schema = nameFromKey("schema", schema, key);

    let s3Keys: AwsConnection | undefined;
    const ctx = { ports: run.ports, realm: run.job.realm, config: run.config, jobId: run.job.job_id };
    const connId = String(parameters.db_conn_id);
    let item;
    try {
      if (parameters.s3_conn_id) s3Keys = await getAwsConnection(String(parameters.s3_conn_id), ctx);
      item = await getConnectionSpec(run.ports, run.job.realm, connId);
    } catch (e) {
      if (e instanceof ConnectionError) throw new JobFailure(errorText(e));
      throw e;
    }
    const makeLoader = loaderTypes[item.type];
    if (!makeLoader) throw new JobFailure(`db_from_s3 does not support ${item.type} databases`);

    const request: LoadRequest = {
      schema,
      table,
      bucket,
      key,
      region: s3Keys ? s3Keys.region : await run.ports.credentials.region(),
      args,
      columns,
      s3Keys,
      iamRole: parameters.s3_iam_role === undefined ? undefined : String(parameters.s3_iam_role),
      minSize,
    };

    let session: SqlSession | undefined;
    let loader: Loader | undefined;
    try {
      // Oracle's session has no BEGIN: its transaction is autocommit off. The others open one with BEGIN.
      session = await connectSql(item, ctx, { autocommit: false });
      loader = await makeLoader(run, session, flag(item.preserve_case));
      await loader.begin();
      result.events = mode === "switch" ? await copySwitch(loader, request) : await copySimple(loader, request, mode);
    } catch (e) {
      if (loader) await loader.rollback().catch((r) => run.log.warning(`Rollback failed: ${errorText(r)}`));
      const error = errorText(e);
      throw new JobFailure(`Copy failed: ${error}`, { ...result, exit_status: 1, error });
    } finally {
      await session?.close().catch((e) => run.log.warning(`Closing connection ${connId}: ${errorText(e)}`));
    }
    if (run.dev) console.log(result.events.join("\n"));
    return result;
  },
};

async function renderField(run: JobRun, name: string, template: string, extra?: Record<string, unknown>): Promise<string> {
  try {
    return await run.render(template, extra);
  } catch (e) {
    throw new JobFailure(`Bad ${name} parameter: ${errorText(e)}`);
  }
}

/** Modes truncate, delete, drop, append and abort. */
async function copySimple(db: Loader, req: LoadRequest, mode: string): Promise<string[]> {
  const events: string[] = [];
  const { schema, table } = req;
  const fqn = db.objectName(schema, table);
  let exists = await db.tableExists(schema, table);
  if (mode === "abort") {
    if (exists) throw new Error(`Table ${fqn} already exists`);
  } else if (mode === "delete" && exists) {
    events.push(`Deleting from table ${fqn}`);
    await db.deleteFrom(fqn);
    events.push(`Deleted from table ${fqn}`);
  } else if (mode === "truncate" && exists) {
    events.push(`Truncating table ${fqn}`);
    await db.truncateTable(schema, table);
    events.push(`Truncated table ${fqn}`);
  } else if (mode === "drop" && exists) {
    events.push(`Dropping table ${fqn}`);
    await db.dropTable(schema, table);
    events.push(`Dropped table ${fqn}`);
    exists = false;
  }
  if (!exists) {
    if (!req.columns?.length) throw new Error(`Table ${fqn} doesn't exist and no column spec provided to create it`);
    events.push(`Creating table ${fqn}`);
    await db.createTable(schema, table, req.columns);
    events.push(`Created table ${fqn}`);
  }
  events.push(...(await db.copyFromS3(req)));
  await db.commit();
  events.push(`Commit ${fqn}`);
  return events;
}

/** Mode switch: tables <t>_a and <t>_b, the empty one loaded, the other emptied. */
async function copySwitch(db: Loader, req: LoadRequest): Promise<string[]> {
  const events: string[] = [];
  const { schema, table } = req;
  const plain = (t: string) => (schema ? `${schema}.${t}` : t);
  let target: string | undefined;
  let old: string | undefined;
  for (const [a, b] of [["a", "b"], ["b", "a"]] as const) {
    const t = `${table}_${a}`;
    if (!(await db.tableExists(schema, t))) {
      if (!req.columns?.length) throw new Error(`Table ${plain(t)} doesn't exist and no column spec provided to create it`);
      events.push(`Creating table ${plain(t)}`);
      await db.createTable(schema, t, req.columns);
      events.push(`Created table ${plain(t)}`);
    }
    if (!target && (await db.tableIsEmpty(schema, t))) {
      events.push(`Table ${plain(t)} is empty - setting as load target`);
      target = t;
      old = `${table}_${b}`;
    }
  }
  if (!target || !old) throw new Error(`Neither A nor B switch table is empty for ${plain(table)}`);
  events.push(...(await db.copyFromS3({ ...req, table: target })));
  events.push(`Deleting from table ${plain(old)}`);
  await db.deleteFrom(plain(old));
  events.push(`Deleted from table ${plain(old)}`);
  await db.commit();
  events.push(`Commit ${plain(table)}`);
  events.push(`Truncating table ${plain(old)}`);
  await db.truncateTable(schema, old);
  events.push(`Truncated table ${plain(old)}`);
  return events;
}
