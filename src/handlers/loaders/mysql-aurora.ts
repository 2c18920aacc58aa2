/**
 * db_from_s3 into Aurora MySQL (`mysql-aurora`): `LOAD DATA FROM S3 FILE|PREFIX|MANIFEST 's3-<region>://...'`,
 * read by the cluster with its own IAM role, with lava's PostgreSQL-like pseudo-options turned into MySQL
 * clauses (DELIMITER, QUOTE [OPTIONAL], ESCAPE, ENCODING, TERMINATOR UNIX|DOS|'s', HEADER [n]). No
 * compression. MANIFEST is Aurora's own manifest handling, not lava's.
 *
 * Transactions: MySQL commits implicitly around TRUNCATE, DROP and CREATE, so `truncate`, `drop`, `switch`'s
 * table creation and a created table are not undone by a failed load; `delete` and `append` are (the load
 * itself is one InnoDB statement). Divergence: without a region the URI is `s3://bucket/key` (the original
 * wrote `s3://bucket/None`).
 */
import { copyArgs, isRunt, Loader, LoadError, type LoadRequest } from "./base.ts";

const COPY_PARAMS: ReadonlySet<string> = new Set(["REPLACE", "IGNORE", "PARTITION", "FILE", "PREFIX", "MANIFEST", "DELIMITER", "ENCODING", "QUOTE", "ESCAPE", "HEADER", "TERMINATOR"]);

const isQuoted = (s: string | undefined) => s !== undefined && s.startsWith("'") && s.endsWith("'");

export class MysqlAuroraLoader extends Loader {
  protected override quotes = "`";

  async copyFromS3(req: LoadRequest): Promise<string[]> {
    const dict = copyArgs(req.args, COPY_PARAMS);
    const events: string[] = [];
    if (await isRunt(this.run, req.bucket, req.key, req.minSize, events)) return events;
    const target = this.objectName(req.schema, req.table);
    const colList = this.columnList(req.columns);
    const words = (k: string) => dict.get(k)!.trim().split(/\s+/);

    const loadTypes = ["FILE", "PREFIX", "MANIFEST"].filter((k) => dict.has(k));
    if (loadTypes.length > 1) throw new LoadError("Only one of FILE | PREFIX | MANIFEST allowed");
    const loadType = loadTypes[0] ?? "FILE";
    const uri = req.region ? `s3-${req.region}://${req.bucket}/${req.key}` : `s3://${req.bucket}/${req.key}`;
    if (uri.includes("'")) throw new LoadError(`Bad S3 object name: ${uri}`);

    const replaceIgnore = ["IGNORE", "REPLACE"].filter((k) => dict.has(k));
    if (replaceIgnore.length > 1) throw new LoadError("Only one of IGNORE | REPLACE allowed");
    const partition = dict.get("PARTITION") ?? "";

    let charset = "";
    if (dict.has("ENCODING")) {
      const x = words("ENCODING");
      if (x.length !== 2) throw new LoadError("Usage: ENCODING charset-name");
      charset = `CHARACTER SET ${x[1]}`;
    }

    const format: string[] = [];
    if (dict.has("DELIMITER")) {
      const x = words("DELIMITER");
      if (x.length !== 2 || !isQuoted(x[1])) throw new LoadError("Usage: DELIMITER 'string'");
      format.push(`TERMINATED BY ${x[1]}`);
    }
    if (dict.has("QUOTE")) {
      const x = words("QUOTE");
      if (x.length === 3 && x[1]!.toUpperCase() === "OPTIONAL" && isQuoted(x[2])) format.push(`OPTIONALLY ENCLOSED BY ${x[2]}`);
      else if (x.length === 2 && isQuoted(x[1])) format.push(`ENCLOSED BY ${x[1]}`);
      else throw new LoadError("Usage: QUOTE [OPTIONAL] 'char'");
    }
    if (dict.has("ESCAPE")) {
      const x = words("ESCAPE");
      if (x.length !== 2 || !isQuoted(x[1])) throw new LoadError("Usage: ESCAPE 'char'");
      format.push(`ESCAPED BY ${x[1]}`);
    }
    const columnFormat = format.length ? `COLUMNS ${format.join(" ")}` : "";

    let terminator = "";
    if (dict.has("TERMINATOR")) {
      const x = words("TERMINATOR");
      if (x.length === 2 && isQuoted(x[1])) terminator = `LINES TERMINATED BY ${x[1]}`;
      else if (x.length === 2 && x[1]!.toUpperCase() === "UNIX") terminator = String.raw`LINES TERMINATED BY '\n'`;
      else if (x.length === 2 && x[1]!.toUpperCase() === "DOS") terminator = String.raw`LINES TERMINATED BY '\r\n'`;
      else throw new LoadError("Usage: TERMINATOR UNIX|DOS|'string'");
    }

    let skipHeader = "";
    if (dict.has("HEADER")) {
      const x = words("HEADER");
      if (x.length === 1) skipHeader = "IGNORE 1 LINES";
      else if (x.length === 2) skipHeader = `IGNORE ${x[1]} LINES`;
      else throw new LoadError("Usage: HEADER [number]");
    }

    const copy = [`LOAD DATA FROM S3 ${loadType} '${uri}'`, replaceIgnore[0] ?? "", `INTO TABLE ${target}`, partition, charset, columnFormat, terminator, skipHeader, colList]
      .join(" ")
      .replace(/\s+/g, " ")
      .trim();
    this.run.log.debug(`COPY command: ${copy}`);
    events.push(copy);
    events.push(`Running COPY command for ${req.schema}.${req.table}`);
    const result = await this.exec(copy);
    events.push(`Copy to ${req.schema}.${req.table} complete`);
    events.push(`${result.rowCount ?? 0} records processed`);
    return events;
  }
}
