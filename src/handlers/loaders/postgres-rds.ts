/**
 * db_from_s3 into RDS and Aurora PostgreSQL (`postgres-rds`, `postgres-aurora`): the database reads the
 * object itself with `aws_s3.table_import_from_s3`, with the `s3_conn_id` keys or, without them, the
 * database's attached IAM role. GZIP sets the objects' Content-Encoding to gzip (a copy onto itself) so the
 * extension decompresses them; MANIFEST loads the manifest's objects one by one. The import runs in the
 * load's transaction: a failed one leaves the table as it was.
 *
 * Divergences: quotes in the bucket, key and keys are doubled (the original pasted them in as they were);
 * no 5 s pause after setting Content-Encoding (S3 has been strongly consistent since 2020, so the copy is
 * what the next read sees).
 */
import { errorText } from "../../core/error-text.ts";
import { copyArgs, isRunt, Loader, LoadError, objectList, type LoadRequest } from "./base.ts";
import { expandForceAll, PG_COPY_PARAMS } from "./postgres.ts";

const lit = (s: string) => s.replace(/'/g, "''");

export class PostgresRdsLoader extends Loader {
  async copyFromS3(req: LoadRequest): Promise<string[]> {
    const dict = copyArgs(req.args, PG_COPY_PARAMS);
    const events: string[] = [];
    const keys = {
      aws_access_key_id: req.s3Keys?.accessKeyId ?? "",
      aws_secret_access_key: req.s3Keys?.secretAccessKey ?? "",
      aws_session_token: req.s3Keys?.sessionToken ?? "",
    };
    const target = this.objectName(req.schema, req.table);
    const colList = this.columnList(req.columns, false);
    const manifest = dict.delete("MANIFEST");
    const list = await objectList(this.run, req, manifest, events);
    if (dict.delete("GZIP")) {
      this.run.log.debug("Setting ContentEncoding to gzip");
      for (const [b, k] of list) {
        try {
          await this.run.ports.objects.setContentEncoding(`s3://${b}/${k}`, "gzip");
        } catch (e) {
          throw new LoadError(`s3://${b}/${k}: ${errorText(e)}`);
        }
      }
    }
    await expandForceAll(this, dict, req.schema, req.table);
    const argText = req.args?.length ? lit([...dict.values()].join(", ")) : "";
    events.push(`Running COPY command(s) for ${req.schema}.${req.table}`);
    const command = (v: { bucket: string; key: string; aws_access_key_id: string; aws_secret_access_key: string; aws_session_token: string }) => `
                SELECT aws_s3.table_import_from_s3(
                    '${lit(target)}',
                    '${lit(colList)}',
                    '(${argText})',
                    '${v.bucket}',
                    '${v.key}',
                    '${lit(req.region ?? "")}',
                    '${v.aws_access_key_id}',
                    '${v.aws_secret_access_key}',
                    '${v.aws_session_token}'
                )
                `;
    // The logged form keeps the original's placeholders: no credentials in events or logs.
    const safe = command({ bucket: "{bucket}", key: "{key}", aws_access_key_id: "{aws_access_key_id}", aws_secret_access_key: "{aws_secret_access_key}", aws_session_token: "{aws_session_token}" });
    this.run.log.debug(`COPY command: ${safe}`);
    events.push(`COPY command: ${safe}`);
    for (const [b, k] of list) {
      this.run.log.debug(`Loading s3://${req.bucket}/${req.key}`);
      if (await isRunt(this.run, b, k, req.minSize, events)) continue;
      events.push(`Copying s3://${b}/${k}`);
      const sql = command({
        bucket: lit(b),
        key: lit(k),
        aws_access_key_id: lit(keys.aws_access_key_id),
        aws_secret_access_key: lit(keys.aws_secret_access_key),
        aws_session_token: lit(keys.aws_session_token),
      });
      let result: string;
      try {
        const out = await this.session.query(sql);
        result = String(out.rows[0]?.[0] ?? "");
      } catch (e) {
        // The extension reports an empty object as an error; the original turns it back into a result.
        if (!errorText(e).includes(" 0 rows were copied successfully")) throw new LoadError(`s3://${b}/${k}: ${errorText(e)}`);
        result = "File was empty";
      }
      events.push("Copy complete");
      events.push(result);
    }
    return events;
  }
}
