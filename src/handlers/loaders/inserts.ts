/**
 * What the SQLite, Oracle and SQL Server loaders share: the object streamed from the store (gunzipped with
 * GZIP), read as Python's csv.reader reads the original's text-mode file (csv-reader.ts), and inserted in
 * batches of multi-row INSERTs inside the load's transaction. The original inserted row by row; batching
 * inserts the same rows with far fewer round trips (bench/sql.ts).
 *
 * Options (args): DELIMITER 'c', QUOTECHAR 'c', ESCAPECHAR 'c', DOUBLEQUOTE, QUOTING 'style', HEADER,
 * GZIP, MANIFEST. Divergence: ESCAPECHAR is honoured; the original's misspelt option loop ("ESCAPCHAR")
 * accepted it and ignored it.
 */
import { errorText } from "../../core/error-text.ts";
import { copyArgs, isRunt, Loader, LoadError, objectBytes, objectList, type LoadRequest } from "./base.ts";
import { csvRows, READER_QUOTING, type Cell, type ReaderOptions, type ReaderQuoting } from "../csv-reader.ts";

const COPY_PARAMS: ReadonlySet<string> = new Set(["DELIMITER", "DOUBLEQUOTE", "ESCAPECHAR", "GZIP", "HEADER", "MANIFEST", "QUOTECHAR", "QUOTING"]);

/** The csv.reader options of the job's args (the original's regular expressions and messages). */
export function readerOptions(dict: Map<string, string>): ReaderOptions {
  const opts: ReaderOptions = {};
  for (const [param, field] of [["DELIMITER", "delimiter"], ["ESCAPECHAR", "escapechar"], ["QUOTECHAR", "quotechar"]] as const) {
    const arg = dict.get(param);
    if (arg === undefined) continue;
    const m = / '(.)'$/u.exec(arg);
    if (!m) throw new LoadError(`Bad ${param} value: ${arg}`);
    opts[field] = m[1]!;
  }
  if (dict.has("DOUBLEQUOTE")) opts.doublequote = true;
  const quoting = dict.get("QUOTING");
  if (quoting !== undefined) {
    const m = /^QUOTING\s+'([A-Z]+)'\s*$/i.exec(quoting);
    if (!m) throw new LoadError(`Bad quoting spec: ${quoting}`);
    const style = m[1]!.toUpperCase() as ReaderQuoting;
    if (!READER_QUOTING.includes(style)) throw new LoadError(`Bad quoting style: ${m[1]}`);
    opts.quoting = style;
  }
  return opts;
}

export abstract class InsertLoader extends Loader {
  /** Most bound parameters one INSERT may carry, and most rows. */
  protected abstract readonly maxParams: number;
  protected readonly maxRows: number = 1000;

  /** The INSERT of `rows` rows of `width` values into `target(cols)`. */
  protected abstract insertSql(target: string, cols: string, width: number, rows: number): string;

  /** The target as the events name it. */
  protected eventTarget(req: LoadRequest): string {
    return `${req.schema}.${req.table}`;
  }

  async copyFromS3(req: LoadRequest): Promise<string[]> {
    const dict = copyArgs(req.args, COPY_PARAMS);
    const events: string[] = [];
    const loadColumns = req.columns?.length ? req.columns : await this.columns(req.schema, req.table);
    const width = loadColumns.length;
    const target = this.objectName(req.schema, req.table);
    const cols = loadColumns.map((c) => this.objectName(c.split(" ", 1)[0]!)).join(",");
    const keys = await objectList(this.run, req, dict.has("MANIFEST"), events);
    const gzip = dict.has("GZIP");
    const opts = readerOptions(dict);
    this.run.log.debug(`CSV format params: ${JSON.stringify(opts)}`);
    const perInsert = Math.max(1, Math.min(this.maxRows, Math.floor(this.maxParams / Math.max(width, 1))));
    const full = this.insertSql(target, cols, width, perInsert);
    events.push(`Running INSERTs for ${this.eventTarget(req)}`);
    for (const [b, k] of keys) {
      if (await isRunt(this.run, b, k, req.minSize, events)) continue;
      const data = await objectBytes(this.run, b, k, gzip);
      events.push(`Inserting data from s3://${b}/${k}`);
      let rowNum = 0;
      let batch: Cell[] = [];
      let batchRows = 0;
      const flush = async () => {
        if (!batchRows) return;
        await this.session.query(batchRows === perInsert ? full : this.insertSql(target, cols, width, batchRows), batch);
        batch = [];
        batchRows = 0;
      };
      try {
        let header = dict.has("HEADER");
        for await (const row of csvRows(data, opts)) {
          if (header) {
            header = false;
            continue;
          }
          rowNum++;
          if (row.length !== width) throw new LoadError(`s3://${b}/${k}: Expected ${width} columns but got ${row.length}`);
          for (const v of row) batch.push(v);
          if (++batchRows === perInsert) await flush();
        }
        await flush();
      } catch (e) {
        if (e instanceof LoadError) throw e;
        throw new LoadError(`s3://${b}/${k}: ${errorText(e)}`);
      }
      events.push(`Inserted ${rowNum} rows from s3://${b}/${k}`);
    }
    return events;
  }
}
