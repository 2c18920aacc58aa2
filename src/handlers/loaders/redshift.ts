/**
 * db_from_s3 into Redshift (`redshift`, `redshift-serverless`): `COPY ... FROM 's3://...'` read by the
 * cluster with `s3_iam_role` or the `s3_conn_id` keys (redshiftAuthorization, shared with redshift_unload).
 * Table checks read `svv_tables` / `svv_columns` (external and data-share tables included); emptiness is a
 * COUNT(*), cheap on Redshift.
 *
 * Transactions: Redshift's TRUNCATE commits the transaction it runs in, so `truncate` mode (and `switch`'s
 * final TRUNCATE, which runs after the commit anyway) is not undone by a failed load; every other step is.
 * The events and logs carry the COPY with `{authorization}` in place of the credentials, as the original.
 */
import { copyArgs, isRunt, Loader, LoadError, type LoadRequest } from "./base.ts";

const COPY_PARAMS: ReadonlySet<string> = new Set([
  "ACCEPTANYDATE", "ACCEPTINVCHARS", "AVRO", "BLANKSASNULL", "BZIP2", "COMPROWS", "COMPUPDATE", "CSV", "DATEFORMAT",
  "DELIMITER", "EMPTYASNULL", "ENCODING", "ENCRYPTED", "ESCAPE", "EXPLICIT_IDS", "FILLRECORD", "FIXEDWIDTH", "FORMAT",
  "GZIP", "IGNOREBLANKLINES", "IGNOREHEADER", "JSON", "LZOP", "MANIFEST", "MAXERROR", "NOLOAD", "NULL", "READRATIO",
  "REGION", "REMOVEQUOTES", "ROUNDEC", "SHAPEFILE", "STATUPDATE", "TIMEFORMAT", "TRIMBLANKS", "TRUNCATECOLUMNS", "ZSTD",
]);

export interface RedshiftAuth {
  iamRole?: string | undefined;
  accessKeyId?: string | undefined;
  secretAccessKey?: string | undefined;
  sessionToken?: string | undefined;
}

/** The authorization clause of COPY and UNLOAD: the role when given, else the keys. */
export function redshiftAuthorization(auth: RedshiftAuth): string {
  for (const s of [auth.iamRole, auth.accessKeyId, auth.secretAccessKey, auth.sessionToken]) {
    if (s && s.includes("'")) throw new LoadError("Bad Redshift authorization component: must not contain quotes");
  }
  if (auth.iamRole) return `IAM_ROLE '${auth.iamRole}'`;
  if (!auth.accessKeyId || !auth.secretAccessKey) throw new LoadError("Either IAM role or access keys required");
  const parts = ["ACCESS_KEY_ID", `'${auth.accessKeyId}'`, "SECRET_ACCESS_KEY", `'${auth.secretAccessKey}'`];
  if (auth.sessionToken) parts.push("SESSION_TOKEN", `'${auth.sessionToken}'`);
  return parts.join(" ");
}

export class RedshiftLoader extends Loader {
  override async tableIsEmpty(schema: string, table: string): Promise<boolean> {
    const out = await this.exec(`SELECT COUNT(*) FROM ${this.objectName(schema, table)}`);
    return Number(out.rows[0]?.[0]) === 0;
  }

  override async tableExists(schema: string, table: string): Promise<boolean> {
    Loader.checkLiteral(schema, table);
    const sql = `SELECT 1 FROM svv_tables WHERE table_catalog=CURRENT_DATABASE() AND table_schema='${schema}' AND table_name='${table}'`;
    return (await this.exec(sql)).rows.length > 0;
  }

  protected override columnsSql(schema: string, table: string): string {
    return `SELECT column_name FROM svv_columns WHERE table_catalog=CURRENT_DATABASE() AND table_schema = '${schema}' AND table_name = '${table}' ORDER BY ordinal_position`;
  }

  async copyFromS3(req: LoadRequest): Promise<string[]> {
    copyArgs(req.args, COPY_PARAMS);
    const events: string[] = [];
    if (await isRunt(this.run, req.bucket, req.key, req.minSize, events)) return events;
    if (`${req.bucket}/${req.key}`.includes("'")) throw new LoadError(`Bad S3 object name: s3://${req.bucket}/${req.key}`);
    const copy = (authorization: string) =>
      `COPY ${this.objectName(req.schema, req.table)}${this.columnList(req.columns)} FROM 's3://${req.bucket}/${req.key}' ${authorization} ${(req.args ?? []).join(" ")}`.trim();
    const safe = copy("{authorization}");
    this.run.log.debug(`COPY command: ${safe}`);
    events.push(safe);
    const sql = copy(
      redshiftAuthorization({
        iamRole: req.iamRole,
        accessKeyId: req.s3Keys?.accessKeyId,
        secretAccessKey: req.s3Keys?.secretAccessKey,
        sessionToken: req.s3Keys?.sessionToken,
      }),
    );
    events.push(`Running COPY command for ${req.schema}.${req.table}`);
    // Not through exec(): the statement holds credentials and must not reach the debug log.
    await this.session.query(sql);
    events.push(`Copy to ${req.schema}.${req.table} complete`);
    return events;
  }
}
