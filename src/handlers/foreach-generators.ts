/**
 * The value generators of the `foreach` job type (the original's lava/foreach.py): each yields one map of
 * globals per iteration. They are read lazily and only as far as the caller asks (the job's limit + 1),
 * so a long source is refused without being read whole.
 *
 * | type    | fields (* required)                 | rendered (when `jinja` is on) |
 * |---------|-------------------------------------|-------------------------------|
 * | csv     | type*, filename*                    | filename                      |
 * | inline  | type*, values*                      | -                             |
 * | jsonl   | type*, filename*                    | filename                      |
 * | query   | type*, conn_id*, query*             | - (never: SQL injection)      |
 * | range   | type*, stop*, start, step, name     | -                             |
 * | s3list  | type*, bucket*, prefix, glob        | bucket, prefix                |
 *
 * `filename` is `s3://bucket/key` (read through the objects port) or a local file inside the run
 * directory (docs/SECURITY.md, "foreach sources"); the original opens any path or URL smart_open knows.
 */
import { realpath } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { dictCheck } from "../core/dict-check.ts";
import { errorText } from "../core/error-text.ts";
import { fnmatchRegExp } from "../core/fnmatch.ts";
import { JobFailure, type JobRun } from "../core/job-contract.ts";
import { setOwn } from "../core/own-property.ts";
import { NotFoundError, parseS3Uri } from "../ports/index.ts";
import { getSqlConnection } from "../connectors/sql.ts";
import { isPlainObject } from "./common.ts";
import { intParameter } from "./orchestration.ts";
import { csvRows, textLines } from "./csv-reader.ts";

export type Values = Record<string, unknown>;

interface Generator {
  required: readonly string[];
  optional: readonly string[];
  rendered: readonly string[];
  values(spec: Record<string, unknown>, run: JobRun): AsyncIterable<Values>;
}

/** Rows read per database round trip: enough for any foreach limit. */
const QUERY_BATCH = 100;

/**
 * Up to `max` value maps from the generator `spec` describes. Its fields are checked, the rendered ones
 * rendered (`jinja` on), then the source is read no further than `max` maps.
 */
export async function readForeachValues(run: JobRun, spec: unknown, jinja: boolean, max: number): Promise<Values[]> {
  if (!isPlainObject(spec)) throw new JobFailure(`Bad foreach: must be a map, not ${JSON.stringify(spec)}`);
  if (!("type" in spec)) throw new JobFailure("Bad foreach: Missing keys: type");
  const type = spec.type;
  const gen = typeof type === "string" && Object.hasOwn(GENERATORS, type) ? GENERATORS[type] : undefined;
  if (!gen) throw new JobFailure(`No foreach handler for type ${String(type)}`);
  try {
    dictCheck(spec, ["type", ...gen.required], gen.optional);
  } catch (err) {
    throw new JobFailure(`Bad foreach (${type}): ${(err as Error).message}`);
  }
  const fields = { ...spec };
  if (jinja) {
    for (const k of gen.rendered) {
      const v = fields[k];
      if (typeof v !== "string") continue;
      try {
        fields[k] = await run.render(v);
      } catch (err) {
        throw new JobFailure(`Bad foreach (${type}): cannot render ${k}: ${errorText(err)}`);
      }
    }
  }
  const out: Values[] = [];
  if (max <= 0) return out;
  for await (const values of gen.values(fields, run)) {
    checkNames(Object.keys(values));
    out.push(values);
    if (out.length >= max) break;
  }
  return out;
}

function checkNames(names: Iterable<string>): void {
  for (const n of names) if (n.toLowerCase().startsWith("lava")) throw new JobFailure(`foreach field names may not start with "lava": ${n}`);
}

const GENERATORS: Record<string, Generator> = {
  range: {
    required: ["stop"],
    optional: ["start", "step", "name"],
    rendered: [],
    async *values(spec) {
      const name = spec.name;
      if (name !== undefined && name !== null && typeof name !== "string") throw new JobFailure(`Bad foreach (range): name must be a string, not ${JSON.stringify(name)}`);
      if (name) checkNames([name]);
      const start = spec.start === undefined ? 0 : intParameter("foreach start", spec.start);
      const stop = intParameter("foreach stop", spec.stop);
      const step = spec.step === undefined ? 1 : intParameter("foreach step", spec.step);
      if (step === 0) throw new JobFailure("Bad foreach (range): step must not be zero");
      for (let n = start; step > 0 ? n < stop : n > stop; n += step) {
        const v: Values = {};
        if (name) setOwn(v, name, n);
        yield v;
      }
    },
  },

  inline: {
    required: ["values"],
    optional: [],
    rendered: [],
    async *values(spec) {
      const list = spec.values;
      if (!Array.isArray(list)) throw new JobFailure("Bad foreach (inline): values must be a sequence of objects");
      for (const [i, d] of list.entries()) {
        if (!isPlainObject(d)) throw new JobFailure(`Bad foreach (inline): values[${i}] must be a map, not ${JSON.stringify(d)}`);
        yield d;
      }
    },
  },

  jsonl: {
    required: ["filename"],
    optional: [],
    rendered: ["filename"],
    async *values(spec, run) {
      const filename = String(spec.filename);
      let lineno = 0;
      // Lines as Python's text-mode iteration gives them (ending in \n, which JSON.parse ignores).
      for await (const line of textLines(await openSource(run, filename))) {
        lineno++;
        let d: unknown;
        try {
          d = JSON.parse(line);
        } catch (err) {
          throw new JobFailure(`${filename}: line ${lineno}: ${(err as Error).message}`);
        }
        if (!isPlainObject(d)) throw new JobFailure(`${filename}: line ${lineno}: not a JSON object`);
        yield d;
      }
    },
  },

  csv: {
    required: ["filename"],
    optional: [],
    rendered: ["filename"],
    async *values(spec, run) {
      const filename = String(spec.filename);
      let header: string[] | undefined;
      for await (const record of csvRecords(await openSource(run, filename))) {
        if (!header) {
          if (record.length === 0) break;
          header = record;
          checkNames(header);
          continue;
        }
        // As Python's DictReader: blank lines skipped, missing fields None. Fields beyond the header it
        // keeps in a list under the key None (its restkey), which no template or global can name, and the
        // original runs the child regardless (a trailing comma is common): they are dropped.
        if (record.length === 0) continue;
        const v: Values = {};
        header.forEach((h, i) => setOwn(v, h, i < record.length ? record[i] : null));
        yield v;
      }
      if (!header) throw new JobFailure(`${filename}: csv file has no header`);
    },
  },

  query: {
    required: ["conn_id", "query"],
    optional: [],
    rendered: [],
    async *values(spec, run) {
      if (typeof spec.conn_id !== "string") throw new JobFailure(`Bad foreach (query): conn_id must be a string, not ${JSON.stringify(spec.conn_id)}`);
      if (typeof spec.query !== "string") throw new JobFailure(`Bad foreach (query): query must be a string, not ${JSON.stringify(spec.query)}`);
      const session = await getSqlConnection(spec.conn_id, { ports: run.ports, realm: run.job.realm, config: run.config, jobId: run.job.job_id });
      try {
        let checked = false;
        for await (const batch of session.cursor(spec.query, QUERY_BATCH)) {
          if (!checked) {
            checkNames(batch.columns);
            checked = true;
          }
          for (const r of batch.rows) {
            const v: Values = {};
            batch.columns.forEach((c, i) => setOwn(v, c, r[i]));
            yield v;
          }
        }
      } finally {
        await session.close();
      }
    },
  },

  s3list: {
    required: ["bucket"],
    optional: ["glob", "prefix"],
    rendered: ["bucket", "prefix"],
    async *values(spec, run) {
      if (typeof spec.bucket !== "string" || !spec.bucket) throw new JobFailure(`Bad foreach (s3list): bucket must be a bucket name, not ${JSON.stringify(spec.bucket)}`);
      const prefix = spec.prefix ?? "";
      if (typeof prefix !== "string") throw new JobFailure(`Bad foreach (s3list): prefix must be a string, not ${JSON.stringify(prefix)}`);
      const globs = spec.glob === undefined || spec.glob === null ? [] : typeof spec.glob === "string" ? [spec.glob] : spec.glob;
      if (!Array.isArray(globs) || globs.some((g) => typeof g !== "string")) throw new JobFailure(`Bad foreach (s3list): glob must be a glob or a list of globs, not ${JSON.stringify(spec.glob)}`);
      const res = (globs as string[]).map(fnmatchRegExp);
      const bucket = spec.bucket;
      let token: string | undefined;
      do {
        let page;
        try {
          page = await run.ports.objects.list(`s3://${bucket}/${prefix}`, token ? { continuationToken: token } : undefined);
        } catch (err) {
          if (err instanceof NotFoundError) throw new JobFailure(`Bad foreach (s3list): bucket ${bucket}: ${err.message}`);
          throw err;
        }
        for (const o of page.objects) {
          if (res.length && !res.some((re) => re.test(o.key))) continue;
          // boto3's list_objects_v2 Contents entry plus Bucket, in its key order. The ports carry no storage
          // class; every object they write is STANDARD.
          yield { s3obj: { Key: o.key, LastModified: o.lastModified, ETag: o.etag ?? "", Size: o.size, StorageClass: "STANDARD", Bucket: bucket } };
        }
        token = page.continuationToken;
      } while (token);
    },
  },
};

/**
 * The bytes of a csv/jsonl source: an `s3://` object, or a local file inside the run directory (a
 * relative name is relative to it). Other schemes are refused.
 */
async function openSource(run: JobRun, filename: string): Promise<ReadableStream<Uint8Array>> {
  if (filename.startsWith("s3://")) {
    try {
      parseS3Uri(filename);
      return await run.ports.objects.get(filename);
    } catch (err) {
      if (err instanceof NotFoundError) throw new JobFailure(`${filename}: no such object`);
      throw new JobFailure(`${filename}: ${errorText(err)}`);
    }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(filename)) throw new JobFailure(`${filename}: only s3:// objects and local files in the run directory can be read`);
  let path: string;
  let area: string;
  try {
    area = await realpath(run.runDir);
    path = await realpath(resolve(run.runDir, filename));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new JobFailure(`${filename}: no such file in the run directory`);
    throw new JobFailure(`${filename}: ${errorText(err)}`);
  }
  const rel = relative(area, path);
  if (rel === "" || rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new JobFailure(`${filename}: local files must be inside the run directory`);
  }
  return Bun.file(path).stream();
}

/**
 * Records of a CSV stream as Python's csv.DictReader reads them underneath (csv.reader, excel dialect, on
 * the file in text mode): the one Python-compatible reader, ./csv-reader.ts.
 */
export async function* csvRecords(stream: ReadableStream<Uint8Array>): AsyncGenerator<string[]> {
  // The default quoting (MINIMAL) gives strings only.
  for await (const row of csvRows(stream, {})) yield row as string[];
}
