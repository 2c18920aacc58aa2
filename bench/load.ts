/**
 * Load-back: the file bench/sql.ts exports (10 mixed columns, `psql \copy ... TO` in csv) loaded into
 * PostgreSQL by a `db_from_s3` job (truncate mode, COPY FROM STDIN streamed from the object store), next to
 * `psql \copy ... FROM` the same local file as the floor. For 100k and 1M rows, on the local backend and on
 * emulated S3 (fauxqs): seconds, rows/s and the job process's peak RSS (VmHWM), min/median/max over paired
 * runs (ours, psql, ours, psql, ...).
 *
 *   bun bench/load.ts [--runs 3] [--rows 100000,1000000] [--backends local,aws]
 *
 * Needs PostgreSQL on 127.0.0.1:5432 (trust, db `test`) with the table bench/sql.ts creates
 * (`lava_bench_sql`; run that first), and psql. Each job runs in its own process so its peak RSS is its own.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { stats } from "./paired.ts";
import { benchJobRun, openBenchPorts, peakRssBytes } from "./job-child.ts";

const SOURCE = "lava_bench_sql";
const TARGET = "lava_bench_load";
const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : dflt;
};

if (args[0] === "--child") {
  await child(args[1]!, args[2] as "local" | "aws", args[3]!);
  process.exit(0);
}

/** Runs one db_from_s3 job of `key` in this process and prints {seconds, rss} as JSON. */
async function child(key: string, backend: "local" | "aws", home: string): Promise<void> {
  const { dbFromS3Job } = await import("../src/handlers/db_from_s3.ts");
  const ports = await openBenchPorts(backend, home);
  const work = mkdtempSync(join(tmpdir(), "lava-bench-load-"));
  const parameters = { db_conn_id: "pg", bucket: "lava-bench", key, schema: "public", table: TARGET, mode: "truncate", jinja: false, args: ["FORMAT csv", "DELIMITER '|'"] };
  const run = benchJobRun(ports, work, "bench/load", "db_from_s3", "--", parameters);
  const t0 = performance.now();
  await dbFromS3Job.run(run);
  const seconds = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ seconds, rss: peakRssBytes() }));
  await ports.close();
  rmSync(work, { recursive: true, force: true });
}

async function ours(key: string, backend: string, home: string, env: Record<string, string>): Promise<{ seconds: number; rss: number }> {
  const p = Bun.spawn([process.execPath, import.meta.path, "--child", key, backend, home], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "inherit" });
  const out = await new Response(p.stdout).text();
  if ((await p.exited) !== 0) throw new Error(`child failed: ${out}`);
  return JSON.parse(out.trim().split("\n").pop()!);
}

function psql(command: string): Promise<number> {
  const p = Bun.spawn(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-q", "-v", "ON_ERROR_STOP=1", "-c", command], { stdout: "ignore", stderr: "inherit" });
  return p.exited;
}

/** The floor: TRUNCATE and `\copy FROM` the local file in one psql session, as the job does in one transaction. */
async function psqlLoad(file: string): Promise<number> {
  const t0 = performance.now();
  const p = Bun.spawn(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-c", `TRUNCATE ${TARGET}`, "-c", `\\copy ${TARGET} FROM '${file}' WITH (FORMAT csv, DELIMITER '|')`], {
    stdout: "ignore",
    stderr: "inherit",
  });
  if ((await p.exited) !== 0) throw new Error("psql failed");
  return (performance.now() - t0) / 1000;
}

async function main(): Promise<void> {
  const runs = Number(opt("runs", "3"));
  const sizes = opt("rows", "100000,1000000").split(",").map(Number);
  const backends = opt("backends", "local,aws").split(",");
  const sql = postgres({ host: "127.0.0.1", port: 5432, database: "test", username: "postgres", onnotice: () => {} });
  const have = await sql.unsafe(`SELECT count(*)::int AS n FROM ${SOURCE}`).then((r) => r[0]!.n as number).catch(() => 0);
  if (have < Math.max(...sizes)) throw new Error(`${SOURCE} has ${have} rows: run bun bench/sql.ts --rows ${Math.max(...sizes)} first`);
  await sql.unsafe(`DROP TABLE IF EXISTS ${TARGET}; CREATE TABLE ${TARGET} (LIKE ${SOURCE})`).simple();
  await sql.end();
  const dir = mkdtempSync(join(tmpdir(), "lava-bench-load-"));
  const files = new Map<number, string>();
  for (const rows of sizes) {
    const file = join(dir, `${rows}.csv`);
    if ((await psql(`\\copy (SELECT * FROM ${SOURCE} ORDER BY id LIMIT ${rows}) TO '${file}' WITH (FORMAT csv, DELIMITER '|')`)) !== 0) throw new Error("export failed");
    files.set(rows, file);
  }
  try {
    for (const backend of backends) {
      let env: Record<string, string> = {};
      let stop = async () => {};
      if (backend === "aws") {
        const { startAwsEmulators } = await import("../test/support/emulators.ts");
        const em = await startAwsEmulators();
        env = em.env as Record<string, string>;
        stop = () => em.stop();
      }
      const home = join(dir, `home-${backend}`);
      // Upload the files once, through the same ports the children use.
      const saved = { ...process.env };
      Object.assign(process.env, env);
      const ports = await openBenchPorts(backend as "local" | "aws", home);
      await ports.objects.createBucket("lava-bench").catch(() => {});
      for (const [rows, file] of files) await ports.objects.put(`s3://lava-bench/load/${rows}.csv`, Bun.file(file));
      await ports.close();
      process.env = saved;
      for (const rows of sizes) {
        const a: number[] = [];
        const b: number[] = [];
        const rss: number[] = [];
        for (let i = 0; i < runs; i++) {
          const r = await ours(`load/${rows}.csv`, backend, home, env);
          a.push(r.seconds);
          rss.push(r.rss);
          b.push(await psqlLoad(files.get(rows)!));
        }
        const sa = stats(a);
        const sb = stats(b);
        const ratios = stats(a.map((x, i) => x / b[i]!));
        const mib = (x: number) => (x / 1048576).toFixed(0);
        console.log(
          `${backend} ${rows} rows: db_from_s3 ${sa.min.toFixed(2)}/${sa.median.toFixed(2)}/${sa.max.toFixed(2)} s (${Math.round(rows / sa.median)} rows/s), ` +
            `psql \\copy FROM ${sb.min.toFixed(2)}/${sb.median.toFixed(2)}/${sb.max.toFixed(2)} s, ratio ${ratios.min.toFixed(2)}/${ratios.median.toFixed(2)}/${ratios.max.toFixed(2)}, ` +
            `peak RSS ${mib(stats(rss).min)}/${mib(stats(rss).median)}/${mib(stats(rss).max)} MiB`,
        );
      }
      await stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
