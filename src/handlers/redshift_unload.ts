/**
 * `redshift_unload`: Redshift `UNLOAD` of one or more relations of `schema` to `s3://<bucket>/<prefix>`.
 * The original's order and words: parameters checked (`prefix`, or the deprecated `key` with a warning;
 * `args` keywords from the UNLOAD list), the S3 credentials (`s3_iam_role`, else `s3_conn_id` keys), the
 * bucket's safety checks unless `insecure` (no public grant, default encryption, access logging, owned by
 * the worker's account), then per relation in order (from `start` when given): `where`, `prefix` and
 * PARTITION options rendered with `schema` and `relation` (other args never are), `PARTITION BY
 * @schema.rel` looked up in that table's `partitions` column, `dateformat` applied to DATE columns.
 *
 * Result `{exit_status, unloads: [{schema, relation, bucket, prefix, ts_start, ts_finish, duration, status,
 * sql}]}`, the SQL without credentials. A failed unload stops the job unless `stop_on_fail` is false; then
 * the others run and the job fails at the end listing `failures`.
 */
import { errorText } from "../core/error-text.ts";
import { JobFailure, type JobResult, type JobRun, type JobType } from "../core/job-contract.ts";
import { isoLocal } from "../core/pyformat.ts";
import { getAwsConnection, type AwsConnection } from "../connectors/aws.ts";
import { getSqlConnection } from "../connectors/sql.ts";
import { ConnectionError } from "../connectors/types.ts";
import type { SqlSession } from "../ports/index.ts";
import { checkParameters } from "./common.ts";
import { redshiftAuthorization } from "./loaders/redshift.ts";
import { pyTruthy } from "./orchestration.ts";

const REQUIRED = ["conn_id", "bucket", "schema", "relation", "args"] as const;
const OPTIONAL = ["dateformat", "insecure", "s3_conn_id", "s3_iam_role", "vars", "prefix", "stop_on_fail", "start", "where", "key"] as const;

export const UNLOAD_KEYS: ReadonlySet<string> = new Set([
  "ADDQUOTES", "ALLOWOVERWRITE", "BZIP2", "CLEANPATH", "CSV", "DELIMITER", "ENCRYPTED", "ESCAPE", "EXTENSION", "FIXEDWIDTH",
  "FORMAT", "GZIP", "HEADER", "JSON", "KMS_KEY_ID", "MANIFEST", "MAXFILESIZE", "NULL", "PARALLEL", "PARQUET", "PARTITION",
  "ROWGROUPSIZE", "ZSTD",
]);

const PARTITION_INDIRECT_RE = /^BY\s+@\s*(?<schema>[^.]+)\.(?<relation>[^.]+)\s*$/i;

interface UnloadInfo {
  schema: string;
  relation: string;
  bucket: string;
  prefix: string;
  ts_start: string;
  ts_finish?: string;
  duration?: number;
  status?: string;
  sql?: string;
  error?: string;
}

/** The bucket safety checks, in the original's order and words. */
export async function checkBucketSecurity(run: JobRun, bucket: string): Promise<void> {
  const s = await run.ports.objects.bucketSecurity(bucket);
  if (s.publicAccess) throw new Error("Insecure due to public access");
  if (!s.defaultEncryption) throw new Error("Insecure due to lack of default encryption");
  if (!s.serverLogging) throw new Error("Insecure due to lack of server logging");
  if (!s.ownedByCaller) throw new Error("Insecure due to foreign owned bucket");
}

/** The `partitions` column for (schema, relation) in the partition-info table, split on commas. */
async function partitionColumns(session: SqlSession, pSchema: string, pRelation: string, schema: string, relation: string): Promise<string[]> {
  const what = `Cannot get partition info from ${pSchema}.${pRelation} for ${schema}.${relation}`;
  let rows: unknown[][];
  try {
    rows = (await session.query(`SELECT partitions FROM "${pSchema}"."${pRelation}" WHERE schema_name = $1 AND rel_name = $2`, [schema.toLowerCase(), relation.toLowerCase()])).rows;
  } catch (e) {
    throw new Error(`${what}: ${errorText(e)}`);
  }
  if (!rows.length) throw new Error(`${what}: Not found`);
  return String(rows[0]![0]).split(",").map((c) => c.trim());
}

/** One UNLOAD option as the job gives it, PARTITION options resolved or rendered. */
async function unloadOption(run: JobRun, session: SqlSession, opt: string, schema: string, relation: string, extra: Record<string, unknown>): Promise<string> {
  const m = /^(\S+)(?:\s+([\s\S]*))?$/.exec(opt.trim());
  const type = (m?.[1] ?? opt).toUpperCase();
  const args = m?.[2];
  if (type !== "PARTITION") return opt;
  if (!args) throw new Error("PARTITION option requires argument(s)");
  const indirect = PARTITION_INDIRECT_RE.exec(args);
  let out: string;
  if (indirect) {
    const cols = await partitionColumns(session, indirect.groups!.schema!, indirect.groups!.relation!, schema, relation);
    out = `PARTITION BY (${cols.map((c) => `"${c}"`).join(",")})`;
  } else {
    out = await run.render(opt, extra);
  }
  run.log.debug(`Redshift unload option for ${schema}.${relation}: ${out}`);
  return out;
}

/** The SELECT list: every column named, DATE columns through to_char, when `dateformat` meets a DATE column. */
async function selector(session: SqlSession, schema: string, relation: string, dateformat: string | undefined): Promise<string> {
  if (!dateformat) return "*";
  const out = await session.query(
    "SELECT column_name, LOWER(data_type) FROM svv_columns WHERE table_catalog=CURRENT_DATABASE() AND table_schema=$1 AND table_name=$2 ORDER by ordinal_position",
    [schema, relation],
  );
  if (!out.rows.length) throw new Error(`Cannot get column info for ${schema}.${relation}`);
  const columns = out.rows.map((r) => [String(r[0]), String(r[1])] as const);
  if (!columns.some(([, t]) => t === "date")) return "*";
  return columns.map(([c, t]) => (t !== "date" ? `"${c}"` : `to_char("${c}", \\'${dateformat}\\') AS "${c}"`)).join(", ");
}

/** The UNLOAD statement with `{authorization}` where the credentials go, laid out as the original's. */
export function unloadSql(sel: string, schema: string, relation: string, where: string | undefined, bucket: string, prefix: string, options: string[]): string {
  const w = where ? `WHERE ${where.replace(/'/g, "\\'")}` : "";
  return `
                UNLOAD ('SELECT ${sel} FROM "${schema}"."${relation}" ${w}')
                TO 's3://${bucket}/${prefix}'
                {authorization}
                ${options.join(" ")};
            `;
}

export const redshiftUnloadJob: JobType = {
  name: "redshift_unload",
  async run(run) {
    const parameters = checkParameters(run, REQUIRED, OPTIONAL);
    const prefixTemplate = parameters.prefix ?? parameters.key;
    if (!prefixTemplate) throw new JobFailure("Bad job parameters: prefix is required");
    if ("key" in parameters) {
      run.log.warning(`${run.job.job_id}: Deprecation warning: key parameter should be replaced by prefix`, { event_type: "job", job_id: run.job.job_id, run_id: run.job.run_id });
    }
    if (!Array.isArray(parameters.args)) throw new JobFailure("Bad job parameters: args must be a list");
    const args = parameters.args.map(String);
    const bad = [...new Set(args.map((a) => (a.trim().split(/\s+/)[0] ?? "").toUpperCase()))].filter((k) => !UNLOAD_KEYS.has(k));
    if (bad.length) throw new JobFailure(`Invalid UNLOAD arguments: ${bad.join(", ")}`);
    const stopOnFail = "stop_on_fail" in parameters ? pyTruthy(parameters.stop_on_fail) : true;
    const bucket = String(parameters.bucket);
    const start = parameters.start === undefined || parameters.start === null ? undefined : String(parameters.start);
    const ctx = { ports: run.ports, realm: run.job.realm, config: run.config, jobId: run.job.job_id };

    let iamRole: string | undefined;
    let keys: AwsConnection | undefined;
    if ("s3_iam_role" in parameters && parameters.s3_iam_role !== undefined) {
      iamRole = parameters.s3_iam_role === null ? undefined : String(parameters.s3_iam_role);
    } else {
      if (!("s3_conn_id" in parameters)) throw new JobFailure("At least one of s3_iam_role and s3_conn_id is required");
      try {
        keys = await getAwsConnection(String(parameters.s3_conn_id), ctx);
      } catch (e) {
        if (e instanceof ConnectionError) throw new JobFailure(errorText(e));
        throw e;
      }
    }

    if (!pyTruthy(parameters.insecure)) {
      run.log.debug(`Checking bucket security on ${bucket}`);
      try {
        await checkBucketSecurity(run, bucket);
      } catch (e) {
        throw new JobFailure(`Bucket ${bucket} is insecure: ${errorText(e)}`);
      }
    } else {
      run.log.warning(`${run.job.realm}@${run.job.job_id}: Possible insecure redshift_unload`, { event_type: "job", job_id: run.job.job_id, run_id: run.job.run_id });
    }

    let session: SqlSession;
    try {
      session = await getSqlConnection(String(parameters.conn_id), ctx);
    } catch (e) {
      if (e instanceof ConnectionError) throw new JobFailure(errorText(e));
      throw e;
    }

    const schema = String(parameters.schema);
    const relations = (Array.isArray(parameters.relation) ? parameters.relation : [parameters.relation]).map(String);
    const whereTemplate = parameters.where ? String(parameters.where) : undefined;
    const dateformat = parameters.dateformat ? String(parameters.dateformat) : undefined;
    const result: JobResult & { unloads: UnloadInfo[]; failures?: string[] } = { exit_status: 0, unloads: [] };
    const failures: string[] = [];
    let started = false;
    try {
      for (const relation of relations) {
        const extra = { schema, relation };
        if (start && !started && relation.toLowerCase() !== start) continue;
        started = true;
        const tsStart = new Date(Math.floor(Date.now() / 1000) * 1000);
        const where = whereTemplate ? await run.render(whereTemplate, extra) : whereTemplate;
        const info: UnloadInfo = { schema, relation, bucket, prefix: String(prefixTemplate), ts_start: isoLocal(tsStart) };
        try {
          info.prefix = await run.render(String(prefixTemplate), extra);
          if (info.prefix.includes("'")) throw new Error("Single quote not allowed in S3 prefix");
        } catch (e) {
          throw new Error(`Bad prefix parameter: ${errorText(e)}`);
        }
        try {
          const authorization = redshiftAuthorization({ iamRole, accessKeyId: keys?.accessKeyId, secretAccessKey: keys?.secretAccessKey, sessionToken: keys?.sessionToken });
          const sel = await selector(session, schema, relation, dateformat);
          const options: string[] = [];
          for (const opt of args) options.push(await unloadOption(run, session, opt, schema, relation, extra));
          const sql = unloadSql(sel, schema, relation, where, bucket, info.prefix, options);
          run.log.debug(`Unload SQL: ${sql}`);
          await session.query(sql.replace("{authorization}", () => authorization));
          info.sql = sql.replace(/^[ \n]+|[ \n]+$/g, "");
        } catch (e) {
          info.status = "failed";
          info.error = errorText(e);
          result.unloads.push(info);
          if (stopOnFail) throw e;
          run.log.warning(`Unload of ${schema}.${relation} failed: ${info.error}`, { event_type: "job", job_id: run.job.job_id, run_id: run.job.run_id });
          failures.push(relation);
          continue;
        }
        const tsFinish = new Date(Math.floor(Date.now() / 1000) * 1000);
        info.ts_finish = isoLocal(tsFinish);
        info.duration = Math.round((tsFinish.getTime() - tsStart.getTime()) / 1000);
        info.status = "complete";
        result.unloads.push(info);
      }
    } catch (e) {
      result.exit_status = 1;
      result.error = errorText(e);
      throw new JobFailure(`Unload failed: ${errorText(e)}`, result);
    } finally {
      await session.close().catch((e) => run.log.warning(`Closing connection ${String(parameters.conn_id)}: ${errorText(e)}`));
    }
    if (failures.length) {
      result.failures = failures;
      throw new JobFailure(`${failures.length} unloads failed`, result);
    }
    if (!result.unloads.length) throw new JobFailure("No unloads were attempted", start ? { start } : null);
    return result;
  },
};
