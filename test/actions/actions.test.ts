import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { actionKinds } from "../../src/actions/registry.ts";
import { realmTable } from "../../src/core/names.ts";
import { getState } from "../../src/core/state.ts";
import { renderTemplate } from "../../src/jinja/index.ts";
import type { JobResult } from "../../src/core/job-contract.ts";
import { openHarness, REALM, type Harness } from "../handlers/harness.ts";
import { startSmtpServer, startWebhookServer } from "./servers.ts";

let h: Harness;
const success: JobResult = { exit_status: 0, output: [] };
const failed: JobResult = { error: "Failed with exit status 3", error_data: { exit_status: 3, output: [], error: "boom" } };

beforeAll(async () => {
  h = await openHarness();
  await h.ports.queues.create("lava-test-core");
  await h.ports.queues.create("my-queue");
  await h.ports.tables.put(realmTable(REALM, "jobs"), { job_id: "target/job", type: "log", worker: "core", payload: "--", enabled: true });
});
afterAll(async () => {
  await h.close();
});

async function runAction(spec: Record<string, unknown>, result: JobResult = success, config?: Record<string, unknown>) {
  const kind = await actionKinds[String(spec.action)]!();
  const action = h.actionRun(spec, result, { config });
  await kind.run(action);
  return action;
}

function outbox<T>(sql: string): T[] {
  const db = new Database(join(h.home, "lava.db"), { readonly: true });
  try {
    return db.query<T, []>(sql).all();
  } finally {
    db.close();
  }
}

test("registry: every kind loads under its own name", async () => {
  expect(Object.keys(actionKinds).sort()).toEqual(["dispatch", "email", "event", "log", "slack", "sns", "sqs", "state"]);
  for (const [name, load] of Object.entries(actionKinds)) expect((await load()).name).toBe(name);
});

describe("log", () => {
  test("renders the message into one INFO line", async () => {
    const action = await runAction({ action: "log", message: "job {{ job.job_id }} exit {{ result.exit_status }}" });
    expect(action.run.log.records.map((r) => [r.level, r.message])).toContainEqual(["INFO", "job test/job exit 0"]);
  });
  test("message is required and must be a string", async () => {
    await expect(runAction({ action: "log" })).rejects.toThrow("Missing keys: message");
    await expect(runAction({ action: "log", message: { a: 1 } })).rejects.toThrow("message must be a string");
  });
});

describe("template errors", () => {
  // The harness's stand-in renderer never fails, so these actions render with the real engine.
  async function failureText(spec: Record<string, unknown>): Promise<string> {
    const kind = await actionKinds[String(spec.action)]!();
    const action = h.actionRun(spec, success);
    action.render = async (template) => renderTemplate(template, { job: action.run.job });
    try {
      await kind.run(action);
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error("expected the action to fail");
  }
  test("log/sqs/sns let the bare Jinja reason through, as the original does", async () => {
    expect(await failureText({ action: "log", message: "{{ 1 / 0 }}" })).toBe("division by zero");
    expect(await failureText({ action: "sqs", queue: "my-queue", message: "{{ nosuch.x }}" })).toBe("'nosuch' is undefined");
    expect(await failureText({ action: "sns", topic: "arn:aws:sns:r:1:t1", message: "ok", subject: "{{ 1 / 0 }}" })).toBe("division by zero");
  });
  test("dispatch and state keep their own prefix, without our class name or position", async () => {
    expect(await failureText({ action: "dispatch", job_id: "{{ 1 / 0 }}" })).toBe("Cannot render target job_id - division by zero");
    expect(await failureText({ action: "state", state_id: "{{ 1 / 0 }}", value: 1 })).toBe("Bad state_id: division by zero");
  });
});

describe("sns", () => {
  test("string message and subject rendered; subject cut to 100", async () => {
    await runAction({ action: "sns", topic: "arn:aws:sns:r:1:t1", message: "done {{ job.job_id }}", subject: `S ${"x".repeat(200)}` });
    const [row] = outbox<{ topic: string; subject: string; message: string }>("SELECT topic, subject, message FROM local_notifications WHERE topic = 'arn:aws:sns:r:1:t1'");
    expect(row).toEqual({ topic: "arn:aws:sns:r:1:t1", subject: `S ${"x".repeat(98)}`, message: "done test/job" });
  });
  test("an object message is JSON-encoded (Python style) then rendered", async () => {
    await runAction({ action: "sns", topic: "arn:t2", message: { job: "{{ job.job_id }}", n: 1 } });
    const [row] = outbox<{ message: string }>("SELECT message FROM local_notifications WHERE topic = 'arn:t2'");
    expect(row!.message).toBe('{"job": "test/job", "n": 1}');
  });
  test("topic and message are required", async () => {
    await expect(runAction({ action: "sns", message: "m" })).rejects.toThrow("Missing keys: topic");
  });
});

describe("sqs", () => {
  test("by name, with a delay", async () => {
    await runAction({ action: "sqs", queue: "my-queue", message: "hello {{ job.worker }}", delay: "0s" });
    const [msg] = await h.ports.queues.receive("my-queue");
    expect(msg!.body).toBe("hello core");
    await h.ports.queues.delete("my-queue", msg!.receiptHandle);
  });
  test("by URL without scheme", async () => {
    await runAction({ action: "sqs", queue: "sqs.us-east-1.amazonaws.com/123456789012/my-queue", message: { a: 1 } });
    const [msg] = await h.ports.queues.receive("my-queue");
    expect(msg!.body).toBe('{"a": 1}');
    await h.ports.queues.delete("my-queue", msg!.receiptHandle);
  });
  test("delay bounds as the original words them", async () => {
    await expect(runAction({ action: "sqs", queue: "my-queue", message: "m", delay: "16m" })).rejects.toThrow("Bad delay: 16m: Must be between 0 and 15 minutes");
  });
  test("FIFO queues are refused clearly", async () => {
    await expect(runAction({ action: "sqs", queue: "q.fifo", message: "m" })).rejects.toThrow("q.fifo: FIFO queues are not supported yet");
  });
});

describe("event", () => {
  test("default source, detail type and detail", async () => {
    await runAction({ action: "event", event_bus: "bus-default-{{ job.worker }}" });
    const [row] = outbox<{ bus: string; source: string; detail_type: string; detail: string }>(
      "SELECT bus, source, detail_type, detail FROM local_events_bus WHERE bus = 'bus-default-core'",
    );
    expect(row!.source).toBe("lava.test");
    expect(row!.detail_type).toBe("Lava Job Action");
    expect(JSON.parse(row!.detail)).toMatchObject({ realm: "test", worker: "core", job_id: "test/job", exit_status: 0 });
  });
  test("given detail map rendered per value; resources rendered; failure results carry exit_status from error_data", async () => {
    await runAction({ action: "event", event_bus: "bus2", source: "src.{{ job.worker }}", detail_type: "T", detail: { j: "{{ job.job_id }}" }, resources: ["r-{{ job.worker }}"] });
    const [row] = outbox<{ source: string; detail: string; resources: string }>("SELECT source, detail, resources FROM local_events_bus WHERE bus = 'bus2'");
    expect(row).toEqual({ source: "src.core", detail: '{"j": "test/job"}', resources: '["r-core"]' });
    await runAction({ action: "event", event_bus: "bus3" }, failed);
    const [row3] = outbox<{ detail: string }>("SELECT detail FROM local_events_bus WHERE bus = 'bus3'");
    expect(JSON.parse(row3!.detail).exit_status).toBe(3);
  });
  test("unknown fields and bad detail are refused", async () => {
    await expect(runAction({ action: "event", nope: 1 })).rejects.toThrow("Unexpected keys: nope");
    await expect(runAction({ action: "event", detail: 5 })).rejects.toThrow("detail must be a string or map of strings");
  });
});

describe("state", () => {
  test("value dumped, rendered, parsed; publisher defaults to the job id; ttl capped", async () => {
    await runAction({ action: "state", state_id: "st-{{ job.worker }}", value: { r: "{{ result.exit_status }}", l: [1] }, ttl: "999d" }, success, { STATE_MAX_TTL: "1d" });
    const item = await h.ports.tables.get(realmTable(REALM, "state"), { state_id: "st-core" });
    expect(item).toMatchObject({ type: "json", publisher: "test/job" });
    expect(Number(item!.ttl) - Date.now() / 1000).toBeLessThanOrEqual(86400);
    expect(await getState(h.ports, REALM, "st-core")).toEqual({ r: "0", l: [1] });
  });
  test("secure type via the parameter port's KMS", async () => {
    await runAction({ action: "state", state_id: "st-secure", value: "s3cret", type: "secure" });
    expect(await getState(h.ports, REALM, "st-secure")).toBe("s3cret");
  });
  test("lava* ids are reserved", async () => {
    await expect(runAction({ action: "state", state_id: "LavaX", value: 1 })).rejects.toThrow('Bad state_id: Values beginning with "lava" are reserved');
  });
});

describe("dispatch", () => {
  test("queues a message to the target's worker with rendered parameters and parent globals (job's own globals untouched)", async () => {
    const kind = await actionKinds.dispatch!();
    const action = h.actionRun({ action: "dispatch", job_id: "target/{{ globals.which }}", parameters: { p: "{{ job.job_id }}" }, delay: 0 }, success);
    action.run.job.job_id = "src/job";
    action.run.job.globals = { which: "job", lava: {} };
    await kind.run(action);
    const [msg] = await h.ports.queues.receive("lava-test-core");
    const body = JSON.parse(msg!.body);
    expect(body).toMatchObject({ realm: "test", worker: "core", job_id: "target/job", parameters: { p: "src/job" } });
    expect(body.globals.lava.parent_job_id).toBe("src/job");
    expect(body.globals.lava.parent_ustart).toMatch(/\+00:00$/);
    expect(body.globals.which).toBe("job");
    expect(action.run.job.globals).toEqual({ which: "job", lava: {} });
    await h.ports.queues.delete("lava-test-core", msg!.receiptHandle);
  });
  test("missing job fails", async () => {
    await expect(runAction({ action: "dispatch", job_id: "no/such" })).rejects.toThrow();
    await expect(runAction({ action: "dispatch" })).rejects.toThrow("Missing keys: job_id");
  });
});

describe("email via SES (EmailPort)", () => {
  test("text body, sender from the action, region default SES_REGION", async () => {
    await runAction({ action: "email", to: "a@x.org", subject: "Job {{ job.job_id }}", message: "done", from: "lava@x.org" });
    const rows = outbox<{ sender: string; recipients: string; subject: string; text_body: string; html_body: string | null; region: string }>(
      "SELECT sender, recipients, subject, text_body, html_body, region FROM local_email WHERE subject = 'Job test/job'",
    );
    expect(rows).toEqual([{ sender: "lava@x.org", recipients: '["a@x.org"]', subject: "Job test/job", text_body: "done", html_body: null, region: "us-east-1" }]);
  });
  test("<HTML> message becomes the HTML body; SES_FROM is the fallback sender", async () => {
    await runAction({ action: "email", to: ["b@x.org"], subject: "html-one", message: "<html><b>hi</b></html>" }, success, { SES_FROM: "cfg@x.org" });
    const [row] = outbox<{ sender: string; html_body: string }>("SELECT sender, html_body FROM local_email WHERE subject = 'html-one'");
    expect(row).toEqual({ sender: "cfg@x.org", html_body: "<html><b>hi</b></html>" });
  });
  test("refusals: no sender, attachments without email_conn, unknown fields", async () => {
    await expect(runAction({ action: "email", to: "a@x.org", subject: "s", message: "m" })).rejects.toThrow("No sender");
    await expect(runAction({ action: "email", to: "a@x.org", subject: "s", message: "m", from: "f@x", attachments: ["/etc/hosts"] })).rejects.toThrow(
      "email_conn must be specified to enable attachments",
    );
    await expect(runAction({ action: "email", to: "a@x.org", subject: "s", message: "m", cc: "x" })).rejects.toThrow("Unexpected keys: cc");
  });
});

describe("email via an SES email connection", () => {
  test("raw MIME with the attachment goes through the EmailPort with the connection's region and configuration set", async () => {
    await h.ports.tables.put(realmTable(REALM, "connections"), {
      conn_id: "ses1",
      type: "email",
      enabled: true,
      from: "ses-conn@x.org",
      region: "eu-west-1",
      configuration_set: "cs1",
      "x-note": "ignored",
    });
    const attachment = join(h.root, "ses-att.txt");
    await Bun.write(attachment, "attached!");
    await runAction({ action: "email", email_conn: "ses1", to: "s@x.org", subject: "via-ses", message: "<!DOCTYPE html><p>x</p>", attachments: [attachment] });
    const [row] = outbox<{ sender: string; region: string; configuration_set: string; html_body: string; raw: Uint8Array }>(
      "SELECT sender, region, configuration_set, html_body, raw FROM local_email WHERE subject = 'via-ses'",
    );
    expect(row).toMatchObject({ sender: "ses-conn@x.org", region: "eu-west-1", configuration_set: "cs1", html_body: "<!DOCTYPE html><p>x</p>" });
    const raw = new TextDecoder().decode(row!.raw);
    expect(raw).toContain("filename=ses-att.txt");
    expect(raw).toContain("Content-Type: text/html");
  });

  test("too many attachments are refused", async () => {
    await expect(
      runAction({ action: "email", email_conn: "ses1", to: "s@x.org", subject: "s", message: "m", attachments: ["/a", "/b"] }, success, { EMAIL_MAX_ATTACHMENTS: 1 }),
    ).rejects.toThrow("Too many email attachments (max 1)");
  });
});

describe("email via an SMTP connection", () => {
  const smtp = startSmtpServer();
  afterAll(() => smtp.stop());

  test("a user without tls is refused before anything is sent: the password would cross the network in clear", async () => {
    h.ports.local.putParameter("/lava/test/smtp-pass-plain", "pl4in-secret", { secure: true });
    await h.ports.tables.put(realmTable(REALM, "connections"), {
      conn_id: "plain",
      type: "email",
      subtype: "smtp",
      enabled: true,
      host: "127.0.0.1",
      port: smtp.port,
      user: "lava",
      password: "/lava/test/smtp-pass-plain",
      from: "conn@x.org",
    });
    const before = smtp.messages.length;
    const err = await runAction({ action: "email", email_conn: "plain", to: "a@x.org", subject: "s", message: "m" }).catch((e: unknown) => e);
    expect((err as Error).message).toContain("plain: refusing to send SMTP credentials without TLS");
    expect((err as Error).message).not.toContain("pl4in-secret");
    expect(smtp.messages.length).toBe(before);
  });

  test("delivers to the local SMTP server, logging in with the password from the parameter store", async () => {
    h.ports.local.putParameter("/lava/test/smtp-pass", "p4ss", { secure: true });
    await h.ports.tables.put(realmTable(REALM, "connections"), {
      conn_id: "mail",
      type: "email",
      subtype: "smtp",
      enabled: true,
      host: "127.0.0.1",
      port: smtp.port,
      user: "lava",
      password: "/lava/test/smtp-pass",
      from: "conn@x.org",
    });
    const attachment = join(h.root, "report.csv");
    await Bun.write(attachment, "a,b\n1,2\n");
    // The test server speaks no TLS: plain AUTH is allowed explicitly.
    await runAction(
      { action: "email", email_conn: "mail", to: ["r1@x.org", "r2@x.org"], subject: "Run {{ job.job_id }}", message: "body text", attachments: [attachment] },
      undefined,
      { SMTP_ALLOW_PLAIN_AUTH: true },
    );
    expect(smtp.messages.length).toBe(1);
    const m = smtp.messages[0]!;
    expect(m.from).toBe("conn@x.org");
    expect(m.to).toEqual(["r1@x.org", "r2@x.org"]);
    expect(m.auth).toEqual({ user: "lava", pass: "p4ss" });
    expect(m.data).toContain("Subject: Run test/job");
    expect(m.data).toContain("body text");
    expect(m.data).toContain('filename=report.csv');
  });

  test("a connection item is checked by the one validator lava put uses: enabled must be a boolean, type a string", async () => {
    const conns = realmTable(REALM, "connections");
    await h.ports.tables.put(conns, { conn_id: "strenabled", type: "email", subtype: "smtp", enabled: "true", host: "127.0.0.1" });
    await h.ports.tables.put(conns, { conn_id: "numtype", type: 3, enabled: true, host: "127.0.0.1" });
    const send = (conn: string) => runAction({ action: "email", email_conn: conn, to: "a@x", subject: "s", message: "m" });
    await expect(send("strenabled")).rejects.toThrow("strenabled: Bad connection record: enabled must be true or false");
    await expect(send("numtype")).rejects.toThrow("numtype: Bad connection record: type must be a string");
  });

  test("a disabled connection is refused", async () => {
    await h.ports.tables.put(realmTable(REALM, "connections"), { conn_id: "off", type: "email", subtype: "smtp", enabled: false, host: "127.0.0.1" });
    await expect(runAction({ action: "email", email_conn: "off", to: "a@x", subject: "s", message: "m" })).rejects.toThrow("Connection off: Not enabled");
  });
});

describe("slack", () => {
  const hook = startWebhookServer();
  const broken = startWebhookServer(400);
  afterAll(() => {
    hook.stop();
    broken.stop();
  });

  test("block style (default) with connection defaults; message rendered and capped", async () => {
    await h.ports.tables.put(realmTable(REALM, "connections"), { conn_id: "sl", type: "slack", enabled: true, webhook_url: hook.url, from: "Lava Bot" });
    await runAction({ action: "slack", slack_conn: "sl", message: `Job {{ job.job_id }} ${"m".repeat(4000)}`, subject: "Subj" });
    expect(hook.requests.length).toBe(1);
    const req = hook.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.contentType).toBe("application/json");
    const body = JSON.parse(req.body);
    expect(body.blocks[0].text.text).toBe("*From*: Lava Bot\n*Subject*: Subj");
    expect(body.blocks[2].text.text.length).toBe(3000);
    expect(body.blocks[2].text.text.startsWith("Job test/job m")).toBe(true);
  });

  test("attachment and plain styles", async () => {
    await runAction({ action: "slack", slack_conn: "sl", message: "hi", style: "attachment", colour: "good", preamble: "<!here>" });
    const att = JSON.parse(hook.requests.at(-1)!.body);
    expect(att).toMatchObject({ text: "<!here>", attachments: [{ author_name: "Lava Bot", color: "#good", text: "hi", footer: "Event time" }] });
    await runAction({ action: "slack", slack_conn: "sl", message: "hi", style: "plain", from: "me" });
    expect(JSON.parse(hook.requests.at(-1)!.body)).toEqual({ text: "*me*: hi" });
  });

  test("a webhook error fails the action without showing the URL", async () => {
    await h.ports.tables.put(realmTable(REALM, "connections"), { conn_id: "bad", type: "slack", enabled: true, webhook_url: broken.url });
    const err = await runAction({ action: "slack", slack_conn: "bad", message: "x" }).catch((e) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe("Slack response 400 - invalid_payload");
  });

  test("missing connection, wrong type", async () => {
    await expect(runAction({ action: "slack", slack_conn: "none", message: "x" })).rejects.toThrow("none: No such connection");
    await expect(runAction({ action: "slack", slack_conn: "mail", message: "x" })).rejects.toThrow("Connection mail: Missing keys: webhook_url");
  });
});

describe("values from the run are data, never template or JSON text", () => {
  // Run output, error text and globals (which may come from an S3 key) are not the action author's.
  const injectJson = 'boom", "timeout": "1s", "x": "';
  const template = "{{ 7 * 7 }}{% for i in range(2) %}!{% endfor %}";
  const failure = (error: string): JobResult => ({ error, error_data: { exit_status: 1, output: [], error } });

  async function runReal(spec: Record<string, unknown>, result: JobResult, globals: Record<string, unknown> = { lava: {} }) {
    const kind = await actionKinds[String(spec.action)]!();
    const action = h.actionRun(spec, result);
    action.run.job.globals = globals;
    action.render = async (t) => renderTemplate(t, { job: action.run.job, globals, result: action.result });
    await kind.run(action);
    return action;
  }

  async function takeMessage(queue: string): Promise<string> {
    const [msg] = await h.ports.queues.receive(queue);
    await h.ports.queues.delete(queue, msg!.receiptHandle);
    return msg!.body;
  }

  test("dispatch: an error message cannot add parameters, and the child's worker renders it back to itself", async () => {
    for (const error of [injectJson, template, 'a"]\\']) {
      await runReal({ action: "dispatch", job_id: "target/job", parameters: { env: { ERR: "{{ result.error }}" }, vars: { err: "{{ result.error }}" } } }, failure(error));
      const body = JSON.parse(await takeMessage("lava-test-core"));
      expect(Object.keys(body.parameters).sort()).toEqual(["env", "vars"]);
      expect(Object.keys(body.parameters.env)).toEqual(["ERR"]);
      expect(renderTemplate(body.parameters.env.ERR, {})).toBe(error);
      expect(body.parameters.vars).toEqual({ err: error });
    }
  });

  test("dispatch: a global holding template text reaches the child as that text", async () => {
    await runReal({ action: "dispatch", job_id: "target/job", parameters: { args: ["{{ globals.key }}"] } }, success, { key: template, lava: {} });
    const body = JSON.parse(await takeMessage("lava-test-core"));
    expect(renderTemplate(body.parameters.args[0], {})).toBe(template);
    expect(body.globals.key).toBe(template);
  });

  test("dispatch: an ordinary rendered value is sent as is", async () => {
    await runReal({ action: "dispatch", job_id: "target/job", parameters: { args: ["{{ result.error }}"] } }, failure("exit 3"));
    expect(JSON.parse(await takeMessage("lava-test-core")).parameters).toEqual({ args: ["exit 3"] });
  });

  test("state: an error message cannot add fields to the published value", async () => {
    await runReal({ action: "state", state_id: "st-err", value: { err: "{{ result.error }}", n: 1 } }, failure(injectJson));
    expect(await getState(h.ports, REALM, "st-err")).toEqual({ err: injectJson, n: 1 });
  });

  test("sqs and sns: an object message stays that object, whatever the error says", async () => {
    await runReal({ action: "sqs", queue: "my-queue", message: { err: "{{ result.error }}", job: "{{ job.job_id }}" } }, failure(injectJson));
    expect(JSON.parse(await takeMessage("my-queue"))).toEqual({ err: injectJson, job: "test/job" });
    await runReal({ action: "sns", topic: "arn:data", message: { err: "{{ result.error }}" } }, failure(injectJson));
    const [row] = outbox<{ message: string }>("SELECT message FROM local_notifications WHERE topic = 'arn:data'");
    expect(JSON.parse(row!.message)).toEqual({ err: injectJson });
  });

  test("log, event, email, sns subject: template text in an error is printed, not run", async () => {
    const action = await runReal({ action: "log", message: "failed: {{ result.error }}" }, failure(template));
    expect(action.run.log.records.map((r) => r.message)).toContain(`failed: ${template}`);
    await runReal({ action: "event", event_bus: "bus-data", detail: { e: "{{ result.error }}" } }, failure(template));
    const [ev] = outbox<{ detail: string }>("SELECT detail FROM local_events_bus WHERE bus = 'bus-data'");
    expect(JSON.parse(ev!.detail)).toEqual({ e: template });
    await runReal({ action: "email", to: "a@x.org", subject: "data-{{ result.error }}", message: "{{ result.error }}", from: "l@x.org" }, failure(template));
    const [mail] = outbox<{ subject: string; text_body: string }>("SELECT subject, text_body FROM local_email WHERE subject LIKE 'data-%'");
    expect(mail).toEqual({ subject: `data-${template}`, text_body: template });
    await runReal({ action: "sns", topic: "arn:subj", message: "m", subject: "{{ result.error }}" }, failure(template));
    const [sn] = outbox<{ subject: string }>("SELECT subject FROM local_notifications WHERE topic = 'arn:subj'");
    expect(sn!.subject).toBe(template);
  });
});
