/**
 * Local-backend throughput into a running worker, timed from outside the worker. Prints figures; asserts nothing.
 *
 *   bun bench/local.ts [--jobs 1000] [--runs 5] [--job log|true] [--threads N] [--a EXE] [--b EXE] [--spawn-floor]
 *                      [--worker-env K=V ...]
 *
 * Per side (A, and B when given): a fresh local realm home in a temp dir, and one worker started as a
 * whole process: `EXE worker -r ref -w core --wait 20 --sleep 0 --root` (EXE is dist/lava by default; a
 * `.ts` file is run with `bun`), default log level, stderr to a file in the home. Once the worker is
 * long-polling (its wake socket exists) and has sat idle for a second, one warm-up burst that is not
 * counted, then `--runs` bursts, A B A B ... when B is given. A burst is `--jobs` dispatch messages put on
 * the queue in one transaction (the local QueuePort's sendBatch), timed from just before the send to the
 * moment the events table holds a terminal event for every run of the burst (polled on a connection of
 * the bench's own, at most every 2 ms, and only when the database changed); a run that ended other than
 * `complete` stops the bench. After each burst the bench waits for the queue to be empty (the worker deleted every message) before the next.
 *
 * With BENCH_TAIL=1 the tail of each worker's log is printed when it stops. A worker's CPU profile
 * (`--worker-env BUN_OPTIONS=--cpu-prof-md`) lands in the repository root, the workers' cwd.
 *
 * `--spawn-floor` also prints the spawn floor on this machine: Bun.spawn of `true` back to back, and five
 * such loops at once (the worker's default -t 5).
 */
import { Database } from "bun:sqlite";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { openLocalPorts, type LocalPorts } from "../src/adapters/local/index.ts";
import { createRealm } from "../src/core/realm-setup.ts";
import { realmTable } from "../src/core/names.ts";
import { silentLogger } from "../src/core/log.ts";
import { buildDispatchMessage, dispatchMessageBody } from "../src/core/dispatch.ts";
import { stats, type Three } from "./paired.ts";

const ROOT = resolve(import.meta.dir, "..");
const argv = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
};
const N = Number(flag("jobs", "1000"));
const RUNS = Number(flag("runs", "5"));
const JOB = flag("job", "log") === "true" ? "ref/true" : "ref/log";
const THREADS = flag("threads", "");
const EXE_A = resolve(flag("a", join(ROOT, "dist", "lava")));
const EXE_B = argv.includes("--b") ? resolve(flag("b", "")) : undefined;
/** `--worker-env K=V` (repeatable): extra environment for the workers only, e.g. BUN_OPTIONS=--cpu-prof-md. */
const WORKER_ENV = Object.fromEntries(
  argv.flatMap((a, i) => (a === "--worker-env" && argv[i + 1]?.includes("=") ? [argv[i + 1]!.split(/=(.*)/s).slice(0, 2)] : [])),
) as Record<string, string>;
const QUEUE = "lava-ref-core";
const EVENTS = realmTable("ref", "events");
const TERMINAL = ["complete", "failed", "rejected", "skipped"];

interface Side {
  name: string;
  exe: string;
  home: string;
  ports: LocalPorts;
  /** The bench's own read connection, for watching the events table. */
  watch: Database;
  proc: ReturnType<typeof Bun.spawn>;
  stderrPath: string;
  times: number[];
  /** The worker's CPU time (user + system) per burst, ms. */
  cpu: number[];
}

function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("LAVA_") && !k.startsWith("AWS_")) env[k] = v;
  return env;
}

async function startSide(name: string, exe: string): Promise<Side> {
  const home = mkdtempSync(join(tmpdir(), "lava-bench-local-"));
  const ports = await openLocalPorts({ home });
  await createRealm(ports, { realm: "ref", workers: ["core"], bucket: "lava-ref" }, silentLogger());
  const jobs = realmTable("ref", "jobs");
  await ports.tables.put(jobs, { job_id: "ref/log", type: "log", worker: "core", payload: null, enabled: true, owner: "b", description: "b" });
  await ports.tables.put(jobs, { job_id: "ref/true", type: "cmd", worker: "core", payload: "true", enabled: true, owner: "b", description: "b" });
  const stderrPath = join(home, "worker.stderr");
  const cmd = exe.endsWith(".ts") ? [process.execPath, exe] : [exe];
  const args = ["worker", "-r", "ref", "-w", "core", "--wait", "20", "--sleep", "0", "--root", ...(THREADS ? ["-t", THREADS] : [])];
  const proc = Bun.spawn([...cmd, ...args], {
    cwd: ROOT,
    env: { ...baseEnv(), LAVA_BACKEND: "local", LAVA_HOME: home, LAVA_TMPDIR: join(home, "tmp"), ...WORKER_ENV },
    stdin: "ignore",
    stdout: "ignore",
    stderr: Bun.file(stderrPath),
  });
  const socket = join(home, "wake", `${proc.pid}.sock`);
  const deadline = performance.now() + 60_000;
  while (!existsSync(socket)) {
    if (proc.exitCode !== null || performance.now() > deadline) {
      throw new Error(`${name}: worker never started its long poll (exit ${proc.exitCode}):\n${tail(stderrPath)}`);
    }
    await Bun.sleep(20);
  }
  await Bun.sleep(1000); // idle: start-up work (imports, tmp clean-up) is over
  const watch = new Database(join(home, "lava.db"), { readonly: true });
  return { name, exe, home, ports, watch, proc, stderrPath, times: [], cpu: [] };
}

function tail(path: string): string {
  try {
    return readFileSync(path, "utf8").split("\n").slice(-20).join("\n");
  } catch {
    return "";
  }
}

/** utime + stime of `pid` in ms (Linux /proc; NaN elsewhere). */
function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, "").split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}

function terminalCount(db: Database, runIds: string[], statuses = TERMINAL): number {
  const row = db
    .query<{ n: number }, [string, string, string]>(
      `SELECT count(*) AS n FROM local_items
       WHERE tbl = ? AND hk = ? AND rk IN (SELECT value FROM json_each(?))
         AND json_extract(item, '$.status') IN (${statuses.map((s) => `'${s}'`).join(",")})`,
    )
    .get(EVENTS, JOB, JSON.stringify(runIds));
  return row?.n ?? 0;
}

function queueLength(db: Database): number {
  return db.query<{ n: number }, [string]>("SELECT count(*) AS n FROM local_messages WHERE queue = ?").get(QUEUE)?.n ?? 0;
}

function dataVersion(db: Database): number {
  return db.query<{ data_version: number }, []>("PRAGMA data_version").get()?.data_version ?? 0;
}

/** One burst: N messages in one transaction; ms from the send to the last run's terminal event, and the worker's CPU ms meanwhile. */
async function burst(s: Side): Promise<{ ms: number; cpu: number }> {
  const runIds: string[] = [];
  const entries = Array.from({ length: N }, () => {
    const msg = buildDispatchMessage({ realm: "ref", worker: "core", jobId: JOB });
    runIds.push(msg.run_id);
    return { body: dispatchMessageBody(msg) };
  });
  let version = dataVersion(s.watch);
  const cpu0 = cpuMs(s.proc.pid);
  const t0 = performance.now();
  await s.ports.queues.sendBatch(QUEUE, entries);
  const limit = t0 + 300_000;
  let done = 0;
  let end = NaN;
  let cpu = NaN;
  while (performance.now() < limit) {
    if (s.proc.exitCode !== null) throw new Error(`${s.name}: worker exited ${s.proc.exitCode}:\n${tail(s.stderrPath)}`);
    const v = dataVersion(s.watch);
    if (v !== version) {
      version = v;
      const at = performance.now();
      done = terminalCount(s.watch, runIds);
      if (done >= N) {
        end = at;
        cpu = cpuMs(s.proc.pid) - cpu0;
        break;
      }
    }
    await Bun.sleep(2);
  }
  if (!(done >= N)) throw new Error(`${s.name}: only ${done} of ${N} runs ended:\n${tail(s.stderrPath)}`);
  // A fast failure is no throughput: every run must have completed.
  const complete = terminalCount(s.watch, runIds, ["complete"]);
  if (complete < N) throw new Error(`${s.name}: ${N - complete} of ${N} runs did not complete:\n${tail(s.stderrPath)}`);
  while (queueLength(s.watch) > 0 && performance.now() < limit) await Bun.sleep(10);
  await Bun.sleep(500); // idle again before the next burst
  return { ms: end - t0, cpu };
}

async function stopSide(s: Side): Promise<void> {
  s.proc.kill("SIGHUP");
  const code = await s.proc.exited;
  if (process.env.BENCH_TAIL) console.error(tail(s.stderrPath));
  if (code !== 0) console.error(`${s.name}: worker exit ${code} on SIGHUP:\n${tail(s.stderrPath)}`);
  s.watch.close();
  await s.ports.close();
  rmSync(s.home, { recursive: true, force: true });
}

function fmt(t: Three, f: (x: number) => string): string {
  return `${f(t.min)} / ${f(t.median)} / ${f(t.max)}`;
}

function report(s: Side): void {
  const ms = stats(s.times);
  const rates = stats(s.times.map((t) => (N / t) * 1000));
  const cpu = stats(s.cpu);
  console.log(
    `${s.name} (${s.exe}): ${s.times.length} runs, ms min/median/max ${fmt(ms, (x) => x.toFixed(0))}, jobs/s ${fmt(rates, (x) => x.toFixed(0))}, ` +
      `worker CPU ms per burst ${fmt(cpu, (x) => x.toFixed(0))}`,
  );
}

async function spawnFloor(): Promise<void> {
  const n = 300;
  const once = async (): Promise<void> => {
    const p = Bun.spawn(["true"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    await p.exited;
  };
  const serial: number[] = [];
  const parallel: number[] = [];
  await once();
  for (let r = 0; r < 3; r++) {
    let t0 = performance.now();
    for (let i = 0; i < n; i++) await once();
    serial.push((n / (performance.now() - t0)) * 1000);
    t0 = performance.now();
    await Promise.all(Array.from({ length: 5 }, async () => {
      for (let i = 0; i < n / 5; i++) await once();
    }));
    parallel.push((n / (performance.now() - t0)) * 1000);
  }
  console.log(`spawn floor, Bun.spawn(["true"]) back to back: spawns/s min/median/max ${fmt(stats(serial), (x) => x.toFixed(0))}`);
  console.log(`spawn floor, 5 such loops at once: spawns/s min/median/max ${fmt(stats(parallel), (x) => x.toFixed(0))}`);
}

const sides: Side[] = [];
try {
  sides.push(await startSide("A", EXE_A));
  if (EXE_B) sides.push(await startSide("B", EXE_B));
  console.log(`${N} ${JOB} dispatches per burst, worker --wait 20 --sleep 0${THREADS ? ` -t ${THREADS}` : " (default -t 5)"}, ${RUNS} runs per side`);
  for (const s of sides) await burst(s); // warm-up, not counted
  for (let r = 0; r < RUNS; r++) {
    for (const s of sides) {
      const b = await burst(s);
      s.times.push(b.ms);
      s.cpu.push(b.cpu);
      process.stderr.write(`  ${s.name} run ${r + 1}/${RUNS}: ${b.ms.toFixed(0)} ms, worker CPU ${b.cpu.toFixed(0)} ms\n`);
    }
  }
  for (const s of sides) report(s);
  if (sides.length === 2) {
    const ratio = stats(sides[0]!.times.map((t, i) => t / sides[1]!.times[i]!));
    console.log(`A ÷ B time per pair: min/median/max ${fmt(ratio, (x) => x.toFixed(2))}`);
  }
} finally {
  for (const s of sides) await stopSide(s);
}
if (argv.includes("--spawn-floor")) await spawnFloor();
process.exit(0);
