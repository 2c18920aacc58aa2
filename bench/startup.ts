/**
 * Start-up of the compiled lava against the floor: a compiled Bun program that prints one line, built by
 * build/compile.ts with lava's own flags. Each measure runs lava and the floor in turn (A B A B ...) and
 * takes the ratio pair by pair; prints a Markdown table (min / median / max).
 *
 *   bun bench/startup.ts [--runs 20] [--exe dist/lava]
 *
 * Measures, on realm `bench` of bench/fixture.ts (emulators: dynalite + fauxqs on loopback):
 *  - `lava version`
 *  - `lava-dispatcher -r bench bench/sink`, aws backend and local backend (one dispatch, job looked up)
 *  - `lava-worker -r bench -w core --batch --wait 0 --root`, empty queue: spawn to the first ReceiveMessage
 *    reaching SQS (bench/paired.ts receiveProbe), against the floor's whole process
 */
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { REALM, SINK_JOB, WORKER, startFixture } from "./fixture.ts";
import { pair, receiveProbe, table, timed, type Row } from "./paired.ts";

const ROOT = resolve(import.meta.dir, "..");
const { values } = parseArgs({
  options: { runs: { type: "string", default: "20" }, exe: { type: "string", default: join(ROOT, "dist", "lava") } },
});
const RUNS = Number(values.runs);
const EXE = resolve(values.exe!);

/** The floor, compiled with lava's flags (build/compile.ts --entry). */
function compileFloor(work: string): string {
  const src = join(ROOT, `.bench-floor-${process.pid}.ts`); // inside the repo, as compile.ts resolves from there
  writeFileSync(src, 'console.log("hello");\n');
  try {
    const out = join(work, "floor");
    const res = Bun.spawnSync([process.execPath, "run", join(ROOT, "build", "compile.ts"), "--no-bundle", "--entry", src, "--out", out], {
      cwd: ROOT,
      stdout: "pipe",
      stderr: "pipe",
    });
    if (res.exitCode !== 0) throw new Error(`floor build failed: ${res.stderr.toString()}`);
    return join(out, "lava");
  } finally {
    rmSync(src, { force: true });
  }
}

const work = mkdtempSync(join(tmpdir(), "lava-bench-startup-"));
const fixture = await startFixture();
const probe = receiveProbe(fixture.emulators.endpoints.fauxqs);
try {
  const floor = compileFloor(work);
  for (const name of ["lava-dispatcher", "lava-worker"]) symlinkSync(EXE, join(work, name));
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: work, ...fixture.env };
  const local = { ...env, LAVA_BACKEND: "local" };
  const floorRun = () => timed([floor], env, work);
  const rows: Row[] = [];
  rows.push(await pair("`lava version`", RUNS, (s) => (s === "a" ? timed([EXE, "version"], env, work) : floorRun())));
  const dispatch = [join(work, "lava-dispatcher"), "-r", REALM, SINK_JOB];
  rows.push(await pair("`lava-dispatcher -r bench bench/sink`, aws backend", RUNS, (s) => (s === "a" ? timed(dispatch, env, work) : floorRun())));
  rows.push(await pair("`lava-dispatcher -r bench bench/sink`, local backend", RUNS, (s) => (s === "a" ? timed(dispatch, local, work) : floorRun())));
  const probed = { ...env, AWS_ENDPOINT_URL_SQS: probe.url };
  const worker = [join(work, "lava-worker"), "-r", REALM, "-w", WORKER, "--batch", "--wait", "0", "--root"];
  rows.push(
    await pair("`lava-worker --batch --wait 0`, aws, empty queue: spawn to first ReceiveMessage", RUNS, async (s) => {
      if (s === "b") return floorRun();
      let spawned = 0;
      const received = probe.next();
      await timed(worker, probed, work, (t) => (spawned = t));
      return (await received) - spawned;
    }),
  );
  process.stdout.write(`\n${EXE} against the floor (a compiled hello world); ${new Date().toISOString()}\n`);
  process.stdout.write(table(rows, "lava", "floor"));
} finally {
  probe.stop();
  await fixture.stop();
  rmSync(work, { recursive: true, force: true });
}
