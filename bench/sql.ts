/**
 * Export of a PostgreSQL table (10 mixed columns) through a `sql`-type job (sqli, the same code path) to the
 * object store, next to `psql \copy ... TO file` as the floor. For 100k and 1M rows, on the local backend and
 * on emulated S3 (fauxqs): seconds, rows/s and the job process's peak RSS (VmHWM), min/median/max over
 * paired runs (ours, psql, ours, psql, ...).
 *
 *   bun bench/sql.ts [--runs 3] [--rows 100000,1000000] [--backends local,aws]
 *
 * Needs PostgreSQL on 127.0.0.1:5432 (trust, db `test`) and psql. Each job runs in its own process so its
 * peak RSS is its own.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { stats } from "./paired.ts";
import { benchJobRun, openBenchPorts, peakRssBytes } from "./job-child.ts";

const TABLE = "lava_bench_sql";
const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : dflt;
};

if (args[0] === "--child") {
  await child(Number(args[1]), args[2] as "local" | "aws");
  process.exit(0);
}

/** Runs one job in this process and prints {seconds, rss, bytes} as JSON. */
async function child(rows: number, backend: "local" | "aws"): Promise<void> {
  const { sqliJob } = await import("../src/handlers/sqli.ts");
  const work = mkdtempSync(join(tmpdir(), "lava-bench-sql-"));
  const ports = await openBenchPorts(backend, join(work, "home"));
  await ports.objects.createBucket("lava-bench").catch(() => {});
  const run = benchJobRun(ports, work, "bench/sql", "sqli", `SELECT * FROM ${TABLE} ORDER BY id LIMIT ${rows}`, { conn_id: "pg", jinja: false, doublequote: true });
  const t0 = performance.now();
  const result = (await sqliJob.run(run)) as { output: Record<string, string[]> };
  const seconds = (performance.now() - t0) / 1000;
  const head = await ports.objects.head(result.output["0"]![0]!);
  console.log(JSON.stringify({ seconds, rss: peakRssBytes(), bytes: head?.size ?? 0 }));
  await ports.close();
  rmSync(work, { recursive: true, force: true });
}

async function ours(rows: number, backend: string, env: Record<string, string>): Promise<{ seconds: number; rss: number; bytes: number }> {
  const p = Bun.spawn([process.execPath, import.meta.path, "--child", String(rows), backend], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "inherit" });
  const out = await new Response(p.stdout).text();
  if ((await p.exited) !== 0) throw new Error(`child failed: ${out}`);
  return JSON.parse(out.trim().split("\n").pop()!);
}

async function psqlCopy(rows: number): Promise<number> {
  const file = join(tmpdir(), `lava-bench-copy-${process.pid}.txt`);
  const t0 = performance.now();
  const p = Bun.spawn(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-q", "-c", `\\copy (SELECT * FROM ${TABLE} ORDER BY id LIMIT ${rows}) TO '${file}' WITH (FORMAT csv, DELIMITER '|')`], { stdout: "ignore", stderr: "inherit" });
  if ((await p.exited) !== 0) throw new Error("psql failed");
  const s = (performance.now() - t0) / 1000;
  rmSync(file, { force: true });
  return s;
}

async function main(): Promise<void> {
  const runs = Number(opt("runs", "3"));
  const sizes = opt("rows", "100000,1000000").split(",").map(Number);
  const backends = opt("backends", "local,aws").split(",");
  const sql = postgres({ host: "127.0.0.1", port: 5432, database: "test", username: "postgres", onnotice: () => {} });
  const max = Math.max(...sizes);
  const have = await sql.unsafe(`SELECT count(*)::int AS n FROM ${TABLE}`).then((r) => r[0]!.n as number).catch(() => 0);
  if (have < max) {
    console.log(`creating ${TABLE} with ${max} rows ...`);
    await sql.unsafe(`DROP TABLE IF EXISTS ${TABLE}`);
    await sql.unsafe(`CREATE TABLE ${TABLE} AS SELECT g AS id, g * 7 AS qty, (g * 1.25)::numeric(12,2) AS price, g / 3.0::float8 AS ratio,
      'name-' || g AS name, md5(g::text) AS hash, (g % 2 = 0) AS flag, '2024-01-01'::date + (g % 365) AS day,
      '2024-01-01 00:00:00+00'::timestamptz + g * interval '1 second' AS at, CASE WHEN g % 10 = 0 THEN NULL ELSE 'note "' || g || '"' END AS note
      FROM generate_series(1, ${max}) g`);
  }
  await sql.end();
  for (const backend of backends) {
    let env: Record<string, string> = {};
    let stop = async () => {};
    if (backend === "aws") {
      const { startAwsEmulators } = await import("../test/support/emulators.ts");
      const em = await startAwsEmulators();
      env = em.env as Record<string, string>;
      stop = () => em.stop();
    }
    for (const rows of sizes) {
      const a: number[] = [];
      const b: number[] = [];
      const rss: number[] = [];
      let bytes = 0;
      for (let i = 0; i < runs; i++) {
        const r = await ours(rows, backend, env);
        a.push(r.seconds);
        rss.push(r.rss);
        bytes = r.bytes;
        b.push(await psqlCopy(rows));
      }
      const sa = stats(a);
      const sb = stats(b);
      const ratios = stats(a.map((x, i) => x / b[i]!));
      const mib = (x: number) => (x / 1048576).toFixed(0);
      console.log(
        `${backend} ${rows} rows (${(bytes / 1e6).toFixed(1)} MB): sql job ${sa.min.toFixed(2)}/${sa.median.toFixed(2)}/${sa.max.toFixed(2)} s ` +
          `(${Math.round(rows / sa.median)} rows/s), psql \\copy ${sb.min.toFixed(2)}/${sb.median.toFixed(2)}/${sb.max.toFixed(2)} s, ` +
          `ratio ${ratios.min.toFixed(2)}/${ratios.median.toFixed(2)}/${ratios.max.toFixed(2)}, peak RSS ${mib(stats(rss).min)}/${mib(stats(rss).median)}/${mib(stats(rss).max)} MiB`,
      );
    }
    await stop();
  }
}

await main();
