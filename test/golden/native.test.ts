/**
 * Golden parity, our programs end to end: `lava dispatcher` dispatches every supported golden scenario,
 * one `lava worker --batch` runs them all, and what they leave behind — dispatcher output, the dispatch
 * message bodies, events items, S3 outputs (and PutObject headers), worker JSON log lines, the heartbeat
 * record, AWS request counts — is compared field by field with the captures of the original lava 8.2.0
 * (shared/golden). On both backends: `local` (temp LAVA_HOME) and `aws` (dynalite + fauxqs).
 *
 * chain_success, chain_fail and dag_success: test/golden/orchestration.test.ts. redelivery_visibility_timeout
 * is exercised by test/e2e/worker-delivery.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { needs } from "../support/availability.ts";
import { emulatorsPresent } from "../support/emulators.ts";
import {
  eventItemFindings,
  golden,
  goldenPresent,
  LOG_LOCALTIME,
  LOG_TIMESTAMP,
  logLineSummary,
  normaliseMessage,
  shape,
  type JsonMap,
} from "./golden.ts";
import { opCounts, type RecordedRequest } from "./recorder.ts";
import {
  allRequests,
  clearRequests,
  eventItem,
  lava,
  listUris,
  logRecords,
  openBackend,
  QUEUE,
  readText,
  runBatchWorker,
  S3_KEY,
  S3_TEMP,
  type BackendName,
  type Finished,
  type GoldenBackend,
} from "./setup.ts";

interface Scenario {
  scenario: string;
  job: string;
  args: string[];
}

export const SCENARIOS: Scenario[] = [
  { scenario: "log_success", job: "ref/log", args: [] },
  { scenario: "log_with_params_globals", job: "ref/log", args: ["-p", "foo=bar", "-p", "nested.key=1", "-g", "gvar=gval"] },
  { scenario: "cmd_echo_success", job: "ref/cmd-echo", args: [] },
  { scenario: "cmd_true_success", job: "ref/cmd-true", args: [] },
  { scenario: "cmd_fail", job: "ref/cmd-fail", args: [] },
  { scenario: "cmd_retry_iterations_fail", job: "ref/cmd-retry", args: [] },
  // Our dispatcher refuses a disabled job it reads; with -w it sends it as the original did, so the worker's `skipped` stays compared.
  { scenario: "cmd_disabled_skipped", job: "ref/cmd-disabled", args: ["-w", "core"] },
  { scenario: "exe_success", job: "ref/exe", args: [] },
  { scenario: "pkg_success", job: "ref/pkg", args: [] },
  { scenario: "log_success_json_dispatch", job: "ref/log", args: ["--log-json"] },
  { scenario: "sqli_sqlite3_success", job: "ref/sqli", args: [] },
  { scenario: "sql_sqlite3_success", job: "ref/sql", args: [] },
];

/**
 * The sql scenarios' outputs hold rows of a shared SQLite table: other runs' ids and the row numbers
 * depend on which of the two jobs ran first, so there every UUID and number is compared as a placeholder
 * (their sizes are the same either way).
 */
const ROW_DEPENDENT = new Set(["sqli_sqlite3_success", "sql_sqlite3_success"]);
const rowShape = (text: string) => text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<uuid>").replace(/\d+/g, "<n>");

/** golden/requests/<name>.json ↔ the scenario whose job it measured. */
const REQUEST_GOLDENS: Record<string, string> = {
  worker_log_job: "log_success",
  worker_cmd_true_job: "cmd_true_success",
  worker_cmd_echo_job: "cmd_echo_success",
  worker_cmd_fail_job: "cmd_fail",
};

interface Dispatched extends Scenario {
  runId: string;
  output: Finished;
  requests: RecordedRequest[];
  body?: string;
}

const goldenRunId = (scenario: string): string => golden.events(scenario).run_id;

function runIdOf(out: Finished): string {
  const m = /dispatched \(([0-9a-f-]{36})\)/.exec(out.stderr + out.stdout);
  if (out.code !== 0 || !m) throw new Error(`dispatch failed (${out.code}): ${out.stderr}`);
  return m[1]!;
}

/** Receives every message on the queue, keeps the bodies, then makes them visible again for the worker. */
async function peekAll(b: GoldenBackend): Promise<string[]> {
  const bodies: string[] = [];
  const handles: string[] = [];
  for (;;) {
    const batch = await b.ports.queues.receive(QUEUE, { maxMessages: 10, waitSeconds: 0, visibilityTimeoutSeconds: 30 });
    if (batch.length === 0) break;
    for (const m of batch) {
      bodies.push(m.body);
      handles.push(m.receiptHandle);
    }
  }
  for (const h of handles) await b.ports.queues.changeVisibility(QUEUE, h, 0);
  return bodies;
}

/**
 * The requests of the batch run that served one run: DynamoDB calls naming its run id (events) or its job
 * (the jobs-table read, shared out when the job ran several times), S3 calls on its output keys, the
 * receive that delivered it and the delete/visibility calls on that delivery.
 */
function requestsOfRun(requests: RecordedRequest[], runId: string, jobId: string, runsOfJob: number): Record<string, number> {
  const handles = new Set<string>();
  const counts: Record<string, number> = {};
  const add = (op: string, n = 1) => (counts[op] = (counts[op] ?? 0) + n);
  for (const r of requests) {
    if (r.op === "sqs.ReceiveMessage") {
      const messages = (JSON.parse(r.response || "{}") as { Messages?: { Body: string; ReceiptHandle: string }[] }).Messages ?? [];
      const mine = messages.filter((m) => m.Body.includes(runId));
      for (const m of mine) handles.add(m.ReceiptHandle);
      if (mine.length) add(r.op);
    } else if (r.op.startsWith("sqs.")) {
      const body = JSON.parse(r.body || "{}") as { ReceiptHandle?: string; Entries?: { ReceiptHandle?: string }[] };
      if (body.ReceiptHandle && handles.has(body.ReceiptHandle)) add(r.op);
      // A batch request serves each of its entries a share.
      const entries = body.Entries ?? [];
      if (entries.some((e) => e.ReceiptHandle && handles.has(e.ReceiptHandle))) add(r.op, 1 / entries.length);
    } else if (r.op.startsWith("s3.")) {
      if (r.path.includes(runId)) add(r.op);
    } else if (r.op.startsWith("dynamodb.")) {
      if (r.body.includes(runId)) add(r.op);
      else if (r.op === "dynamodb.GetItem" && r.body.includes('"lava.ref.jobs"') && r.body.includes(`"${jobId}"`)) add(r.op, 1 / runsOfJob);
      else if (r.op === "dynamodb.BatchGetItem" && r.body.includes('"lava.ref.jobs"') && r.body.includes(`"${jobId}"`)) {
        // One read for several jobs (the worker reads ahead for a whole receive): each job's runs share its part.
        const keys = (JSON.parse(r.body) as { RequestItems: Record<string, { Keys: unknown[] }> }).RequestItems["lava.ref.jobs"]?.Keys.length ?? 1;
        add(r.op, 1 / (runsOfJob * keys));
      }
    }
  }
  return counts;
}

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** Our batch requests stand in for these single requests of the original. */
const SINGLE_OF: Record<string, string> = { "sqs.DeleteMessageBatch": "sqs.DeleteMessage", "dynamodb.BatchGetItem": "dynamodb.GetItem" };

/** Our counts with batch requests under the single operation they replace, for comparing with the original's. */
function asSingles(counts: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [op, n] of Object.entries(counts)) out[SINGLE_OF[op] ?? op] = (out[SINGLE_OF[op] ?? op] ?? 0) + n;
  return out;
}

function describeBackend(name: BackendName): void {
  const scenarios = SCENARIOS;
  describe(`golden parity, dispatcher → batch worker [${name}]`, () => {
    let b: GoldenBackend;
    const dispatched: Dispatched[] = [];
    let worker: Finished;
    let workerRequests: RecordedRequest[] = [];
    let records: JsonMap[] = [];

    beforeAll(async () => {
      b = await openBackend(name);
      for (const s of scenarios) {
        clearRequests(b);
        const output = await lava(b, ["dispatcher", "-r", "ref", ...s.args, s.job]);
        dispatched.push({ ...s, output, runId: runIdOf(output), requests: [...allRequests(b)] });
      }
      const bodies = await peekAll(b);
      for (const d of dispatched) d.body = bodies.find((body) => body.includes(d.runId));
      clearRequests(b);
      worker = await runBatchWorker(b);
      workerRequests = [...allRequests(b)];
      records = logRecords(worker.stderr);
    }, 90_000);

    afterAll(async () => {
      await b?.close();
    });

    test("the batch worker exits 0 and leaves the queue empty", async () => {
      expect(worker.code).toBe(0);
      const attrs = await b.ports.queues.attributes(QUEUE);
      expect(attrs.visible + attrs.notVisible + attrs.delayed).toBe(0);
    });

    test("dispatcher output: plain line and --log-json record as golden dispatcher-output.json", () => {
      const outputs = golden.dispatcherOutput();
      for (const d of dispatched) {
        const g = outputs.find((o) => o.scenario === (d.scenario === "log_success_json_dispatch" ? "log_json_format" : d.scenario))!;
        const gRun = /dispatched \(([0-9a-f-]{36})\)/.exec(g.output)![1]!;
        expect(d.output.code).toBe(g.rc);
        if (d.args.includes("--log-json")) {
          const ours = JSON.parse((d.output.stderr + d.output.stdout).trim()) as JsonMap;
          const theirs = JSON.parse(g.output) as JsonMap;
          expect(Object.keys(ours)).toEqual(Object.keys(theirs));
          expect(shape({ ...ours, timestamp: null, pid: null })).toEqual(shape({ ...theirs, timestamp: null, pid: null }));
          expect(String(ours.timestamp)).toMatch(LOG_LOCALTIME);
          for (const k of ["event_source", "realm", "tag", "level", "event_type", "job_id"]) expect([k, ours[k]]).toEqual([k, theirs[k]]);
          expect(normaliseMessage(String(ours.message), [d.runId])).toBe(normaliseMessage(String(theirs.message), [gRun]));
        } else {
          // The original prints on stderr (logging); compare the text wherever it went.
          expect(normaliseMessage(d.output.stderr + d.output.stdout, [d.runId])).toBe(normaliseMessage(g.output, [gRun]));
        }
      }
    });

    test("dispatch message bodies: same keys, order, JSON spacing and ts_dispatch format as golden", () => {
      const messages = golden.dispatchMessages();
      const normal = (body: string, runId: string) =>
        body.split(runId).join("<run>").replace(/"ts_dispatch": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00"/, '"ts_dispatch": "<ts>"');
      for (const d of dispatched) {
        const g = messages.find((m) => m.scenario === d.scenario)!;
        expect(d.body).toBeDefined();
        const gRun = (g.parsed as JsonMap).run_id as string;
        expect([d.scenario, normal(d.body!, d.runId)]).toEqual([d.scenario, normal(g.body, gRun)]);
        expect(g.send_message_request!.DelaySeconds).toBe(0);
      }
    });

    for (const s of scenarios) {
      test(`events item of ${s.scenario}: keys, types, times, ttl, log statuses and info as golden`, async () => {
        const d = dispatched.find((x) => x.scenario === s.scenario)!;
        const ours = await eventItem(b, d.job, d.runId);
        expect(ours).toBeDefined();
        const g = golden.events(s.scenario);
        expect(g.items.length).toBe(1);
        expect(eventItemFindings(ours!, g.items_raw[0]!, g.items[0]!, { ours: d.runId, golden: g.run_id })).toEqual([]);
        expect(ours!.ts_dispatch).toBe(JSON.parse(d.body!).ts_dispatch);
      });
    }

    test("S3 outputs under s3_temp: same keys, sizes and contents as golden", async () => {
      const goldenOutputs = golden.s3Outputs();
      const all = await listUris(b, `${S3_TEMP}/`);
      for (const d of dispatched) {
        const gRun = goldenRunId(d.scenario);
        const content = (text: string, run: string) => {
          const mine = text.split(run).join("<run>");
          return ROW_DEPENDENT.has(d.scenario) ? rowShape(mine) : mine;
        };
        const expected = (goldenOutputs[d.scenario] ?? []).map((o) => ({ key: o.key.split(gRun).join("<run>"), size: o.size, content: content(o.content, gRun) }));
        const mine = all.filter((u) => u.includes(d.runId));
        const ours = [];
        for (const uri of mine) {
          const text = await readText(b, uri);
          ours.push({ key: uri.split(d.runId).join("<run>"), size: new TextEncoder().encode(text).byteLength, content: content(text, d.runId) });
        }
        expect([d.scenario, ours]).toEqual([d.scenario, expected]);
      }
    });

    test.if(name === "aws")("PutObject of job outputs carries SSE-KMS with the realm s3_key, as golden", () => {
      const goldenHeaders = golden.s3Outputs().cmd_echo_success![0]!.put_request_headers;
      const puts = workerRequests.filter((r) => r.op === "s3.PutObject" && r.path.startsWith("/lava-ref/tmp/"));
      expect(puts.length).toBe(8); // echo stdout, fail stdout+stderr, exe stdout+stderr, pkg stdout, the sqli and sql SELECT outputs
      for (const p of puts) {
        expect([p.path, p.headers["x-amz-server-side-encryption"]]).toEqual([p.path, goldenHeaders["x-amz-server-side-encryption"]]);
        expect([p.path, p.headers["x-amz-server-side-encryption-aws-kms-key-id"]]).toEqual([p.path, S3_KEY]);
      }
    });

    for (const s of scenarios) {
      test(`worker log lines of ${s.scenario}: same keys, levels, event_type and messages as golden`, () => {
        const d = dispatched.find((x) => x.scenario === s.scenario)!;
        const gLines = golden.workerLog(s.scenario);
        const gRun = goldenRunId(s.scenario);
        const ours = records.filter((r) => r.run_id === d.runId || String(r.message).includes(d.runId));
        expect(ours.map((r) => logLineSummary(r, [d.runId]))).toEqual(gLines.map((r) => logLineSummary(r, [gRun])));
        for (const r of ours) {
          expect(String(r.timestamp)).toMatch(LOG_TIMESTAMP);
          expect(String(r.localtime)).toMatch(LOG_LOCALTIME);
          expect(typeof r.pid).toBe("number");
          expect(r.thread).toMatch(/^worker-\d\d$/);
          for (const k of ["event_source", "realm", "worker"]) expect([k, r[k]]).toEqual([k, gLines[0]![k]!]);
        }
      });
    }

    test("worker log records carry the --tag given (lava-ref-core, as the golden worker ran)", () => {
      const gTag = golden.workerLog("log_success")[0]!.tag;
      expect(gTag).toBe("lava-ref-core");
      const tags = new Set(records.map((r) => r.tag));
      expect([...tags]).toEqual([gTag!]);
    });

    test("heartbeat record: same keys, order and value types as golden heartbeat.json", () => {
      const g = golden.heartbeat()[0]!;
      const ours = records.find((r) => r.event_type === "heartbeat");
      expect(ours).toBeDefined();
      expect(Object.keys(ours!)).toEqual(Object.keys(g));
      const strip = (r: JsonMap) => shape({ ...r, timestamp: null, localtime: null, pid: null });
      expect(strip(ours!)).toEqual(strip(g));
      expect(ours!.message).toBe(g.message!);
      expect(Object.keys(ours!.threads as JsonMap)).toEqual(Object.keys(g.threads as JsonMap));
    });

    test.if(name === "aws")("AWS requests: a dispatch and each job cost no more requests than the original", () => {
      const gDispatch = golden.requests("dispatcher_one_job").op_counts;
      const oDispatch = opCounts(dispatched[0]!.requests);
      console.log(`requests, one dispatch: golden ${JSON.stringify(gDispatch)} (${total(gDispatch)}), ours ${JSON.stringify(oDispatch)} (${total(oDispatch)})`);
      expect(total(oDispatch)).toBeLessThanOrEqual(total(gDispatch));
      for (const [file, scenario] of Object.entries(REQUEST_GOLDENS)) {
        const d = dispatched.find((x) => x.scenario === scenario)!;
        const runsOfJob = dispatched.filter((x) => x.job === d.job).length;
        const ours = requestsOfRun(workerRequests, d.runId, d.job, runsOfJob);
        const theirs = golden.requests(file).op_counts;
        console.log(`requests, ${file}: golden ${JSON.stringify(theirs)} (${total(theirs)}), ours ${JSON.stringify(ours)} (${total(ours)})`);
        expect([file, total(ours)]).toEqual([file, Math.min(total(ours), total(theirs))]);
        for (const [op, n] of Object.entries(asSingles(ours))) expect([file, op, n]).toEqual([file, op, Math.min(n, theirs[op] ?? 0)]);
      }
      console.log(`requests, whole batch worker run (${dispatched.length} messages, start-up and empty polls included): ${JSON.stringify(opCounts(workerRequests))} (${workerRequests.length})`);
    });
  });
}

if (needs("golden captures of the original lava (shared/golden or LAVA_GOLDEN_DIR)", goldenPresent())) {
  describeBackend("local");
  if (needs("dynalite and fauxqs (npm devDependencies)", emulatorsPresent.dynalite() && emulatorsPresent.fauxqs())) describeBackend("aws");
}
