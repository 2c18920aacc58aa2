/**
 * `dispatchJobs`, the batched dispatch of `lava-dispatcher` with many job ids: outcomes per job in order,
 * on both backends, and on AWS the request counts the issue sets (one BatchGetItem per 100 jobs, one
 * SendMessageBatch per 10 messages, no GetQueueUrl once a queue's URL is remembered).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dispatchJobs, type DispatchOutcome } from "../../src/core/dispatch.ts";
import { openLocalPorts } from "../../src/adapters/local/index.ts";
import { openAwsPorts, type AwsPorts } from "../../src/adapters/aws/index.ts";
import { createRealm } from "../../src/core/realm-setup.ts";
import { realmTable } from "../../src/core/names.ts";
import { silentLogger } from "../../src/core/log.ts";
import { JobSpecError } from "../../src/core/job-spec.ts";
import type { Ports } from "../../src/ports/index.ts";
import { needs } from "../support/availability.ts";
import { emulatorsPresent, startAwsEmulators, type AwsEmulators } from "../support/emulators.ts";

const REALM = "many";

async function seed(ports: Ports): Promise<void> {
  await createRealm(ports, { realm: REALM, workers: ["a", "b"] }, silentLogger());
  const jobs = realmTable(REALM, "jobs");
  for (let i = 0; i < 130; i++) {
    await ports.tables.put(jobs, { job_id: `many/a${i}`, type: "log", worker: "a", payload: null, enabled: true });
  }
  for (let i = 0; i < 8; i++) await ports.tables.put(jobs, { job_id: `many/b${i}`, type: "log", worker: "b", payload: null, enabled: true });
  await ports.tables.put(jobs, { job_id: "many/off", type: "log", worker: "b", payload: null, enabled: false });
  await ports.tables.put(jobs, { job_id: "many/noworker", type: "log", payload: null, enabled: true });
}

async function drain(ports: Ports, queue: string): Promise<{ job_id: string; run_id: string; parameters?: unknown }[]> {
  const out: { job_id: string; run_id: string; parameters?: unknown }[] = [];
  for (;;) {
    const got = await ports.queues.receive(queue, { maxMessages: 10 });
    if (got.length === 0) return out;
    await ports.queues.deleteBatch(queue, got.map((m) => m.receiptHandle));
    out.push(...got.map((m) => JSON.parse(m.body)));
  }
}

function behaves(name: string, open: () => Promise<Ports>) {
  describe(`dispatchJobs, ${name}`, () => {
    let ports: Ports;
    beforeAll(async () => {
      ports = await open();
      await seed(ports);
    }, 60_000);
    afterAll(async () => {
      await ports?.close();
    });

    test("each job succeeds or fails on its own; outcomes in the order given; messages as dispatchJob's", async () => {
      const ids = ["many/a0", "many/nosuch", "many/b0", "many/noworker", "many/a1", "many/off", "many/a0"];
      const disabled: string[] = [];
      const outcomes = await dispatchJobs(ports, { realm: REALM, jobIds: ids, parameters: { p: "1" }, onDisabled: (j) => disabled.push(j) });
      expect(outcomes.map((o) => o.jobId)).toEqual(ids);
      const failed = outcomes.filter((o): o is Extract<DispatchOutcome, { error: unknown }> => "error" in o);
      expect(failed.map((o) => o.jobId)).toEqual(["many/nosuch", "many/noworker"]);
      expect(failed[0]!.error.cause).toBeInstanceOf(JobSpecError);
      expect(failed[0]!.error.message).toBe("No such job");
      expect(failed[1]!.error.message).toBe("Bad job record: Missing keys: worker");
      expect(disabled).toEqual(["many/off"]);
      const sent = [...(await drain(ports, `lava-${REALM}-a`)), ...(await drain(ports, `lava-${REALM}-b`))];
      const runIds = outcomes.flatMap((o) => ("runId" in o ? [o.runId] : []));
      expect(sent.map((m) => m.run_id).sort()).toEqual([...runIds].sort());
      expect(new Set(runIds).size).toBe(5); // the repeated job id is a second run
      expect(sent.every((m) => JSON.stringify(m.parameters) === '{"p":"1"}')).toBe(true);
    });

    test("with a worker given, nothing is read and every id goes to that worker's queue", async () => {
      const outcomes = await dispatchJobs(ports, { realm: REALM, jobIds: ["many/nosuch", "many/b1"], worker: "a" });
      expect(outcomes.every((o) => "runId" in o)).toBe(true);
      expect((await drain(ports, `lava-${REALM}-a`)).map((m) => m.job_id).sort()).toEqual(["many/b1", "many/nosuch"]);
    });

    test("a bad delay fails every job and sends nothing", async () => {
      const outcomes = await dispatchJobs(ports, { realm: REALM, jobIds: ["many/a2", "many/a3"], delaySeconds: 901, maxDelayMinutes: 15 });
      expect(outcomes.every((o) => "error" in o)).toBe(true);
      expect(await drain(ports, `lava-${REALM}-a`)).toEqual([]);
    });
  });
}

behaves("local backend", async () => openLocalPorts({ home: mkdtempSync(join(tmpdir(), "lava-many-")) }));

const haveEmulators = needs("dynalite", emulatorsPresent.dynalite(), "npm install") && needs("fauxqs", emulatorsPresent.fauxqs(), "npm install");

describe.if(haveEmulators)("dispatchJobs on the aws backend", () => {
  let emulators: AwsEmulators;
  let home: string;
  let ports: AwsPorts;
  beforeAll(async () => {
    emulators = await startAwsEmulators();
    home = mkdtempSync(join(tmpdir(), "lava-many-home-"));
    ports = await openAwsPorts({ env: { ...emulators.env, HOME: home } });
    await seed(ports);
  }, 60_000);
  afterAll(async () => {
    await ports?.close();
    await emulators?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  behaves("aws backend (emulators)", async () => openAwsPorts({ env: { ...emulators.env, HOME: home } }));

  test("138 jobs on two queues: 2 BatchGetItem, 13 + 1 SendMessageBatch, the queue URLs looked up once per host", async () => {
    const ids = [...Array.from({ length: 130 }, (_, i) => `many/a${i}`), ...Array.from({ length: 8 }, (_, i) => `many/b${i}`)];
    const fresh = await openAwsPorts({ env: { ...emulators.env, HOME: home } });
    try {
      const outcomes = await dispatchJobs(fresh, { realm: REALM, jobIds: ids });
      expect(outcomes.filter((o) => "runId" in o).length).toBe(138);
      // seed() created the queues through other Ports on this host: their URLs were remembered then.
      expect(fresh.stats()).toEqual({ "DynamoDB.BatchGetItem": 2, "SQS.SendMessageBatch": 14 });
    } finally {
      await fresh.close();
    }
    expect((await drain(ports, `lava-${REALM}-a`)).length).toBe(130);
    expect((await drain(ports, `lava-${REALM}-b`)).length).toBe(8);
  }, 60_000);
});
