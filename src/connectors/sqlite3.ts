/**
 * SQLite connections (`sqlite3`): `host` is the database file, or an `s3://` object staged to a local file
 * and put back when it changed (size or modification time) by the time the connection closes. `port` and
 * `user` must be present, as the original requires, and are ignored.
 *
 * The CLI wrapper is the original's (`sqlite3 -bail -batch "$@" FILE`, with `aws s3 cp` staging); its
 * change test uses `stat -c` where the original's BSD-only `stat -f` fails on Linux.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { SqlSession } from "../ports/index.ts";
import { errorText } from "../core/error-text.ts";
import { connectionError } from "./params.ts";
import { connectionDir, writeScript } from "./scripts.ts";
import { resolveSqlConnection } from "./sql.ts";
import type { ConnectionSpec, Connector, ConnectorContext, SqlConnection } from "./types.ts";

export const sqlite3Connector: Connector = {
  types: ["sqlite3"],
  cliScript: sqliteScript,
  connect: sqliteConnect,
};

async function sqliteConnect(conn: SqlConnection, ctx: ConnectorContext): Promise<SqlSession> {
  if (!conn.host.startsWith("s3://")) return ctx.ports.sqlite.open(conn.host);
  const dir = mkdtempSync(join(tmpdir(), "lava-sqlite3."));
  const local = join(dir, basename(conn.host) || "db.sqlite3");
  try {
    await Bun.write(local, new Response(await ctx.ports.objects.get(conn.host)));
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw connectionError(conn.spec, ctx, `Cannot get ${conn.host}: ${errorText(e)}`, e);
  }
  const before = statSync(local);
  const session = ctx.ports.sqlite.open(local);
  return {
    query: (sql, params) => session.query(sql, params),
    cursor: (sql, n, opts) => session.cursor(sql, n, opts),
    async close() {
      await session.close();
      try {
        const after = statSync(local);
        if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) {
          await ctx.ports.objects.put(conn.host, new Uint8Array(await Bun.file(local).arrayBuffer()));
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

const CLI = `db_file=__DB_FILE__
TMP=$(mktemp -d)
z=3
trap '/bin/rm -rf $TMP; exit $z' 0
file_state() { stat -c "%s %Y" "$1" 2>/dev/null || stat -f "%z %m" "$1"; }
if [[ "$db_file" =~ ^s3:// ]]
then
    s3_file="$db_file"
    db_file=$TMP/$(basename "$s3_file")
    aws s3 cp "$s3_file" "$db_file" || exit
    old_state=$(file_state "$db_file")
    sleep 1
fi
sqlite3 -bail -batch "$@" "$db_file" || exit
if [ "$s3_file" != "" ]
then
    if [ "$old_state" != "$(file_state "$db_file")" ]
    then
        aws s3 cp "$db_file" "$s3_file"
    fi
fi
z=0
`;

async function sqliteScript(item: ConnectionSpec, workdir: string, ctx: ConnectorContext): Promise<string> {
  const conn = await resolveSqlConnection(item, ctx);
  if (/['"\\]/.test(conn.host)) throw connectionError(item, ctx, "Invalid database file (host parameter)");
  return writeScript(connectionDir(workdir), "sqlite3", CLI.replace("__DB_FILE__", `'${conn.host}'`));
}
