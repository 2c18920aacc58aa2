/**
 * Mixed fleet, pipelines: the ORIGINAL's Python worker (from its git mirror, extracted at test time;
 * test/support/original.ts) and ours serve the same queue of realm `mixfleet` on the AWS emulators
 * (dynalite + fauxqs) and run the same dag, chain, foreach and dispatch jobs.
 *
 * Phases, each a `--batch` worker on one queue, so that who ran what is known:
 *  A. the original serves `core`: dag, chain, foreach and dispatch runs; its dispatch job queues `mf/side`
 *     on worker `side`;
 *  B. ours serves `side`: the target the original's dispatch job sent;
 *  C. ours serves `core`: the same four jobs; our dispatch job queues `mf/side`;
 *  D. the original serves `side`: the target our dispatch job sent;
 *  E. both serve `core` at once: the original takes the first pipelines, the rest are sent in one batch
 *     while both wait on the queue, each taken by whichever worker SQS hands it to.
 * Then: every events item (parent and child) of the original's runs and of ours has the same shape and
 * lifecycle; the children's `state` actions saw the same `globals.lava.*`; the original's `lava-events`
 * and `lava-state` read what ours wrote, and ours read what the original wrote.
 *
 * Without the mirror this is skipped loudly (in CI too: the mirror is an outside reference); with it,
 * missing Python modules or emulators are named (and fail under CI=true).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildDispatchMessage, dispatchMessageBody } from "../../src/core/dispatch.ts";
import { silentLogger } from "../../src/core/log.ts";
import { realmTable, workerQueueName } from "../../src/core/names.ts";
import { createRealm } from "../../src/core/realm-setup.ts";
import type { Item, Ports } from "../../src/ports/index.ts";
import { needs } from "../support/availability.ts";
import { childEnv, emulatorsPresent, startAwsEmulators, type AwsEmulators } from "../support/emulators.ts";
import { MAIN, ROOT, until } from "../support/lava-process.ts";
import { ORIGINAL_MIRROR, OriginalUnavailable, originalHome, originalMirrorPresent, prepareOriginal, type Original } from "../support/original.ts";
import { kind, normaliseRun, shape } from "./golden.ts";

const REALM = "mixfleet";
const PIPELINES = ["mf/dag", "mf/chain", "mf/foreach", "mf/dispatch"] as const;
/** The events items each pipeline's run writes under its run id (the dispatch target runs under its own). */
const RUN_ITEMS: Record<(typeof PIPELINES)[number], string[]> = {
  "mf/dag": ["mf/dag", "mf/a", "mf/b", "mf/c"],
  "mf/chain": ["mf/chain", "mf/a", "mf/b"],
  "mf/foreach": ["mf/foreach", "mf/c"],
  "mf/dispatch": ["mf/dispatch"],
};
const CONCURRENT_COPIES = 3;

/** A `state` action recording what the child saw of its pipeline. */
const RECORD_STATE = [
  {
    action: "state",
    state_id: "st/{{ job.job_id }}/{{ job.run_id }}",
    value: { parent: "{{ globals.lava.parent_job_id }}", master: "{{ globals.lava.master_job_id }}", parent_start: "{{ globals.lava.parent_start }}", i: "{{ globals.i }}" },
  },
];

const JOBS: Item[] = ([
  { job_id: "mf/a", type: "log", worker: "core", payload: null, on_success: RECORD_STATE },
  { job_id: "mf/b", type: "log", worker: "core", payload: null },
  { job_id: "mf/c", type: "log", worker: "core", payload: null },
  { job_id: "mf/dag", type: "dag", worker: "core", payload: { "mf/a": null, "mf/b": "mf/a", "mf/c": ["mf/a"] }, parameters: { workers: 2 } },
  { job_id: "mf/chain", type: "chain", worker: "core", payload: ["mf/a", "mf/b"] },
  { job_id: "mf/foreach", type: "foreach", worker: "core", payload: "mf/c", parameters: { foreach: { type: "range", stop: 3, name: "i" } } },
  { job_id: "mf/dispatch", type: "dispatch", worker: "core", payload: "mf/side" },
  { job_id: "mf/side", type: "log", worker: "side", payload: null, on_success: RECORD_STATE },
] as Item[]).map((j) => ({ owner: "mixed@example.com", description: "mixed fleet", enabled: true, ...j }));

interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

type Side = "original" | "ours";

const haveMirror = originalMirrorPresent("pipeline mixed-fleet tests");
let prepared: { original: Original; work: string } | undefined;
let present = false;
if (haveMirror) {
  const work = mkdtempSync(join(tmpdir(), "lava-pipelines-mixed-"));
  let why = "";
  try {
    prepared = { original: prepareOriginal(ORIGINAL_MIRROR, work), work };
  } catch (err) {
    if (!(err instanceof OriginalUnavailable)) throw err;
    why = err.message;
    rmSync(work, { recursive: true, force: true });
  }
  present =
    needs("the original lava's Python worker runnable here", prepared !== undefined, why) &&
    needs("dynalite and fauxqs (npm devDependencies)", emulatorsPresent.dynalite() && emulatorsPresent.fauxqs());
}

/** Jobs with an `on_success` action: see `comparable`. */
const WITH_ACTIONS = new Set(JOBS.filter((j) => j.on_success).map((j) => String(j.job_id)));

/**
 * Two events items of the same job, one per implementation, as comparable values: the whole item's shape
 * (keys, kinds, time and uuid formats) and each log entry's status and info, run ids normalised and the
 * lists of job ids in a dag's result sorted (its nodes finish in any order).
 *
 * The original's `complete` info is the result dict itself, handed to its event thread, and `run_job`
 * adds `error: None` to that dict only after the on_success actions ran: the thread serialises it after
 * that (so with `error`, as the golden captures and as ours always) unless an action takes long enough,
 * as a `state` action's DynamoDB put does here. For jobs with actions, that `error: null` is not compared.
 */
function comparable(item: Item, runId: string): unknown {
  const sortLists = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.every((x) => typeof x === "string") ? [...v].sort() : v.map(sortLists);
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, sortLists(x)]));
    return v;
  };
  const racy = WITH_ACTIONS.has(String(item.job_id));
  const log = (item.log as Record<string, unknown>[]).map((e): Record<string, unknown> => {
    let info = e.info;
    if (racy && e.status === "complete" && info !== null && typeof info === "object" && (info as Record<string, unknown>).error === null) {
      const { error: _, ...rest } = info as Record<string, unknown>;
      info = rest;
    }
    return { ...e, info };
  });
  return {
    shape: shape({ ...item, log: undefined }),
    keys: Object.keys(item).sort(),
    kinds: Object.fromEntries(Object.entries(item).map(([k, v]) => [k, kind(v)])),
    logShape: shape(log),
    log: log.map((e) => ({ status: e.status, info: sortLists(normaliseRun(e.info, [runId])) })),
  };
}

/** A template-rendered time reduced to its format: digits as `9`. */
const timeFormat = (v: unknown) => String(v).replace(/\d/g, "9");

describe.if(present)("pipelines across implementations, one queue [aws]", () => {
  let emulators: AwsEmulators;
  let ports: Ports;
  let env: Record<string, string>;
  let originalEnv: Record<string, string>;
  const original = prepared?.original;
  const work = prepared?.work ?? "";
  /** run id of each pipeline's run, per side, from phases A and C. */
  const runs: Record<Side, Record<string, string>> = { original: {}, ours: {} };
  /** run id of `mf/side` as dispatched by each side's dispatch job, and who ran it. */
  const targets: Record<Side, string> = { original: "", ours: "" };
  const concurrent: { jobId: string; runId: string }[] = [];
  const workerLogs: Finished[] = [];
  let concurrentLogs: Record<Side, string> = { original: "", ours: "" };

  const spawn = async (cmd: string[], e: Record<string, string>): Promise<Finished> => {
    const proc = Bun.spawn(cmd, { cwd: ROOT, env: e, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { code, stdout, stderr };
  };
  const lava = (args: string[]) => spawn([process.execPath, MAIN, ...args], env);
  const py = (program: string, args: string[]) => spawn([...original!.argv(program), ...args], originalEnv);
  const worker = async (side: Side, w: string, wait = 2): Promise<Finished> => {
    const args = ["-r", REALM, "-w", w, "--root", "--batch", "--wait", String(wait), "-t", "4"];
    const done = side === "ours" ? await lava(["worker", ...args]) : await py("lava-worker", args);
    workerLogs.push(done);
    if (done.code !== 0) throw new Error(`${side} worker on ${w} exited ${done.code}: ${done.stderr.slice(-3000)}`);
    return done;
  };
  const dispatch = async (jobId: string): Promise<string> => {
    const msg = buildDispatchMessage({ realm: REALM, worker: "core", jobId });
    await ports.queues.send(workerQueueName(REALM, "core"), dispatchMessageBody(msg));
    return msg.run_id;
  };
  const item = async (jobId: string, runId: string) => ports.tables.get(realmTable(REALM, "events"), { job_id: jobId, run_id: runId }, { consistent: true });
  const sideRuns = async () => (await ports.tables.query(realmTable(REALM, "events"), { hash: { name: "job_id", value: "mf/side" }, consistent: true })).items.map((i) => String(i.run_id));
  const state = async (id: string) => (await ports.tables.get(realmTable(REALM, "state"), { state_id: id }, { consistent: true })) as Item | undefined;

  beforeAll(async () => {
    emulators = await startAwsEmulators();
    const { openAwsPorts } = await import("../../src/adapters/aws/index.ts");
    ports = await openAwsPorts({ env: emulators.env });
    await createRealm(ports, { realm: REALM, workers: ["core", "side"] }, silentLogger());
    for (const job of JOBS) await ports.tables.put(realmTable(REALM, "jobs"), job);
    const tmp = join(work, "tmp");
    mkdirSync(tmp);
    env = childEnv(emulators, { LAVA_REALM: REALM, LAVA_TMPDIR: tmp, NO_COLOR: "1" });
    originalEnv = { ...env, ...original!.env, HOME: originalHome(work, env) };

    for (const side of ["original", "ours"] as const) {
      for (const jobId of PIPELINES) runs[side][jobId] = await dispatch(jobId);
      await worker(side, "core");
      const before = new Set(Object.values(targets).filter(Boolean));
      await worker(side === "original" ? "ours" : "original", "side");
      targets[side] = (await sideRuns()).find((r) => !before.has(r)) ?? "";
    }

    // The original takes one message per receive, ours up to ten: the first pipelines are queued before
    // the original starts and it has taken them all before ours starts; the rest are sent in one batch
    // while both wait on the queue, and SQS hands them to both.
    const pipelines = Array.from({ length: CONCURRENT_COPIES }, () => ["mf/dag", "mf/chain", "mf/foreach"]).flat();
    for (const jobId of pipelines.slice(0, 3)) concurrent.push({ jobId, runId: await dispatch(jobId) });
    const theirs = worker("original", "core", 8);
    await until("the original worker to take the first pipelines", async () => {
      for (const c of concurrent) if (!(await item(c.jobId, c.runId))) return false;
      return true;
    }, 30_000);
    const mine = worker("ours", "core", 8);
    await Bun.sleep(1000);
    const burst = pipelines.slice(3).map((jobId) => buildDispatchMessage({ realm: REALM, worker: "core", jobId }));
    await ports.queues.sendBatch(workerQueueName(REALM, "core"), burst.map((m) => ({ body: dispatchMessageBody(m) })));
    for (const m of burst) concurrent.push({ jobId: m.job_id, runId: m.run_id });
    const [o, ours] = await Promise.all([theirs, mine]);
    concurrentLogs = { original: o.stderr, ours: ours.stderr };
  }, 240_000);

  afterAll(async () => {
    await ports?.close();
    await emulators?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("every run of phases A-D completed, parent and children, on both sides; each dispatch target ran on the other side", async () => {
    const statuses: string[] = [];
    for (const side of ["original", "ours"] as const) {
      for (const p of PIPELINES) for (const j of RUN_ITEMS[p]) statuses.push(`${side} ${p} ${j}: ${(await item(j, runs[side][p]!))?.status}`);
      statuses.push(`${side} dispatch target mf/side: ${targets[side] ? (await item("mf/side", targets[side]))?.status : "no run"}`);
    }
    expect(statuses.filter((s) => !s.endsWith(": complete"))).toEqual([]);
  });

  for (const p of PIPELINES) {
    test(`${p}: every events item of the original's run and of ours has the same shape and log (status, info)`, async () => {
      for (const j of RUN_ITEMS[p]) {
        const theirs = (await item(j, runs.original[p]!))!;
        const mine = (await item(j, runs.ours[p]!))!;
        expect([j, comparable(mine, runs.ours[p]!)]).toEqual([j, comparable(theirs, runs.original[p]!)]);
      }
    });
  }

  test("mf/side, dispatched by the original's dispatch job and run by ours, and the other way round: same item shape and log", async () => {
    const theirs = (await item("mf/side", targets.ours))!; // dispatched by ours, run by the original
    const mine = (await item("mf/side", targets.original))!; // dispatched by the original, run by ours
    expect(comparable(mine, targets.original)).toEqual(comparable(theirs, targets.ours));
  });

  test("children's state actions saw the same globals.lava on both sides (parent, master, parent_start format)", async () => {
    const seen = async (jobId: string, runId: string) => {
      const s = await state(`st/${jobId}/${runId}`);
      const v = JSON.parse(String(s?.value ?? "null")) as Record<string, unknown> | null;
      return v && { ...v, parent_start: timeFormat(v.parent_start), type: s!.type, publisher: s!.publisher };
    };
    for (const [jobId, pipeline] of [
      ["mf/a", "mf/dag"],
      ["mf/a", "mf/chain"],
    ] as const) {
      const theirs = await seen(jobId, runs.original[pipeline]!);
      expect(theirs).toMatchObject({ parent: pipeline, master: pipeline });
      expect([pipeline, await seen(jobId, runs.ours[pipeline]!)]).toEqual([pipeline, theirs]);
    }
    const theirs = await seen("mf/side", targets.ours);
    // The dispatching job is the target's parent and, being the top of its pipeline, its master too.
    expect(theirs).toMatchObject({ parent: "mf/dispatch", master: "mf/dispatch" });
    expect(await seen("mf/side", targets.original)).toEqual(theirs);
  });

  test("the original's lava-events reads our events items, and ours reads the original's, as written", async () => {
    for (const [reader, writer] of [
      ["original", "ours"],
      ["ours", "original"],
    ] as const) {
      for (const p of PIPELINES) {
        const runId = runs[writer][p]!;
        for (const j of RUN_ITEMS[p]) {
          const args = ["-r", REALM, j, runId, "-f", "json"];
          const out = reader === "original" ? await py("lava-events", args) : await lava(["events", ...args]);
          expect([reader, j, out.code, out.stderr.includes("Traceback")]).toEqual([reader, j, 0, false]);
          const stored = await item(j, runId);
          expect([reader, j, JSON.parse(out.stdout)]).toEqual([reader, j, JSON.parse(JSON.stringify(stored))]);
        }
      }
    }
  });

  test("ours `lava events --pipeline` draws the original's dag run as a tree of completed children", async () => {
    const out = await lava(["events", "-r", REALM, "--pipeline", "mf/dag", runs.original["mf/dag"]!]);
    expect(out.code).toBe(0);
    for (const j of RUN_ITEMS["mf/dag"]) expect(out.stdout).toMatch(new RegExp(`${j}\\s.*complete`));
  });

  test("the original's lava-state reads the state our children put, and ours reads the original's", async () => {
    const theirs = `st/mf/a/${runs.original["mf/dag"]}`;
    const mine = `st/mf/a/${runs.ours["mf/dag"]}`;
    const py1 = await py("lava-state", ["-r", REALM, "get", mine, "{{ s.parent }} {{ s.master }}"]);
    expect([py1.code, py1.stdout.trim(), py1.stderr.includes("Traceback")]).toEqual([0, "mf/dag mf/dag", false]);
    const ours1 = await lava(["state", "-r", REALM, "get", theirs, "{{ s.parent }} {{ s.master }}"]);
    expect([ours1.code, ours1.stdout.trim()]).toEqual([0, "mf/dag mf/dag"]);
  });

  test("both workers on one queue at once: every run completes and every events item has the phase-A shape, whoever ran it", async () => {
    const ranBy = (runId: string): Side | "?" => (concurrentLogs.original.includes(runId) ? "original" : concurrentLogs.ours.includes(runId) ? "ours" : "?");
    const split: Record<string, number> = {};
    for (const { jobId, runId } of concurrent) {
      const who = ranBy(runId);
      split[who] = (split[who] ?? 0) + 1;
      for (const j of RUN_ITEMS[jobId as (typeof PIPELINES)[number]]) {
        const got = await item(j, runId);
        expect([jobId, j, got?.status]).toEqual([jobId, j, "complete"]);
        const reference = (await item(j, runs.original[jobId]!))!;
        expect([jobId, j, comparable(got!, runId)]).toEqual([jobId, j, comparable(reference, runs.original[jobId]!)]);
      }
    }
    console.log(`concurrent phase: ${concurrent.length} pipeline runs, ran by ${JSON.stringify(split)}`);
    expect(split["?"]).toBeUndefined();
    expect(split.original).toBeGreaterThanOrEqual(3);
  });
});
