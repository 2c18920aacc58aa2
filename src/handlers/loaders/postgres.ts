/**
 * db_from_s3 into PostgreSQL (`postgres`, `psql`): a client-side `COPY ... FROM STDIN` on the job's own
 * connection, fed from the object store as the object streams in (gunzipped on the way with GZIP), object
 * by object with MANIFEST, each within PG_COPY_TIMEOUT. Nothing is written to disk and nothing is held
 * whole in memory.
 *
 * The original downloaded each object to a file and ran `psql -f` with `\copy ... FROM '<file>'` in a
 * second session, so it had to commit TRUNCATE and CREATE first; here every step of the load is one
 * transaction, and a failed copy leaves the table as it was in every mode. A timed-out or cancelled copy
 * sends CopyFail: the server stops it. Divergences: the COPY command event names STDIN (there is no local
 * file); GZIP or MANIFEST alone gives no empty `WITH ()` (a syntax error in the original).
 */
import { errorText } from "../../core/error-text.ts";
import { copyArgs, isRunt, Loader, LoadError, objectBytes, objectList, type LoadRequest } from "./base.ts";

export const PG_COPY_PARAMS: ReadonlySet<string> = new Set([
  "FORMAT",
  "HEADER",
  "OIDS",
  "FREEZE",
  "DELIMITER",
  "NULL",
  "QUOTE",
  "ESCAPE",
  "FORCE_NOT_NULL",
  "FORCE_NULL",
  "ENCODING",
  // lava's own
  "MANIFEST",
  "GZIP",
]);

/** `FORCE_NULL *` / `FORCE_NOT_NULL *`: every column of the table (the original's shorthand). */
export async function expandForceAll(loader: Loader, dict: Map<string, string>, schema: string, table: string): Promise<void> {
  for (const k of ["FORCE_NULL", "FORCE_NOT_NULL"]) {
    const arg = dict.get(k);
    if (arg === undefined) continue;
    const parts = arg.split(/\s+/);
    const rest = arg.slice(parts[0]!.length).replace(/^\s+/, "");
    if (parts.length >= 2 && rest.trim() === "*") {
      dict.set(k, `${k} (${(await loader.columns(schema, table)).map((c) => loader.objectName(c)).join(", ")})`);
    }
  }
}

export class PostgresLoader extends Loader {
  async copyFromS3(req: LoadRequest): Promise<string[]> {
    const dict = copyArgs(req.args, PG_COPY_PARAMS);
    const events: string[] = [];
    const manifest = dict.delete("MANIFEST");
    const keys = await objectList(this.run, req, manifest, events);
    const gzip = dict.delete("GZIP");
    await expandForceAll(this, dict, req.schema, req.table);
    const withArgs = dict.size ? ` WITH (${[...dict.values()].join(", ")})` : "";
    const copy = `COPY ${this.objectName(req.schema, req.table)}${this.columnList(req.columns)} FROM STDIN${withArgs}`;
    this.run.log.debug(`COPY command: ${copy}`);
    events.push(`Running COPY command(s) for ${req.schema}.${req.table}`);
    events.push(`COPY command: ${copy}`);
    const timeout = this.run.config.seconds("PG_COPY_TIMEOUT");
    if (!this.session.copyFrom) throw new LoadError("This connection cannot COPY FROM STDIN");
    for (const [b, k] of keys) {
      if (await isRunt(this.run, b, k, req.minSize, events)) continue;
      const data = await objectBytes(this.run, b, k, gzip);
      events.push(`Copying s3://${b}/${k}`);
      const timer = AbortSignal.timeout(timeout * 1000);
      const signal = AbortSignal.any([timer, this.run.signal]);
      let count: number | undefined;
      try {
        count = await this.session.copyFrom(copy, data, signal);
      } catch (e) {
        if (timer.aborted) throw new LoadError(`COPY of s3://${b}/${k} timed out after ${timeout} seconds`);
        throw new LoadError(`s3://${b}/${k}: ${errorText(e)}`);
      }
      events.push("Copy complete");
      // psql's own report of the copy, which the original's event list carries.
      if (count !== undefined) events.push(`COPY ${count}`);
    }
    return events;
  }
}
