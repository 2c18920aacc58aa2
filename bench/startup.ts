/**
 * Start-up of the compiled lava against the floor: a compiled Bun program that prints one line, built by
 * build/compile.ts with lava's own flags. Each measure runs lava and the floor in turn (A B A B ...) and
 * takes the ratio pair by pair; prints a Markdown table (min / median / max).
 *
 *   bun bench/startup.ts [--runs 20] [--exe dist/lava] [--before OTHER] [--only version,dispatcher,local,worker]
 *
 * With `--before OTHER` (another build of lava), each measure is also paired against that build instead
 * of the floor, in a second table: the change a commit made, measured the same way.
 *
 * Measures, on realm `bench` of bench/fixture.ts (emulators: dynalite + fauxqs on loopback):
 *  - `lava version`
 *  - `lava-dispatcher -r bench bench/sink`, aws backend and local backend (one dispatch, job looked up)
 *  - `lava-worker -r bench -w core --batch --wait 0 --root`, empty queue: spawn to the first ReceiveMessage
 *    reaching SQS (bench/paired.ts receiveProbe), against the floor's whole process
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { REALM, SINK_JOB, WORKER, startFixture } from "./fixture.ts";
import { pair, receiveProbe, table, timed, type Row } from "./paired.ts";

const ROOT = resolve(import.meta.dir, "..");
const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "20" },
    exe: { type: "string", default: join(ROOT, "dist", "lava") },
    before: { type: "string" },
    only: { type: "string", default: "version,dispatcher,local,worker" },
  },
});
const RUNS = Number(values.runs);
const EXE = resolve(values.exe!);
const BEFORE = values.before ? resolve(values.before) : undefined;
const ONLY = new Set(values.only!.split(","));

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
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: work, ...fixture.env };
  const local = { ...env, LAVA_BACKEND: "local" };
  const probed = { ...env, AWS_ENDPOINT_URL_SQS: probe.url };
  /** `lava-dispatcher` and `lava-worker` links to `exe`, in a directory of their own. */
  const linked = (exe: string, dir: string) => {
    mkdirSync(join(work, dir));
    for (const name of ["lava-dispatcher", "lava-worker"]) symlinkSync(exe, join(work, dir, name));
    return (name: string) => join(work, dir, name);
  };
  /** The measures of one build; the worker's is spawn to first ReceiveMessage, the others spawn to exit. */
  const measures = (exe: string, dir: string): [string, string, () => Promise<number>][] => {
    const bin = linked(exe, dir);
    const dispatch = [bin("lava-dispatcher"), "-r", REALM, SINK_JOB];
    const worker = [bin("lava-worker"), "-r", REALM, "-w", WORKER, "--batch", "--wait", "0", "--root"];
    return [
      ["version", "`lava version`", () => timed([exe, "version"], env, work)],
      ["dispatcher", "`lava-dispatcher -r bench bench/sink`, aws backend", () => timed(dispatch, env, work)],
      ["local", "`lava-dispatcher -r bench bench/sink`, local backend", () => timed(dispatch, local, work)],
      [
        "worker",
        "`lava-worker --batch --wait 0`, aws, empty queue: spawn to first ReceiveMessage",
        async () => {
          let spawned = 0;
          const received = probe.next();
          await timed(worker, probed, work, (t) => (spawned = t));
          return (await received) - spawned;
        },
      ],
    ];
  };
  const ours = measures(EXE, "a");
  const floorRun = () => timed([floor], env, work);
  const rows: Row[] = [];
  for (const [key, label, run] of ours) if (ONLY.has(key)) rows.push(await pair(label, RUNS, (s) => (s === "a" ? run() : floorRun())));
  process.stdout.write(`\n${EXE} against the floor (a compiled hello world); ${new Date().toISOString()}\n`);
  process.stdout.write(table(rows, "lava", "floor"));
  if (BEFORE) {
    const theirs = measures(BEFORE, "b");
    const against: Row[] = [];
    for (const [i, [key, label, run]] of ours.entries()) {
      if (ONLY.has(key)) against.push(await pair(label, RUNS, (s) => (s === "a" ? run() : theirs[i]![2]())));
    }
    process.stdout.write(`\n${EXE} (after) against ${BEFORE} (before); ${new Date().toISOString()}\n`);
    process.stdout.write(table(against, "after", "before"));
  }
} finally {
  probe.stop();
  await fixture.stop();
  rmSync(work, { recursive: true, force: true });
}
