/**
 * chain, dag and foreach across real processes on both backends: nesting (a chain inside a dag, a
 * foreach over a chain), generators reading the backend's objects, bad input failing before any child
 * runs, and a dag whose worker is SIGKILLed mid-run resuming on the next delivery without running its
 * finished nodes again.
 */
import { expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { realmTable } from "../../src/core/names.ts";
import type { Item } from "../../src/ports/index.ts";
import { dispatch, jobs, onBothBackends, startWorker, statuses, until, WORKER } from "./harness.ts";

const job = (id: string, over: Record<string, unknown>) => ({ job_id: id, worker: WORKER, enabled: true, owner: "e2e", description: id, ...over });
const logJob = (id: string) => job(id, { type: "log", payload: null });

function lastInfo(item: Item | undefined): Record<string, unknown> {
  return ((item!.log as Item[]).at(-1)!.info ?? {}) as Record<string, unknown>;
}

onBothBackends(
  "orchestration",
  (backend) => {
    test("a chain inside a dag, a foreach (s3list, csv from the bucket) over a chain; children in the shared run", async () => {
      const b = backend();
      await b.putJob(jobs.log);
      await b.putJob(logJob("o/l1"));
      await b.putJob(job("o/chain", { type: "chain", payload: "o/l1,ref/log" }));
      await b.putJob(job("o/dag", { type: "dag", payload: { "o/chain": "o/l1", "ref/cmd-true": ["o/l1"] } }));
      await b.putJob(jobs.cmdTrue);
      await b.ports.objects.put("s3://lava-ref/fe/a.csv", "name\nx\ny\n");
      await b.ports.objects.put("s3://lava-ref/fe/b.csv", "name\nz\n");
      await b.ports.objects.put("s3://lava-ref/fe/skip.txt", "-");
      await b.putJob(job("o/per-file", { type: "foreach", payload: "o/chain", parameters: { foreach: { type: "csv", filename: "s3://{{ globals.s3obj.Bucket }}/{{ globals.s3obj.Key }}" } } }));
      await b.putJob(job("o/files", { type: "foreach", payload: "o/per-file", parameters: { foreach: { type: "s3list", bucket: "lava-ref", prefix: "fe/", glob: "*.csv" } } }));
      const dagRun = await dispatch(b, "o/dag");
      const feRun = await dispatch(b, "o/files");
      const r = await startWorker(b, ["--batch", "--wait", "1"]).done;
      expect(r.code).toBe(0);
      const dag = (await b.events("o/dag")).find((i) => i.run_id === dagRun);
      expect(dag!.status).toBe("complete");
      expect([...(lastInfo(dag).jobs as string[])].sort()).toEqual(["o/chain", "o/l1", "ref/cmd-true"]);
      // o/l1 ran twice in the dag's run (as a node and inside o/chain): one item, two runs.
      const l1 = (await b.events("o/l1")).find((i) => i.run_id === dagRun);
      expect(statuses(l1)).toEqual(["starting", "running", "complete", "starting", "running", "complete"]);
      const files = (await b.events("o/files")).find((i) => i.run_id === feRun);
      expect(files!.status).toBe("complete");
      expect(lastInfo(files)).toMatchObject({ exit_status: 0, foreach_len: 2, jobs_completed: 2, failed_indexes: [] });
      // Three csv rows over two files: the chain ran three times in the foreach's run.
      const chain = (await b.events("o/chain")).find((i) => i.run_id === feRun);
      expect(statuses(chain).filter((s) => s === "complete").length).toBe(3);
    }, 60_000);

    test("foreach over inline, jsonl (s3://), range and query (sqlite3) values: one child run per value", async () => {
      const b = backend();
      await b.putJob(logJob("o/each"));
      await b.ports.objects.put("s3://lava-ref/fe/x.jsonl", '{"a": 1}\n{"a": 2}\n{"a": 3}\n');
      const dir = mkdtempSync(join(tmpdir(), "lava-e2e-fe-"));
      const db = new Database(join(dir, "q.db"));
      db.run("CREATE TABLE t (k TEXT)");
      db.run("INSERT INTO t VALUES ('a'), ('b')");
      db.close();
      await b.ports.tables.put(realmTable("ref", "connections"), { conn_id: "fe-q", type: "sqlite3", enabled: true, host: join(dir, "q.db"), port: 0, user: "-" });
      const generators: Record<string, [Record<string, unknown>, number]> = {
        "o/fe-inline": [{ type: "inline", values: [{ a: "x" }, { a: "y" }] }, 2],
        "o/fe-jsonl": [{ type: "jsonl", filename: "s3://lava-ref/fe/x.jsonl" }, 3],
        "o/fe-range": [{ type: "range", start: 5, stop: 0, step: -1, name: "n" }, 5],
        "o/fe-query": [{ type: "query", conn_id: "fe-q", query: "SELECT k FROM t" }, 2],
      };
      const runs: Record<string, string> = {};
      for (const [id, [foreach]] of Object.entries(generators)) {
        await b.putJob(job(id, { type: "foreach", payload: "o/each", parameters: { foreach } }));
        runs[id] = await dispatch(b, id);
      }
      try {
        const r = await startWorker(b, ["--batch", "--wait", "1"]).done;
        expect(r.code).toBe(0);
        const each = await b.events("o/each");
        for (const [id, [, n]] of Object.entries(generators)) {
          const parent = (await b.events(id)).find((i) => i.run_id === runs[id]);
          expect([id, parent!.status]).toEqual([id, "complete"]);
          expect(lastInfo(parent)).toMatchObject({ exit_status: 0, foreach_len: n, jobs_completed: n, failed_indexes: [] });
          const child = each.find((i) => i.run_id === runs[id]);
          expect([id, statuses(child).filter((st) => st === "complete").length]).toEqual([id, n]);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 60_000);

    test("a dag dispatched by a dispatch job: a new run on the target's queue, its nodes in that run", async () => {
      const b = backend();
      await b.putJob(logJob("o/n1"));
      await b.putJob(logJob("o/n2"));
      await b.putJob(job("o/the-dag", { type: "dag", payload: { "o/n2": "o/n1" } }));
      await b.putJob(job("o/fan", { type: "dispatch", payload: ["o/the-dag"] }));
      const fanRun = await dispatch(b, "o/fan");
      const r = await startWorker(b, ["--batch", "--wait", "2"]).done;
      expect(r.code).toBe(0);
      const fan = (await b.events("o/fan")).find((i) => i.run_id === fanRun);
      expect(fan!.status).toBe("complete");
      expect(lastInfo(fan)).toMatchObject({ exit_status: 0, jobs: ["o/the-dag"] });
      const dags = await b.events("o/the-dag");
      expect(dags).toHaveLength(1);
      expect(dags[0]!.run_id).not.toBe(fanRun);
      expect(dags[0]!.status).toBe("complete");
      for (const node of ["o/n1", "o/n2"]) {
        const item = (await b.events(node)).find((i) => i.run_id === dags[0]!.run_id);
        expect([node, item?.status]).toEqual([node, "complete"]);
      }
    }, 60_000);

    test("bad input fails before any child runs, and the worker goes on to the next job", async () => {
      const b = backend();
      await b.putJob(logJob("o/child"));
      await b.putJob(job("o/self", { type: "chain", payload: ["o/child", "o/self"] }));
      await b.putJob(job("o/long", { type: "foreach", payload: "o/child", parameters: { foreach: { type: "range", stop: 11 } } }));
      await b.putJob(job("o/nobucket", { type: "foreach", payload: "o/child", parameters: { foreach: { type: "s3list", bucket: "lava-no-such-bucket" } } }));
      const runs = { self: await dispatch(b, "o/self"), long: await dispatch(b, "o/long"), nobucket: await dispatch(b, "o/nobucket") };
      const after = await dispatch(b, "o/child");
      const r = await startWorker(b, ["--batch", "--wait", "1"]).done;
      expect(r.code).toBe(0);
      const info = async (id: string, run: string) => {
        const it = (await b.events(id)).find((i) => i.run_id === run);
        return [it!.status, String(lastInfo(it).error)];
      };
      expect(await info("o/self", runs.self)).toEqual(["failed", "Bad payload: the chain would run itself: o/self -> o/self"]);
      expect(await info("o/long", runs.long)).toEqual(["failed", "foreach value list exceeds limit of 10"]);
      const [status, error] = await info("o/nobucket", runs.nobucket);
      expect(status).toBe("failed");
      expect(error).toStartWith("Bad foreach (s3list): bucket lava-no-such-bucket: ");
      const child = await b.events("o/child");
      expect(child.map((i) => i.run_id)).toEqual([after]);
      expect(child[0]!.status).toBe("complete");
    }, 60_000);

    test("a dag whose worker is SIGKILLed mid-run resumes on redelivery: finished nodes are not run again", async () => {
      const b = backend();
      await b.putJob(logJob("k/first"));
      await b.putJob(job("k/slow", { type: "cmd", payload: "sleep 2", parameters: { jinja: false } }));
      await b.putJob(logJob("k/last"));
      await b.putJob(job("k/dag", { type: "dag", payload: { "k/slow": "k/first", "k/last": "k/slow" } }));
      const runId = await dispatch(b, "k/dag");
      const first = startWorker(b, ["--wait", "1", "-s", "0"]);
      await until("k/slow to run", async () => statuses((await b.events("k/slow")).find((i) => i.run_id === runId)).includes("running"), 20_000);
      first.proc.kill("SIGKILL");
      await first.done;
      const r = await startWorker(b, ["--batch", "--wait", "5"]).done;
      expect(r.code).toBe(0);
      const of = async (id: string) => (await b.events(id)).find((i) => i.run_id === runId);
      expect(statuses(await of("k/first"))).toEqual(["starting", "running", "complete"]);
      expect(statuses(await of("k/slow"))).toEqual(["starting", "running", "starting", "running", "complete"]);
      expect(statuses(await of("k/last"))).toEqual(["starting", "running", "complete"]);
      const dag = await of("k/dag");
      expect(statuses(dag)).toEqual(["starting", "running", "starting", "running", "complete"]);
      expect(lastInfo(dag).jobs).toEqual(["k/first", "k/slow", "k/last"]);
    }, 60_000);
  },
  { visibilityTimeoutSeconds: 2 },
);
