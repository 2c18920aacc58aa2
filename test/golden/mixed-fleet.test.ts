/**
 * Golden parity, mixed fleet: the dispatch messages the ORIGINAL lava-dispatcher sent (and the golden
 * error-path messages) are put on our queue unchanged — same realm, worker, job ids and run ids — and one
 * `lava worker --batch` of ours serves them. Since the run ids are the golden ones, each events item and
 * each worker log line is compared with the golden one for the very same run. On both backends.
 *
 * Not covered yet (later issues): the chain, dag, sql and sqli messages of sqs-dispatch-messages.json.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { needs } from "../support/availability.ts";
import { emulatorsPresent } from "../support/emulators.ts";
import { eventItemFindings, golden, goldenPresent, logLineSummary, readGoldenLines, type GoldenDispatchMessage, type JsonMap } from "./golden.ts";
import { eventItem, logRecords, openBackend, QUEUE, runBatchWorker, type BackendName, type Finished, type GoldenBackend } from "./setup.ts";

const SUPPORTED = [
  "log_success",
  "log_with_params_globals",
  "cmd_echo_success",
  "cmd_true_success",
  "cmd_fail",
  "cmd_retry_iterations_fail",
  "cmd_disabled_skipped",
  "exe_success",
  "pkg_success",
  "log_success_json_dispatch",
];

const ERROR_PATH = "raw error-path message (sent by golden.py, not the dispatcher)";
const BAD_LOG = "worker-log/bad-messages.jsonl";

/** Each line of golden bad-messages.jsonl and the error-path body that caused it. */
const BAD_OUTCOMES: { what: string; body: (m: GoldenDispatchMessage) => boolean; line: number; exactMessage: boolean }[] = [
  { what: "unknown job", body: (m) => m.parsed?.job_id === "ref/no-such-job", line: 0, exactMessage: true },
  { what: "worker mismatch", body: (m) => m.parsed?.worker === "other", line: 1, exactMessage: true },
  { what: "missing keys", body: (m) => m.parsed !== null && !("run_id" in m.parsed), line: 2, exactMessage: true },
  // For a non-JSON body the original logs a Python AttributeError text ("'NoneType' object has no
  // attribute 'body'"), an accident of its code: only the outcome (one ERROR worker record, message
  // deleted) must match.
  { what: "body not JSON", body: (m) => m.parsed === null, line: 3, exactMessage: false },
];

function describeBackend(name: BackendName): void {
  describe(`golden parity, original dispatcher's messages → our worker [${name}]`, () => {
    let b: GoldenBackend;
    let worker: Finished;
    let records: JsonMap[] = [];
    const messages = golden.dispatchMessages();
    const goldenBad = readGoldenLines(BAD_LOG);

    beforeAll(async () => {
      b = await openBackend(name);
      const bodies = messages.filter((m) => SUPPORTED.includes(m.scenario) || m.scenario === ERROR_PATH).map((m) => ({ body: m.body }));
      for (let i = 0; i < bodies.length; i += 10) await b.ports.queues.sendBatch(QUEUE, bodies.slice(i, i + 10));
      worker = await runBatchWorker(b);
      records = logRecords(worker.stderr);
    }, 90_000);

    afterAll(async () => {
      await b?.close();
    });

    test("every message is consumed: worker exits 0, queue empty", async () => {
      expect(worker.code).toBe(0);
      const attrs = await b.ports.queues.attributes(QUEUE);
      expect(attrs.visible + attrs.notVisible + attrs.delayed).toBe(0);
    });

    for (const scenario of SUPPORTED) {
      test(`${scenario}: the golden run's events item and log lines, reproduced`, async () => {
        const g = golden.events(scenario);
        const ours = await eventItem(b, g.job_id, g.run_id);
        expect(ours).toBeDefined();
        expect(eventItemFindings(ours!, g.items_raw[0]!, g.items[0]!, { ours: g.run_id, golden: g.run_id })).toEqual([]);
        expect(ours!.ts_dispatch).toBe(g.items[0]!.ts_dispatch!);
        const gLines = golden.workerLog(scenario);
        const mine = records.filter((r) => r.run_id === g.run_id);
        expect(mine.map((r) => logLineSummary(r, []))).toEqual(gLines.map((r) => logLineSummary(r, [])));
      });
    }

    test("error path: a valid raw message (not from the dispatcher) runs like any other", async () => {
      const m = messages.find((x) => x.scenario === ERROR_PATH && x.parsed?.job_id === "ref/log" && x.parsed.worker === "core" && "run_id" in x.parsed)!;
      const item = await eventItem(b, "ref/log", m.parsed!.run_id as string);
      expect(item?.status).toBe("complete");
    });

    for (const outcome of BAD_OUTCOMES) {
      test(`error path, ${outcome.what}: the same log record as golden bad-messages.jsonl line ${outcome.line + 1}`, () => {
        const g = goldenBad[outcome.line]!;
        const m = messages.find((x) => x.scenario === ERROR_PATH && outcome.body(x))!;
        expect(m).toBeDefined();
        const exactTexts = new Set(goldenBad.filter((_, i) => BAD_OUTCOMES[i]!.exactMessage).map((x) => x.message));
        const errors = records.filter((r) => r.level === "ERROR" && r.event_type === "worker");
        const ours = outcome.exactMessage ? errors.find((r) => r.message === g.message) : errors.find((r) => !exactTexts.has(r.message!));
        if (!outcome.exactMessage) console.log(`non-JSON body [${name}]: golden ${JSON.stringify(g.message)}, ours ${JSON.stringify(ours?.message)}`);
        expect([outcome.what, ours?.message ?? "(no such record)"]).toEqual([outcome.what, outcome.exactMessage ? g.message! : (ours?.message ?? "an ERROR worker record")]);
        // Deliberate superset: our rejection records also name the job_id and run_id the message
        // carried (every log line names them where known); the golden keys stay in the same order.
        const extra = new Set(["job_id", "run_id"]);
        expect(Object.keys(ours!).filter((k) => !extra.has(k))).toEqual(Object.keys(g));
        if (typeof m.parsed?.job_id === "string") expect(ours!.job_id).toBe(m.parsed.job_id);
        expect(ours!.level).toBe(g.level!);
        expect(ours!.event_type).toBe(g.event_type!);
        const runId = m.parsed?.run_id;
        // A rejected message never starts a run.
        if (typeof runId === "string") expect(records.some((r) => r.event_type === "job" && (r.run_id === runId || String(r.message).includes(runId)))).toBe(false);
      });
    }

    test("error path: exactly one ERROR worker record per bad message, as golden", () => {
      const bad = records.filter((r) => r.level === "ERROR" && r.event_type === "worker");
      expect(bad.map((r) => r.message).length).toBe(goldenBad.length);
    });
  });
}

if (needs("golden captures of the original lava (shared/golden or LAVA_GOLDEN_DIR)", goldenPresent())) {
  describeBackend("local");
  if (needs("dynalite and fauxqs (npm devDependencies)", emulatorsPresent.dynalite() && emulatorsPresent.fauxqs())) describeBackend("aws");
}
