/**
 * `lava sql` / `lava-sql`: runs SQL through a realm's database connection, from a terminal, a script or a
 * job (sqlv runs it; so does the mssql `LAVA_CONN_*` script), with the original lava-sql's options:
 *
 *   lava-sql -c CONN_ID [-r REALM] [-a NAME] [-b N] [--format csv|html|jsonl] [--header] [-o FILE|s3://…]
 *            [--raw] [--transaction] [csv: --delimiter C --dialect D --doublequote --escapechar C
 *            --quotechar C --quoting Q] [jsonl: --sort-keys] [SQL-FILE|s3://…|- ...]
 *
 * With no SQL file (or `-`) the SQL is read from standard input. Output goes to standard output, a file or
 * an object (streamed as it is fetched). Failures are logged (`--log`, `--level`) and exit with status 1;
 * usage errors with 2. The work itself is src/handlers/sql/lava-sql.ts.
 */
import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { defineCommand } from "./index.ts";
import { UsageError } from "../../core/errors.ts";
import { LavaConfig } from "../../core/config.ts";
import { errorText } from "../../core/error-text.ts";
import type { Logger } from "../../core/log.ts";
import type { Ports, SqlSession } from "../../ports/index.ts";
import { connectSql, sqlDialect, SQL_TYPES } from "../../connectors/sql.ts";
import { getConnectionSpec } from "../../connectors/spec.ts";
import { connectionError } from "../../connectors/params.ts";
import type { SqlDialect } from "../../connectors/types.ts";
import { QUOTING_STYLES, type Quoting } from "../../handlers/sql/csv.ts";
import { LavaSqlError, runLavaSql, SQL_FORMATS, type LavaSqlOptions, type SqlFormat, type SqlSource } from "../../handlers/sql/lava-sql.ts";
import { backendArgs, loggerFrom, loggingArgs, portsFrom, readRealmConfig, realmFrom, str, type CommonOptions } from "../common.ts";
import { positionalArgs } from "../parse.ts";

const PROG = "lava-sql";
const BATCH_SIZE = 1024;
const DIALECTS = ["excel", "excel-tab", "unix"];

export default defineCommand({
  meta: { description: "Run SQL using lava database connections" },
  args: {
    "sql-file": { type: "positional", required: false, valueHint: "SQL-FILE", description: 'SQL files, local or s3://...; none or "-": standard input' },
    "conn-id": { type: "string", alias: "c", valueHint: "CONN_ID", description: "Lava database connection ID (required)" },
    realm: { type: "string", alias: "r", valueHint: "REALM", description: "Lava realm (default $LAVA_REALM)" },
    "app-name": { type: "string", alias: ["a", "application-name"], valueHint: "NAME", description: "Application name for the database connection (default from CONN_APP_NAME)" },
    "batch-size": { type: "string", alias: "b", valueHint: "BATCH_SIZE", description: `Rows fetched at a time (default ${BATCH_SIZE})` },
    format: { type: "string", valueHint: SQL_FORMATS.join("|"), description: "Output format (default csv)" },
    header: { type: "boolean", description: "Print a header for SELECT queries (csv, html)" },
    output: { type: "string", alias: "o", valueHint: "FILENAME", description: "Write output to this file or s3://... object (default standard output)" },
    raw: { type: "boolean", description: "Do not split SQL files into statements" },
    transaction: { type: "boolean", description: "Disable auto-commit and run all SQL in one transaction" },
    delimiter: { type: "string", valueHint: "CHAR", description: "csv: field delimiter (default |)" },
    dialect: { type: "string", valueHint: DIALECTS.join("|"), description: "csv: dialect as Python's csv module (default excel)" },
    doublequote: { type: "boolean", description: "csv: as Python's csv.writer" },
    escapechar: { type: "string", valueHint: "CHAR", description: "csv: as Python's csv.writer (default none)" },
    quotechar: { type: "string", valueHint: "CHAR", description: 'csv: as Python\'s csv.writer (default ")' },
    quoting: { type: "string", valueHint: "QUOTING", description: "csv: minimal, all, nonnumeric or none (default minimal)" },
    "sort-keys": { type: "boolean", description: "jsonl: sort keys in JSON objects" },
    ...backendArgs,
    ...loggingArgs,
  },
  async run({ args }) {
    const connId = str(args["conn-id"]);
    if (connId === undefined) throw new UsageError("the following arguments are required: -c/--conn-id");
    const realm = realmFrom(args as CommonOptions, process.env, "Lava realm must be specified via -r, --realm or LAVA_REALM environment variable.");
    const files = positionalArgs(args);
    const log = loggerFrom(args as CommonOptions, { program: PROG, realm });
    let ports: Ports | undefined;
    try {
      const opts = optionsFrom(args);
      ports = await portsFrom(args as CommonOptions);
      await runSql(ports, log, { realm, connId, appName: str(args["app-name"]), files: files.length ? files : ["-"], output: str(args.output), opts });
      return 0;
    } catch (e) {
      if (e instanceof UsageError) throw e;
      log.error(errorText(e));
      return 1;
    } finally {
      await ports?.close();
    }
  },
});

/** The format options, checked as argparse checks the original's. */
function optionsFrom(args: Record<string, unknown>): LavaSqlOptions {
  const format = (str(args.format) ?? "csv") as SqlFormat;
  if (!SQL_FORMATS.includes(format)) throw new UsageError(`argument --format: invalid choice: '${format}' (choose from ${SQL_FORMATS.map((f) => `'${f}'`).join(", ")})`);
  const rawSize = typeof args["batch-size"] === "string" ? args["batch-size"] : String(BATCH_SIZE);
  if (!/^\s*[+-]?\d+\s*$/.test(rawSize)) throw new UsageError(`argument -b/--batch-size: invalid int value: '${rawSize}'`);
  const batchSize = Number(rawSize);
  if (batchSize < 1) throw new UsageError("Batch size must be >= 1.");
  const dialect = typeof args.dialect === "string" ? args.dialect : "excel";
  if (!DIALECTS.includes(dialect)) throw new UsageError(`argument --dialect: invalid choice: '${dialect}' (choose from ${DIALECTS.map((d) => `'${d}'`).join(", ")})`);
  const quoting = typeof args.quoting === "string" ? args.quoting : "minimal";
  return {
    format,
    header: args.header === true,
    raw: args.raw === true,
    transaction: args.transaction === true,
    batchSize,
    sortKeys: args["sort-keys"] === true,
    csv: {
      dialect,
      delimiter: typeof args.delimiter === "string" ? args.delimiter : "|",
      doublequote: args.doublequote === true,
      escapechar: typeof args.escapechar === "string" ? args.escapechar : null,
      quotechar: typeof args.quotechar === "string" ? args.quotechar : '"',
      quoting: quotingStyle(format, quoting),
    },
  };
}

function quotingStyle(format: SqlFormat, quoting: string): Quoting {
  const style = quoting.toUpperCase() as Quoting;
  // Checked only for csv output, as the original's csv writer checks it; the words are its own.
  if (format === "csv" && !QUOTING_STYLES.includes(style)) throw new LavaSqlError(`Bad quoting style: ${quoting}`);
  return style;
}

interface SqlRun {
  realm: string;
  connId: string;
  appName?: string;
  files: string[];
  output?: string;
  opts: LavaSqlOptions;
}

async function runSql(ports: Ports, log: Logger, r: SqlRun): Promise<void> {
  const config = new LavaConfig(await readRealmConfig(ports, r.realm));
  const ctx = { ports, realm: r.realm, config, jobId: str(process.env.LAVA_JOB_ID) };
  const item = await getConnectionSpec(ports, r.realm, r.connId);
  const dialect: SqlDialect | undefined = sqlDialect(item.type);
  if (!dialect) throw connectionError(item, ctx, `Must be a database connection (${SQL_TYPES.join(", ")}), not "${item.type}"`);
  const session = await connectSql(item, ctx, { autocommit: !r.opts.transaction, ...(r.appName ? { applicationName: r.appName } : {}) });
  try {
    const sources = r.files.map((name) => source(ports, name));
    await writeOutput(ports, r.output, runLavaSql(session, dialect, sources, r.opts, log));
  } finally {
    await closeQuietly(session, log);
  }
}

async function closeQuietly(session: SqlSession, log: Logger): Promise<void> {
  await session.close().catch((e) => log.warning(`Closing the connection: ${errorText(e)}`));
}

function source(ports: Ports, name: string): SqlSource {
  return {
    name,
    async read() {
      if (name === "" || name === "-") return Bun.stdin.text();
      if (name.startsWith("s3://")) return new Response(await ports.objects.get(name)).text();
      try {
        return readFileSync(name, "utf8");
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new Error(`[Errno 2] No such file or directory: '${name}'`);
        throw e;
      }
    },
  };
}

/** Standard output, a local file (created 0644 as Python's open does, before the first statement) or an object. */
async function writeOutput(ports: Ports, output: string | undefined, chunks: AsyncGenerator<string>): Promise<void> {
  const encoder = new TextEncoder();
  if (output?.startsWith("s3://")) {
    let failure: unknown;
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          try {
            const next = await chunks.next();
            if (next.done) controller.close();
            else controller.enqueue(encoder.encode(next.value));
          } catch (e) {
            failure ??= e;
            controller.error(e);
          }
        },
        async cancel() {
          await chunks.return(undefined);
        },
      },
      { highWaterMark: 0 },
    );
    try {
      await ports.objects.put(output, body);
    } catch (e) {
      // A database error met while streaming surfaces as the upload's: report the cause itself.
      throw failure ?? e;
    }
    return;
  }
  if (output) {
    const fd = openSync(output, "w", 0o644);
    try {
      for await (const chunk of chunks) writeSync(fd, encoder.encode(chunk));
    } finally {
      closeSync(fd);
    }
    return;
  }
  const out = Bun.stdout.writer();
  for await (const chunk of chunks) {
    out.write(chunk);
    await out.flush();
  }
}
