/**
 * sqlc and sqlv end to end on both backends, with SQLite: a real worker runs sqlc through the sqlite3
 * client (the connection's LAVA_CONN script) and sqlv through `lava sql` in a subprocess (this program run
 * again, reading the same realm store). Files are rendered whole by the real template engine, with HTML
 * autoescape for .html names; outputs land under s3tmp as the original names them.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Item } from "../../src/ports/index.ts";
import { realmTable } from "../../src/core/names.ts";
import type { LocalPorts } from "../../src/adapters/local/index.ts";
import { freePort, needs } from "../support/availability.ts";
import { dispatch, onBothBackends, REALM, startWorker, statuses, WORKER } from "./harness.ts";

const MS_PASSWORD = "Ms-Pw-5150-e2e";
const sqlite3Up = needs("the sqlite3 client", Bun.which("sqlite3") !== null);
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "lava-e2e-sqlc-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const job = (id: string, over: Record<string, unknown>) => ({ job_id: id, worker: WORKER, enabled: true, owner: "e2e", description: id, ...over });
const lastInfo = (item: Item | undefined) => (item!.log as Item[]).at(-1)!.info as Record<string, unknown>;

onBothBackends("sqlc and sqlv on SQLite", (backend) => {
  test.if(sqlite3Up)("client runs, rendering, outputs, failures (bad SQL, unknown connection, timeout)", async () => {
    const b = backend();
    const db = join(dir, `${b.name}.sqlite3`);
    const tmp = `s3://lava-ref/tmp`;
    const pay = (key: string, body: string) => b.ports.objects.put(`s3://lava-ref/payloads/${key}`, body);
    await b.ports.tables.put(realmTable(REALM, "connections"), { conn_id: "lite", type: "sqlite3", enabled: true, host: db, port: 0, user: "x" });
    // SQL Server: no server here; its client is this program's `lava sql`, which must reach the driver's connect.
    const msPort = freePort();
    await b.ports.tables.put(realmTable(REALM, "connections"), { conn_id: "ms", type: "mssql", enabled: true, host: "127.0.0.1", port: msPort, user: "sa", password: "/e2e/ms", timeout: 2 });
    // SSM is emulated on the local backend only: on aws the password lookup itself fails, still inside lava sql.
    if (b.name === "local") (b.ports as LocalPorts).local.putParameter("/e2e/ms", MS_PASSWORD, { secure: true });
    await pay("sq/a-make.sql", "CREATE TABLE t (id INTEGER, name TEXT);\nINSERT INTO t VALUES (1, '{{ vars.who }}'), (2, 'b|c');\n");
    await pay("sq/b-report.html", "select '{{ vars.tag }}' as v;\n");
    await pay("sq/c-report.sql", "select '{{ vars.tag }}' as v;\n");
    await pay("bad/bad.sql", "select 1;\nselec 2;\n");
    await pay("slow/slow.sql", "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c;\n");
    await pay("v/q.sql", "select id, name from t order by id;\nselect '{{ vars.tag }}' as tag, null as n\n");
    await pay("v/page.html", "select '{{ vars.tag }}' as esc\n");
    const vars = { who: "Ann", tag: "<b>&" };
    await b.putJob(job("ref/sqlc", { type: "sqlc", payload: "sq/", parameters: { conn_id: "lite", vars, args: ["-header"] } }));
    await b.putJob(job("ref/sqlc-ms", { type: "sqlc", payload: "bad/bad.sql", parameters: { conn_id: "ms" } }));
    await b.putJob(job("ref/sqlc-bad", { type: "sqlc", payload: "bad/bad.sql", parameters: { conn_id: "lite" } }));
    await b.putJob(job("ref/sqlc-nosuch", { type: "sqlc", payload: "bad/bad.sql", parameters: { conn_id: "nosuch" } }));
    await b.putJob(job("ref/sqlc-slow", { type: "sqlc", payload: "slow/slow.sql", parameters: { conn_id: "lite", timeout: "1s" } }));
    await b.putJob(job("ref/sqlv", { type: "sqlv", payload: "v/q.sql", parameters: { conn_id: "lite", vars, header: true } }));
    await b.putJob(job("ref/sqlv-jsonl", { type: "sqlv", payload: ["v/q.sql", "v/page.html"], parameters: { conn_id: "lite", vars, format: "jsonl" } }));
    await b.putJob(job("ref/sqlv-bad", { type: "sqlv", payload: "bad/bad.sql", parameters: { conn_id: "lite", transaction: true } }));

    const runs: Record<string, string> = {};
    // sqlc first: it makes the table the sqlv jobs read.
    runs["ref/sqlc"] = await dispatch(b, "ref/sqlc");
    let w = startWorker(b, ["--batch", "--wait", "1", "-t", "1"]);
    expect((await w.done).code).toBe(0);
    for (const id of ["ref/sqlc-ms", "ref/sqlc-bad", "ref/sqlc-nosuch", "ref/sqlc-slow", "ref/sqlv", "ref/sqlv-jsonl", "ref/sqlv-bad"]) runs[id] = await dispatch(b, id);
    w = startWorker(b, ["--batch", "--wait", "1", "-t", "2"]);
    expect((await w.done).code).toBe(0);
    const item = async (id: string) => (await b.events(id)).find((i) => i.run_id === runs[id]);
    const read = async (uri: string) => new Response(await b.ports.objects.get(uri)).text();
    const s3tmp = (id: string) => `${tmp}/${id}/${runs[id]}`;

    const sqlc = await item("ref/sqlc");
    expect(statuses(sqlc)).toEqual(["starting", "running", "complete"]);
    const base = s3tmp("ref/sqlc");
    expect(lastInfo(sqlc)).toEqual({
      exit_status: 0,
      error: null,
      output: [
        { payload: "a-make.sql", exit_status: 0 },
        { payload: "b-report.html", exit_status: 0, stdout: `${base}/b-report.html.stdout` },
        { payload: "c-report.sql", exit_status: 0, stdout: `${base}/c-report.sql.stdout` },
      ],
    });
    // select_autoescape(): the .html file's values HTML-escaped, the .sql file's not.
    expect(await read(`${base}/b-report.html.stdout`)).toBe("v\n&lt;b&gt;&amp;\n");
    expect(await read(`${base}/c-report.sql.stdout`)).toBe("v\n<b>&\n");

    const bad = await item("ref/sqlc-bad");
    expect(statuses(bad)).toEqual(["starting", "running", "failed"]);
    // The original's sqlite3 wrapper exits 3 on any client failure; the error is the client's stderr.
    expect(lastInfo(bad).error).toBe("Failed with exit status 3");
    const badData = lastInfo(bad).error_data as Record<string, unknown>;
    expect(badData.exit_status).toBe(3);
    expect(badData.error).toBe('Parse error near line 2: near "selec": syntax error\n  selec 2;\n  ^--- error here');
    expect(await read(`${s3tmp("ref/sqlc-bad")}/bad.sql.stdout`)).toBe("1\n");
    expect(await read(`${s3tmp("ref/sqlc-bad")}/bad.sql.stderr`)).toContain("selec");

    const ms = await item("ref/sqlc-ms");
    expect(statuses(ms)).toEqual(["starting", "running", "failed"]);
    expect(lastInfo(ms).error).toBe("Failed with exit status 1");
    const msError = String((lastInfo(ms).error_data as Record<string, unknown>).error);
    expect(msError).toContain(b.name === "local" ? `Connection ms: Cannot connect to mssql database at 127.0.0.1:${msPort}` : "Connection ms: ");
    expect(msError).not.toContain(MS_PASSWORD);

    const nosuch = await item("ref/sqlc-nosuch");
    expect(statuses(nosuch)).toEqual(["starting", "running", "failed"]);
    expect(lastInfo(nosuch)).toEqual({ error: "nosuch: No such connection", error_data: null });

    const slow = await item("ref/sqlc-slow");
    expect(statuses(slow)).toEqual(["starting", "running", "failed"]);
    // The client is killed (SIGTERM, what it wrote on its way out uploaded).
    expect(lastInfo(slow)).toMatchObject({ error: "Timed out after 1.0 seconds", error_data: { exit_status: 28, output: [{ payload: "slow.sql", exit_status: 28 }] } });

    const sqlv = await item("ref/sqlv");
    expect(statuses(sqlv)).toEqual(["starting", "running", "complete"]);
    const vbase = s3tmp("ref/sqlv");
    expect(lastInfo(sqlv)).toEqual({ exit_status: 0, error: null, output: [{ exit_status: 0, stdout: `${vbase}/stdout`, stderr: `${vbase}/stderr` }] });
    expect(await read(`${vbase}/stdout`)).toBe(`id|name\r\n1|Ann\r\n2|"b|c"\r\ntag|n\r\n<b>&|\r\n`);
    // lava sql's info lines, tagged with the run.
    const log = await read(`${vbase}/stderr`);
    expect(log).toContain(`ref/sqlv:${runs["ref/sqlv"]}`);
    expect(log).toContain("q.sql: 2 queries completed, 3 rows returned");

    const jsonl = await item("ref/sqlv-jsonl");
    expect(statuses(jsonl)).toEqual(["starting", "running", "complete"]);
    expect(await read(`${s3tmp("ref/sqlv-jsonl")}/stdout`)).toBe(
      '{"id": 1, "name": "Ann"}\n{"id": 2, "name": "b|c"}\n{"tag": "<b>&", "n": null}\n{"esc": "&lt;b&gt;&amp;"}\n',
    );

    const vbad = await item("ref/sqlv-bad");
    expect(statuses(vbad)).toEqual(["starting", "running", "failed"]);
    expect(lastInfo(vbad).error).toBe("Failed with exit status 1");
    const vbadData = lastInfo(vbad).error_data as Record<string, unknown>;
    expect(vbadData.exit_status).toBe(1);
    expect(String(vbadData.error)).toMatch(/Starting transaction\n.*\/bad\.sql: Rollback : statement 2: near "selec": syntax error$/);
    // What ran before the failure was written as it came, as the original writes it.
    expect(await read(`${s3tmp("ref/sqlv-bad")}/stdout`)).toBe("1\r\n");
  }, 90_000);
});
