/** The dispatch message: built and sent exactly as the original dispatcher does (golden captures). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildDispatchMessage, dispatchJob, dispatchMessageBody, DispatchError } from "../../src/core/dispatch.ts";
import { JobSpecError } from "../../src/core/job-spec.ts";
import { pyJsonDumps } from "../../src/core/pyformat.ts";
import { openLocalPorts, type LocalPorts } from "../../src/adapters/local/index.ts";
import { createRealm } from "../../src/core/realm-setup.ts";
import { realmTable } from "../../src/core/names.ts";
import { silentLogger } from "../../src/core/log.ts";
import { goldenJson, haveGolden } from "../support/shared.ts";

const withGolden = haveGolden();
const golden = await goldenJson<{
  messages: { scenario: string; body: string; parsed: Record<string, unknown> | null; send_message_request: unknown }[];
}>("sqs-dispatch-messages.json", { messages: [] });
const dispatched = golden.messages.filter((m) => m.send_message_request !== null);

describe.if(withGolden)("dispatch message format", () => {
  test("our JSON text of every golden message is byte-identical to the Python dispatcher's", () => {
    expect(dispatched.length).toBeGreaterThan(10);
    for (const m of dispatched) expect(pyJsonDumps(m.parsed)).toBe(m.body);
  });

  test("fields, order and ts_dispatch format match the golden messages", () => {
    const msg = buildDispatchMessage({ realm: "ref", worker: "core", jobId: "ref/log", now: new Date("2026-11-27T17:42:06.789Z") });
    expect(Object.keys(msg)).toEqual(["realm", "worker", "job_id", "run_id", "ts_dispatch"]);
    expect(msg.run_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // Local time, whole seconds, with the offset (the golden ran with TZ=UTC).
    expect(msg.ts_dispatch).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/);
    expect(new Date(msg.ts_dispatch).getTime()).toBe(new Date("2026-11-27T17:42:06Z").getTime());
    const goldenKeys = Object.keys(dispatched[0]!.parsed!);
    expect(Object.keys(msg)).toEqual(goldenKeys);
  });

  test("parameters and globals only when non-empty, after the fixed fields", () => {
    expect(Object.keys(buildDispatchMessage({ realm: "r", worker: "w", jobId: "j", parameters: {}, globals: {} }))).not.toContain("parameters");
    const msg = buildDispatchMessage({ realm: "ref", worker: "core", jobId: "ref/log", parameters: { foo: "bar", nested: { key: "1" } }, globals: { gvar: "gval" } });
    const withParams = dispatched.find((m) => m.scenario === "log_with_params_globals")!;
    expect(Object.keys(msg)).toEqual(Object.keys(withParams.parsed!));
    const body = dispatchMessageBody(msg);
    expect(body.replace(/"run_id": "[^"]+", "ts_dispatch": "[^"]+"/, "X")).toBe(withParams.body.replace(/"run_id": "[^"]+", "ts_dispatch": "[^"]+"/, "X"));
  });

  test("the body is pyJsonDumps of the message, whatever its fields hold", () => {
    const msg = buildDispatchMessage({ realm: "réalm", worker: "w\"1", jobId: "j\\é😀", parameters: { p: ["é", 1.5, null], q: { r: true } }, globals: { g: "\u007f" } });
    expect(dispatchMessageBody(msg)).toBe(pyJsonDumps(msg));
    const bare = buildDispatchMessage({ realm: "r", worker: "w", jobId: "j" });
    expect(dispatchMessageBody(bare)).toBe(pyJsonDumps(bare));
  });

  test("non-ASCII and control characters are escaped as Python's json.dumps does", () => {
    expect(pyJsonDumps({ a: "é\n\u0001\u007f😀", b: [1, 2.5, true, null] })).toBe('{"a": "\\u00e9\\n\\u0001\\u007f\\ud83d\\ude00", "b": [1, 2.5, true, null]}');
  });
});

describe("dispatchJob on the local backend", () => {
  let home: string;
  let ports: LocalPorts;
  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), "lava-dispatch-"));
    ports = await openLocalPorts({ home });
    await createRealm(ports, { realm: "ref", workers: ["core"] }, silentLogger());
    await ports.tables.put(realmTable("ref", "jobs"), { job_id: "ref/log", type: "log", worker: "core", payload: null, enabled: true });
    await ports.tables.put(realmTable("ref", "jobs"), { job_id: "ref/noworker", type: "log", payload: null });
    await ports.tables.put(realmTable("ref", "jobs"), { job_id: "ref/off", type: "log", worker: "core", payload: null, enabled: false });
    await ports.tables.put(realmTable("ref", "jobs"), { job_id: "ref/unset", type: "log", worker: "core", payload: null });
    await ports.tables.put(realmTable("ref", "jobs"), { job_id: "ref/later", type: "log", worker: "core", payload: null, enabled: "{{ false }}" });
  });

  async function drain(): Promise<string[]> {
    const got = await ports.queues.receive("lava-ref-core", { maxMessages: 10 });
    for (const m of got) await ports.queues.delete("lava-ref-core", m.receiptHandle);
    return got.map((m) => (JSON.parse(m.body) as { job_id: string }).job_id).sort();
  }

  test("a statically disabled job (enabled false or absent) is sent, as the original, and the caller is told", async () => {
    const told: string[] = [];
    for (const jobId of ["ref/off", "ref/unset"]) {
      await dispatchJob(ports, { realm: "ref", jobId, onDisabled: () => told.push(jobId) });
    }
    expect(told).toEqual(["ref/off", "ref/unset"]);
    expect(await drain()).toEqual(["ref/off", "ref/unset"]);
  });

  test("a template enabled is left to the worker; with a given worker the job is not read", async () => {
    const told: string[] = [];
    await dispatchJob(ports, { realm: "ref", jobId: "ref/later", onDisabled: () => told.push("ref/later") });
    await dispatchJob(ports, { realm: "ref", jobId: "ref/off", worker: "core", onDisabled: () => told.push("ref/off") });
    expect(told).toEqual([]);
    expect(await drain()).toEqual(["ref/later", "ref/off"]);
  });

  afterAll(async () => {
    await ports.close();
    rmSync(home, { recursive: true, force: true });
  });

  test("looks the worker up and sends one message to lava-<realm>-<worker>", async () => {
    const runId = await dispatchJob(ports, { realm: "ref", jobId: "ref/log", parameters: { a: "1" } });
    const [m] = await ports.queues.receive("lava-ref-core", { maxMessages: 10 });
    expect(m).toBeDefined();
    const body = JSON.parse(m!.body) as Record<string, unknown>;
    expect(body).toMatchObject({ realm: "ref", worker: "core", job_id: "ref/log", run_id: runId, parameters: { a: "1" } });
    expect(m!.body).toBe(pyJsonDumps(body));
    await ports.queues.delete("lava-ref-core", m!.receiptHandle);
  });

  test("an unknown job or a job without a worker is an error and sends nothing", async () => {
    await expect(dispatchJob(ports, { realm: "ref", jobId: "ref/none" })).rejects.toBeInstanceOf(JobSpecError);
    await expect(dispatchJob(ports, { realm: "ref", jobId: "ref/noworker" })).rejects.toThrow(/Missing keys: worker/);
    expect((await ports.queues.attributes("lava-ref-core")).visible).toBe(0);
  });

  test("the delay is range-checked against maxDelayMinutes", async () => {
    await expect(dispatchJob(ports, { realm: "ref", jobId: "ref/log", delaySeconds: 901, maxDelayMinutes: 15 })).rejects.toBeInstanceOf(DispatchError);
    await expect(dispatchJob(ports, { realm: "ref", jobId: "ref/log", delaySeconds: -1, maxDelayMinutes: 15 })).rejects.toBeInstanceOf(DispatchError);
    await dispatchJob(ports, { realm: "ref", jobId: "ref/log", delaySeconds: 60, maxDelayMinutes: 15 });
    const attrs = await ports.queues.attributes("lava-ref-core");
    expect(attrs.delayed).toBe(1);
  });
});
