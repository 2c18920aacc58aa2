/**
 * The s3trigger lambda end to end on the local backend: an object key (anyone who can write the bucket
 * chooses it) is data. It can neither add dispatch parameters nor become template text that the worker
 * renders. Each rendered parameter string must render (once, as the worker does, with our engine and with
 * Python's Jinja2) back to exactly the value, and ordinary keys must give byte-identical messages.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLocalPorts, type LocalPorts } from "../../src/adapters/local/index.ts";
import { realmTable } from "../../src/core/names.ts";
import { realmTableSpecs } from "../../src/core/realm-setup.ts";
import { renderTemplate } from "../../src/jinja/index.ts";
import { S3TriggerState, handleS3Event, type S3TriggerSettings } from "../../src/lambdas/s3trigger.ts";
import { lambdaLog } from "../../src/lambdas/shared.ts";
import { needs } from "../support/availability.ts";
import { pythonJinjaAvailable, renderWithPython } from "../jinja/harness.ts";

const REALM = "test";
const QUEUE = "lava-test-core";
const settings: S3TriggerSettings = { realm: REALM, maxDelayMinutes: 15, cacheTtlSeconds: 0, dedupTtlSeconds: 0, dedupCacheSize: 0 };

let root: string;
let ports: LocalPorts;
const logLines: string[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "lava-s3trigger-"));
  ports = await openLocalPorts({ home: join(root, "home") });
  for (const spec of realmTableSpecs(REALM)) await ports.tables.createTable(spec);
  await ports.queues.create(QUEUE);
  await ports.tables.put(realmTable(REALM, "jobs"), { job_id: "ingest", type: "exe", worker: "core", payload: "x", enabled: true });
  await ports.tables.put(realmTable(REALM, "s3triggers"), {
    trigger_id: "rendered",
    bucket: "inbox",
    prefix: "*",
    job_id: "ingest",
    enabled: true,
    parameters: { args: ["{{ key }}"], env: { KEY: "{{ key }}", SIZE: "{{ info.size }}" }, vars: { key: "{{ key }}" } },
    globals: { key: "{{ key }}", bucket: "{{ bucket }}" },
  });
  await ports.tables.put(realmTable(REALM, "s3triggers"), {
    trigger_id: "env-only",
    bucket: "env-inbox",
    prefix: "*",
    job_id: "ingest",
    enabled: true,
    parameters: { env: { KEY: "{{ key }}" } },
  });
  await ports.tables.put(realmTable(REALM, "s3triggers"), {
    trigger_id: "verbatim",
    bucket: "raw-inbox",
    prefix: "*",
    job_id: "ingest",
    enabled: true,
    jinja: false,
    parameters: { args: ["{{ ustart }}"] },
  });
});
afterAll(async () => {
  await ports.close();
  rmSync(root, { recursive: true, force: true });
});

function s3Event(bucket: string, key: string) {
  return {
    Records: [
      {
        eventSource: "aws:s3",
        eventTime: "2024-01-02T03:04:05.000Z",
        eventName: "ObjectCreated:Put",
        awsRegion: "ap-southeast-2",
        requestParameters: { sourceIPAddress: "10.1.2.3" },
        // S3 URL-encodes keys in notifications.
        s3: { bucket: { name: bucket }, object: { key: encodeURIComponent(key), size: 2048 } },
      },
    ],
  };
}

interface Dispatched {
  errors: number;
  body?: { parameters: { args?: string[]; env?: Record<string, string>; vars?: Record<string, string> }; globals: Record<string, unknown> };
  text?: string;
}

/** Runs the handler for one object and takes the message it sent (if any) off the worker queue. */
async function trigger(key: string, bucket = "inbox"): Promise<Dispatched> {
  const log = lambdaLog("s3trigger", { LOGLEVEL: "debug" }, (line) => logLines.push(line));
  const { errors } = await handleS3Event(s3Event(bucket, key), { ports, settings, state: new S3TriggerState(settings), log, requestId: "r1" });
  const [msg] = await ports.queues.receive(QUEUE);
  if (!msg) return { errors };
  await ports.queues.delete(QUEUE, msg.receiptHandle);
  return { errors, body: JSON.parse(msg.body), text: msg.body };
}

const HOSTILE_KEYS = [
  'a"]',
  'x", "timeout": "1s',
  'x"], "timeout": "1s", "env": {"LD_PRELOAD": "/tmp/x.so"}, "z": ["',
  "back\\slash\\u0041\\n",
  "line1\nline2",
  "ends with newline\n",
  "cr\rlf\r\n",
  "{{ 7 * 7 }}",
  "{{ utils.path.join('a', 'b') }}",
  "{% for i in range(3) %}x{% endfor %}",
  "{# hidden #}shown",
  "{% raw %}{{ 1 }}{% endraw %}{{ 2 }}",
  "{%- endraw %}{{ 7 * 7 }}{% endraw -%}",
  "caf\u00e9/\u{1F600}/{{ '\u00e9' }}.csv",
];

describe("s3trigger: the object key is data", () => {
  for (const key of HOSTILE_KEYS) {
    test(`key ${JSON.stringify(key)} adds no parameters and reaches the job as itself`, async () => {
      const { errors, body } = await trigger(key);
      expect(errors).toBe(0);
      expect(body).toBeDefined();
      const p = body!.parameters as Required<NonNullable<Dispatched["body"]>["parameters"]>;
      expect(Object.keys(p).sort()).toEqual(["args", "env", "vars"]);
      expect(Object.keys(p.env).sort()).toEqual(["KEY", "SIZE"]);
      expect(p.args).toHaveLength(1);
      // Values the worker renders come back as the key after one rendering.
      for (const rendered of [p.args[0]!, p.env.KEY!]) expect(renderTemplate(rendered, {})).toBe(key);
      // vars and globals are handed to templates as values, never rendered: they are the key itself.
      expect(p.vars).toEqual({ key });
      expect(body!.globals).toEqual({ key, bucket: "inbox" });
      expect(p.env.SIZE).toBe("2048");
    });
  }

  const python = needs("python3 with jinja2", pythonJinjaAvailable(), "the Python worker's rendering of s3trigger parameters");
  test.if(python)("Python's Jinja2 (the original worker) also renders each parameter back to the key", async () => {
    const rendered: string[] = [];
    for (const key of HOSTILE_KEYS) {
      const { body } = await trigger(key);
      rendered.push(body!.parameters.args![0]!, body!.parameters.env!.KEY!);
    }
    const results = renderWithPython(rendered.map((template) => ({ template, context: {} })));
    const expected = HOSTILE_KEYS.flatMap((key) => [{ ok: key }, { ok: key }]);
    expect(results).toEqual(expected);
  });

  test("a key written as JSON adds neither environment variables nor parameters", async () => {
    const addsEnv = 'x", "LD_PRELOAD": "/tmp/evil.so';
    const addsTimeout = 'x"}, "timeout": "1s", "e": {"a": "';
    for (const key of [addsEnv, addsTimeout]) {
      const { errors, body } = await trigger(key, "env-inbox");
      expect(errors).toBe(0);
      expect(body!.parameters).toEqual({ env: { KEY: key } });
    }
  });

  test("an ordinary key gives the original's message byte for byte (no marking)", async () => {
    const { text, body } = await trigger("data/2024/report 1.csv");
    expect(body!.parameters).toEqual({
      args: ["data/2024/report 1.csv"],
      env: { KEY: "data/2024/report 1.csv", SIZE: "2048" },
      vars: { key: "data/2024/report 1.csv" },
    });
    expect(text).toContain('"parameters": {"args": ["data/2024/report 1.csv"], "env": {"KEY": "data/2024/report 1.csv", "SIZE": "2048"}');
  });

  test("a trigger with jinja false passes its own templates on to the worker untouched", async () => {
    const { body } = await trigger("{{ 7 * 7 }}", "raw-inbox");
    expect(body!.parameters).toEqual({ args: ["{{ ustart }}"] });
  });
});
