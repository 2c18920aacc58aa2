/**
 * The dispatch lambda end to end on the local backend: it substitutes nothing into JSON or templates, so a
 * request's values reach the message exactly as sent, in both request forms. (Its callers are dispatchers:
 * template text they send is for the worker, as with `lava-dispatcher -p`; see docs/SECURITY.md.)
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLocalPorts, type LocalPorts } from "../../src/adapters/local/index.ts";
import { realmTable } from "../../src/core/names.ts";
import { realmTableSpecs } from "../../src/core/realm-setup.ts";
import { handleDispatchEvent } from "../../src/lambdas/dispatch.ts";
import { lambdaLog } from "../../src/lambdas/shared.ts";

const REALM = "test";
const QUEUE = "lava-test-core";
let root: string;
let ports: LocalPorts;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "lava-dispatch-lambda-"));
  ports = await openLocalPorts({ home: join(root, "home") });
  for (const spec of realmTableSpecs(REALM)) await ports.tables.createTable(spec);
  await ports.queues.create(QUEUE);
  await ports.tables.put(realmTable(REALM, "jobs"), { job_id: "ingest", type: "exe", worker: "core", payload: "x", enabled: true });
});
afterAll(async () => {
  await ports.close();
  rmSync(root, { recursive: true, force: true });
});

async function dispatchBody(body: string | Record<string, unknown>): Promise<{ errors: number; message?: Record<string, unknown> }> {
  const event = typeof body === "string" ? { Records: [{ EventSource: "aws:sns", Sns: { Message: body } }] } : body;
  const log = lambdaLog("dispatch", { LOGLEVEL: "error" }, () => {});
  const { errors } = await handleDispatchEvent(event, { ports, realm: REALM, maxDelayMinutes: 15, log, requestId: "r1" });
  const [msg] = await ports.queues.receive(QUEUE);
  if (!msg) return { errors };
  await ports.queues.delete(QUEUE, msg.receiptHandle);
  return { errors, message: JSON.parse(msg.body) };
}

const HOSTILE = ['x", "timeout": "1s', 'a"]\\', "line\nbreak\r", "{{ 7 * 7 }}", "{% raw %}"];

describe("dispatch lambda: request values are passed through, never substituted", () => {
  test("JSON form (SNS and direct invoke): parameters and globals arrive exactly as sent", async () => {
    for (const value of HOSTILE) {
      const request = { job_id: "ingest", parameters: { env: { K: value } }, globals: { g: value } };
      for (const body of [JSON.stringify(request), request]) {
        const { errors, message } = await dispatchBody(body);
        expect(errors).toBe(0);
        expect(message!.parameters).toEqual({ env: { K: value } });
        expect(message!.globals).toEqual({ g: value });
      }
    }
  });

  test("CLI form: a quoted -p value is one value, whatever it holds", async () => {
    const { errors, message } = await dispatchBody(`ingest -p 'env.K=x", "timeout": "1s' -g "g={{ 7 * 7 }}"`);
    expect(errors).toBe(0);
    expect(message!.parameters).toEqual({ env: { K: 'x", "timeout": "1s' } });
    expect(message!.globals).toEqual({ g: "{{ 7 * 7 }}" });
  });

  test("a job_id holding JSON is looked up as it is and dispatches nothing", async () => {
    const { errors, message } = await dispatchBody({ job_id: 'ingest", "worker": "other' });
    expect(errors).toBe(1);
    expect(message).toBeUndefined();
  });
});
