/**
 * `lava sql` as a separate process on a local realm: csv, jsonl and html output compared byte for byte with
 * what the original's lava-sql writes (its writers run here in this machine's python3, on the rows Python's
 * sqlite3 reads from the same file, or the rows pg8000 returns for PostgreSQL literals); stdin, several
 * files, output to a file and to an object; transactions; the failure paths (bad SQL, unknown connection,
 * wrong password, usage errors), with no secret in any output.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mysql from "mysql2/promise";
import { openLocalPorts, type LocalPorts } from "../../src/adapters/local/index.ts";
import { createRealm } from "../../src/core/realm-setup.ts";
import { realmTable } from "../../src/core/names.ts";
import { silentLogger } from "../../src/core/log.ts";
import { needs, tcpOpen } from "../support/availability.ts";
import { pythonPresent, runPython } from "../support/python.ts";
import { MAIN, ROOT } from "../support/lava-process.ts";

const MY_PASSWORD = "LavaSql-Wr0ng-7373";

const pgUp = needs("PostgreSQL on 127.0.0.1:5432", await tcpOpen(5432));
const myUp = needs("MariaDB on 127.0.0.1:3306", await tcpOpen(3306));
const pyUp = needs("python3 with jinja2", pythonPresent() && Bun.spawnSync(["/usr/bin/python3", "-c", "import jinja2"]).exitCode === 0);

let root: string;
let home: string;
let ports: LocalPorts;
let db: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "lava-cli-sql-"));
  home = join(root, "home");
  db = join(root, "t.sqlite3");
  ports = await openLocalPorts({ home });
  await createRealm(ports, { realm: "q", workers: ["core"], bucket: "lava-q" }, silentLogger());
  const conn = (item: Record<string, unknown>) => ports.tables.put(realmTable("q", "connections"), { enabled: true, ...item });
  await conn({ conn_id: "lite", type: "sqlite3", host: db, port: 0, user: "x" });
  await conn({ conn_id: "pg", type: "postgres", host: "127.0.0.1", port: 5432, database: "test", user: "postgres", password: "/q/pg" });
  await conn({ conn_id: "my-wrong", type: "mariadb", host: "127.0.0.1", port: 3306, database: "test", user: "lava_cli_sql", password: "/q/my" });
  await conn({ conn_id: "hook", type: "slack", webhook_url: "http://127.0.0.1:1/x" });
  ports.local.putParameter("/q/pg", "unused-by-trust", { secure: true });
  ports.local.putParameter("/q/my", MY_PASSWORD, { secure: true });
  if (myUp) {
    const c = await mysql.createConnection({ host: "127.0.0.1", port: 3306, user: "root" });
    await c.query("DROP USER IF EXISTS 'lava_cli_sql'@'%'");
    await c.query("CREATE USER 'lava_cli_sql'@'%' IDENTIFIED BY 'the-right-one-3'");
    await c.end();
  }
});

afterAll(async () => {
  await ports?.close();
  rmSync(root, { recursive: true, force: true });
});

interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

async function sql(args: string[], stdin?: string): Promise<Finished> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("LAVA_") && !k.startsWith("AWS_")) env[k] = v;
  const proc = Bun.spawn([process.execPath, MAIN, "sql", ...args], {
    cwd: ROOT,
    env: { ...env, LAVA_HOME: home, LAVA_BACKEND: "local", NO_COLOR: "1" },
    stdin: stdin === undefined ? "ignore" : Buffer.from(stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** The original's three writers (bin/lava-sql), as Python code run on `rows` (a Python expression's value). */
const PY_WRITERS = `
import csv, io, json, sys, jinja2
from datetime import datetime, timedelta
from decimal import Decimal
def json_default(obj):
    if isinstance(obj, datetime): return obj.isoformat()
    if isinstance(obj, Decimal): return float(obj) if '.' in str(obj) else int(obj)
    return str(obj)
HTML = """
        {%- autoescape true -%}
        <TABLE class="lava-sql">
            {% if header %}<THEAD>
                <TR>
                    {% for h in header -%}
                    <TH>{{ h }}</TH>
                    {% endfor %}
                </TR>
            </THEAD>{% endif %}
            <TBODY>
            {%- for row in data %}
                <TR>
                    {% for val in row -%}
                        <TD>{{ val }}</TD>
                    {% endfor %}
                </TR>
            {% endfor %}
            </TBODY>
        </TABLE>
        {%- endautoescape %}
    """
def write(fmt, cols, rows, o):
    out = io.StringIO(newline='')
    if fmt == 'csv':
        w = csv.writer(out, dialect=o.get('dialect', 'excel'), delimiter=o.get('delimiter', '|'), doublequote=o.get('doublequote', False),
                       escapechar=o.get('escapechar'), quotechar=o.get('quotechar', '"'), quoting=getattr(csv, 'QUOTE_' + o.get('quoting', 'minimal').upper()))
        if o.get('header'): w.writerow(cols)
        w.writerows(rows)
    elif fmt == 'jsonl':
        for row in rows:
            json.dump(dict(zip(cols, row)), out, sort_keys=o.get('sort_keys', False), default=json_default)
            print(file=out)
    else:
        jinja2.Template(HTML).stream(header=cols if o.get('header') else None, data=iter(rows)).dump(out)
    return out.getvalue()
`;

/** CLI flags for a Python option set. */
function flags(o: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    const name = k.replace("_", "-");
    if (v === true) out.push(`--${name}`);
    else out.push(`--${name}`, String(v));
  }
  return out;
}

describe("lava sql output, byte for byte as the original's writers", () => {
  test.if(pyUp)("SQLite: csv option sets, jsonl (sorted and not), html; rows as Python's sqlite3 reads them", async () => {
    const setup = await sql(["-r", "q", "-c", "lite"], `DROP TABLE IF EXISTS k;
CREATE TABLE k (i INTEGER, big INTEGER, r REAL, t TEXT, b BLOB, n TEXT, z TEXT);
INSERT INTO k VALUES (1, 9007199254740993, 0.1, 'plain <&> "q" ''s''', x'00ff27', NULL, 'é✓'),
  (-5, -9223372036854775808, 1e300, 'a|b
line', x'', NULL, ''), (0, 0, 1.5e-7, 'ünïcødé', NULL, 'x', '\t');`);
    expect(setup).toMatchObject({ code: 0, stdout: "" });
    const cases: [string, Record<string, unknown>][] = [
      ["csv", { escapechar: "\\" }],
      ["csv", { header: true, quoting: "all", escapechar: "~" }],
      ["csv", { quoting: "nonnumeric", delimiter: ",", doublequote: true }],
      ["csv", { quoting: "none", escapechar: "\\" }],
      ["csv", { dialect: "unix", quotechar: "'", doublequote: true, header: true }],
      ["jsonl", {}],
      ["jsonl", { sort_keys: true }],
      ["html", {}],
      ["html", { header: true }],
    ];
    const ours: string[] = [];
    for (const [fmt, o] of cases) {
      const r = await sql(["-r", "q", "-c", "lite", "--format", fmt, "-b", "2", ...flags(o)], "SELECT * FROM k ORDER BY i DESC;");
      expect(r.code).toBe(0);
      ours.push(r.stdout);
    }
    const expected = runPython(
      `${PY_WRITERS}
import sqlite3
d = json.load(sys.stdin)
res = []
for fmt, o in d['cases']:
    cur = sqlite3.connect(d['db']).cursor()
    cur.execute('SELECT * FROM k ORDER BY i DESC')
    res.append(write(fmt, [c[0] for c in cur.description], cur.fetchall(), o))
print(json.dumps(res))
`,
      { db, cases },
    ) as string[];
    for (let i = 0; i < cases.length; i++) expect([cases[i]![0], ours[i]]).toEqual([cases[i]![0], expected[i]!]);
  });

  test.if(pyUp && pgUp)("PostgreSQL: pg8000's values (Decimals, floats, bools, zoned times, bytea) in csv, html; jsonl for numbers", async () => {
    const select = `SELECT 1 AS id, 9223372036854775807::bigint AS big, 12345678901234567890.123456789::numeric AS num, 0.0000001::numeric AS tiny,
      1.50::numeric AS dec, 100::numeric AS whole, 0.1::float8 AS f, 1e20::float8 AS e, 'NaN'::float8 AS nan, true AS ok, NULL::text AS nothing,
      'a<b>"c"'::text AS t, '2024-06-30 23:59:59.123456+10'::timestamptz AS tz, '\\x00ff27'::bytea AS b`;
    const rows = `[(1, 9223372036854775807, Decimal('12345678901234567890.123456789'), Decimal('1E-7'), Decimal('1.50'), Decimal('100'), 0.1, 1e20, float('nan'), True, None,
      'a<b>"c"', datetime(2024, 6, 30, 13, 59, 59, 123456, tzinfo=timezone.utc), b'\\x00\\xff\\x27')]`;
    const cols = ["id", "big", "num", "tiny", "dec", "whole", "f", "e", "nan", "ok", "nothing", "t", "tz", "b"];
    const cases: [string, Record<string, unknown>][] = [
      ["csv", { header: true, quoting: "nonnumeric", doublequote: true }],
      ["html", { header: true }],
    ];
    const ours: string[] = [];
    for (const [fmt, o] of cases) {
      const r = await sql(["-r", "q", "-c", "pg", "--format", fmt, ...flags(o)], `SET TIME ZONE 'UTC'; ${select}`);
      expect(r.stderr).not.toContain("ERROR");
      ours.push(r.stdout);
    }
    // jsonl: every column but the datetime (json_default's isoformat needs the type, see docs/WORKER.md).
    const jsonCols = cols.filter((c) => c !== "tz");
    const r = await sql(["-r", "q", "-c", "pg", "--format", "jsonl"], `SELECT ${jsonCols.map((c) => `x.${c}`).join(", ")} FROM (${select}) x`);
    expect(r.code).toBe(0);
    ours.push(r.stdout);
    const expected = runPython(
      `${PY_WRITERS}
from datetime import timezone
d = json.load(sys.stdin)
rows = ${rows}
res = [write(fmt, d['cols'], rows, o) for fmt, o in d['cases']]
keep = [i for i, c in enumerate(d['cols']) if c != 'tz']
res.append(write('jsonl', [d['cols'][i] for i in keep], [tuple(r[i] for i in keep) for r in rows], {}))
print(json.dumps(res))
`,
      { cols, cases },
    ) as string[];
    expect(ours).toEqual(expected);
  });
});

describe("lava sql inputs, outputs, transactions", () => {
  test("several files and stdin in order, - for stdin, the info lines; output to a file and to an object", async () => {
    const a = join(root, "a.sql");
    writeFileSync(a, "select 'a' as x;\r\nselect 'a2'\r\n");
    const r = await sql(["-r", "q", "-c", "lite", a, "-"], "select 'in' as y");
    expect(r).toMatchObject({ code: 0, stdout: "a\r\na2\r\nin\r\n" });
    expect(r.stderr).toContain(`${a}: 2 queries completed, 2 rows returned`);
    expect(r.stderr).toContain("-: 1 query completed, 1 row returned");

    const out = join(root, "out.csv");
    expect((await sql(["-r", "q", "-c", "lite", "-o", out, "--header"], "select 1 as one")).code).toBe(0);
    expect(readFileSync(out, "utf8")).toBe("one\r\n1\r\n");

    await ports.objects.put("s3://lava-q/sql/in.sql", "select 'from s3' as s");
    expect((await sql(["-r", "q", "-c", "lite", "-o", "s3://lava-q/sql/out.jsonl", "--format", "jsonl", "s3://lava-q/sql/in.sql"])).code).toBe(0);
    expect(await new Response(await ports.objects.get("s3://lava-q/sql/out.jsonl")).text()).toBe('{"s": "from s3"}\n');
  });

  test("raw: one statement; LAVA_REALM names the realm", async () => {
    const proc = Bun.spawnSync([process.execPath, MAIN, "sql", "-c", "lite", "--raw"], {
      cwd: ROOT,
      env: { ...process.env, LAVA_HOME: home, LAVA_BACKEND: "local", LAVA_REALM: "q" },
      stdin: Buffer.from("select 'x;y' as v;"),
    });
    expect(proc.exitCode).toBe(0);
    expect(proc.stdout.toString()).toBe("x;y\r\n");
  });

  test.if(pgUp)("transaction: a failure rolls back and names the file and statement", async () => {
    expect((await sql(["-r", "q", "-c", "pg"], "DROP TABLE IF EXISTS lava_cli_tx")).code).toBe(0);
    const r = await sql(["-r", "q", "-c", "pg", "--transaction"], "CREATE TABLE lava_cli_tx (a int); INSERT INTO lava_cli_tx VALUES (1); SELECT * FROM lava_cli_nosuch;");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('-: Rollback : statement 3: relation "lava_cli_nosuch" does not exist');
    const check = await sql(["-r", "q", "-c", "pg"], "SELECT to_regclass('lava_cli_tx') IS NULL AS gone");
    expect(check.stdout).toBe("True\r\n");
    const ok = await sql(["-r", "q", "-c", "pg", "--transaction"], "DROP TABLE IF EXISTS lava_cli_tx; CREATE TABLE lava_cli_tx (a int); INSERT INTO lava_cli_tx VALUES (7)");
    expect(ok.code).toBe(0);
    expect(ok.stderr).toContain("Committing transaction");
    expect((await sql(["-r", "q", "-c", "pg"], "SELECT a FROM lava_cli_tx")).stdout).toBe("7\r\n");
  });
});

describe("lava sql failures", () => {
  test("bad SQL: status 1, the file, statement number and the database's message", async () => {
    const r = await sql(["-r", "q", "-c", "lite"], "select 1;\nselec 2;");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("1\r\n");
    expect(r.stderr).toContain('-: statement 2: near "selec": syntax error');
  });
  test("unknown connection, a connection that is not a database, a missing file", async () => {
    expect(await sql(["-r", "q", "-c", "nosuch"], "select 1")).toMatchObject({ code: 1 });
    expect((await sql(["-r", "q", "-c", "nosuch"], "select 1")).stderr).toContain("nosuch: No such connection");
    expect((await sql(["-r", "q", "-c", "hook"], "select 1")).stderr).toContain("Connection hook: Must be a database connection");
    expect((await sql(["-r", "q", "-c", "lite", join(root, "none.sql")])).stderr).toContain(`[Errno 2] No such file or directory: '${join(root, "none.sql")}'`);
  });
  test.if(myUp)("wrong password: the server's refusal, never the password", async () => {
    const r = await sql(["-r", "q", "-c", "my-wrong"], "select 1");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Connection my-wrong: Cannot connect to mariadb database at 127.0.0.1:3306: Access denied for user 'lava_cli_sql'");
    expect(r.stdout + r.stderr).not.toContain(MY_PASSWORD);
  });
  test("usage errors: status 2", async () => {
    const usage = async (args: string[], text: string) => {
      const r = await sql(args, "select 1");
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(text);
    };
    await usage(["-r", "q"], "the following arguments are required: -c/--conn-id");
    await usage(["-c", "lite"], "Lava realm must be specified via -r, --realm or LAVA_REALM environment variable.");
    await usage(["-r", "q", "-c", "lite", "--format", "xml"], "argument --format: invalid choice: 'xml' (choose from 'csv', 'html', 'jsonl')");
    await usage(["-r", "q", "-c", "lite", "-b", "0"], "Batch size must be >= 1.");
    await usage(["-r", "q", "-c", "lite", "-b", "x"], "argument -b/--batch-size: invalid int value: 'x'");
    await usage(["-r", "q", "-c", "lite", "--dialect", "dos"], "argument --dialect: invalid choice: 'dos'");
    const q = await sql(["-r", "q", "-c", "lite", "--quoting", "sometimes"], "select 1");
    expect(q.code).toBe(1);
    expect(q.stderr).toContain("Bad quoting style: sometimes");
  });
});
