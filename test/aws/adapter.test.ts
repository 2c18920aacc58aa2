/**
 * The `aws` adapter against emulators: dynalite (DynamoDB), fauxqs (SQS/SNS/S3) and moto (the rest).
 * Behaviour shared with the local adapter is in test/conformance; these tests cover what is AWS-specific:
 * expression building on reserved names, streaming multipart S3, SSE headers, request counting, endpoints.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openAwsPorts, requestStats, type AwsPorts } from "../../src/adapters/aws/index.ts";
import { resolveSettings } from "../../src/adapters/aws/clients.ts";
import { AccessDeniedError, ConditionFailedError, NotFoundError, PortError, ThrottledError, UnavailableError, ValidationError } from "../../src/ports/errors.ts";
import { retryingPorts } from "../../src/core/retry.ts";
import { needs } from "../support/availability.ts";
import { childEnv, emulatorsPresent, sdkConfig, startAwsEmulators, withEnv, type AwsEmulators } from "../support/emulators.ts";

describe("aws settings", () => {
  test("service endpoint beats the generic one; path style and region come from env", () => {
    const s = resolveSettings(
      {},
      {
        AWS_ENDPOINT_URL: "http://generic:1",
        AWS_ENDPOINT_URL_SQS: "http://sqs:2",
        LAVA_S3_PATH_STYLE: "true",
        AWS_DEFAULT_REGION: "ap-southeast-2",
      },
      false,
    );
    expect(s.endpoints.SQS).toBe("http://sqs:2");
    expect(s.endpoints.DYNAMODB).toBe("http://generic:1");
    expect(s.s3PathStyle).toBe(true);
    expect(s.region).toBe("ap-southeast-2");
    expect(s.credentials).toBeUndefined();
  });

  test("explicit options win; ignore flag drops endpoints; explicit env gives static keys unless a profile is named", () => {
    const env = {
      AWS_REGION: "eu-west-1",
      AWS_ENDPOINT_URL_S3: "http://s3:3",
      AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "true",
      AWS_ACCESS_KEY_ID: "a",
      AWS_SECRET_ACCESS_KEY: "b",
    };
    const s = resolveSettings({ region: "us-west-2" }, env, true);
    expect(s.region).toBe("us-west-2");
    expect(s.endpoints).toEqual({});
    expect(s.s3PathStyle).toBe(false);
    expect(s.credentials).toEqual({ accessKeyId: "a", secretAccessKey: "b" });
    expect(resolveSettings({ profile: "p" }, env, true).credentials).toBeUndefined();
  });
});

const present =
  needs("dynalite", emulatorsPresent.dynalite(), "npm install") &&
  needs("fauxqs", emulatorsPresent.fauxqs(), "npm install");
const motoPresent = needs("moto_server", emulatorsPresent.moto(), "pip install 'moto[server]'");

describe.if(present)("aws adapter on emulators", () => {
  let emulators: AwsEmulators;
  let ports: AwsPorts;

  beforeAll(async () => {
    emulators = await startAwsEmulators({ moto: motoPresent });
    console.log(`emulator startup (ms, in parallel): ${JSON.stringify(emulators.startupMs)}`);
    ports = await openAwsPorts({ env: emulators.env });
  });

  afterAll(async () => {
    await ports?.close();
    await emulators?.stop();
  });

  describe("queues (fauxqs)", () => {
    test("round trip: receive counts, change visibility, delete, attributes", async () => {
      await ports.queues.create("lava-t-rt", { visibilityTimeoutSeconds: 30, retentionSeconds: 600 });
      expect(await ports.queues.exists("lava-t-rt")).toBe(true);
      const before = Date.now();
      const id = await ports.queues.send("lava-t-rt", '{"job_id":"j1"}');
      expect(id).not.toBe("");

      const [first] = await ports.queues.receive("lava-t-rt", { waitSeconds: 2 });
      expect(first?.body).toBe('{"job_id":"j1"}');
      expect(first?.id).toBe(id);
      expect(first?.receiveCount).toBe(1);
      expect(Math.abs(first!.sentAt.getTime() - before)).toBeLessThan(60_000);
      expect(await ports.queues.receive("lava-t-rt")).toEqual([]); // invisible now

      const attrs = await ports.queues.attributes("lava-t-rt");
      expect(attrs).toMatchObject({ visible: 0, notVisible: 1, visibilityTimeoutSeconds: 30, retentionSeconds: 600 });

      await ports.queues.changeVisibility("lava-t-rt", first!.receiptHandle, 0);
      const [again] = await ports.queues.receive("lava-t-rt", { waitSeconds: 2 });
      expect(again?.receiveCount).toBe(2);
      await ports.queues.delete("lava-t-rt", again!.receiptHandle);
      expect((await ports.queues.attributes("lava-t-rt")).notVisible).toBe(0);
    });

    test("sendBatch splits into tens and keeps order of ids", async () => {
      await ports.queues.create("lava-t-batch");
      const ids = await ports.queues.sendBatch(
        "lava-t-batch",
        Array.from({ length: 23 }, (_, i) => ({ body: `m${i}` })),
      );
      expect(ids).toHaveLength(23);
      expect(new Set(ids).size).toBe(23);
      const bodies = new Set<string>();
      for (let i = 0; i < 10 && bodies.size < 23; i++) {
        for (const m of await ports.queues.receive("lava-t-batch", { maxMessages: 10 })) bodies.add(m.body);
      }
      expect(bodies.size).toBe(23);
    });

    test("an aborted long poll returns no messages, early", async () => {
      await ports.queues.create("lava-t-abort");
      const controller = new AbortController();
      const pending = ports.queues.receive("lava-t-abort", { waitSeconds: 20, signal: controller.signal });
      setTimeout(() => controller.abort(), 200);
      const started = performance.now();
      expect(await pending).toEqual([]);
      expect(performance.now() - started).toBeLessThan(10_000);
    });

    test("a missing queue: exists is false, send throws NotFoundError", async () => {
      expect(await ports.queues.exists("lava-t-nope")).toBe(false);
      await expect(ports.queues.send("lava-t-nope", "x")).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe("tables (dynalite)", () => {
    const table = "lava.t.events";

    beforeAll(async () => {
      await ports.tables.createTable({
        name: table,
        hash: "job_id",
        range: "run_id",
        ttlAttribute: "ttl",
        indexes: [
          { name: "job_id-tu_event-index", kind: "local", hash: "job_id", range: "tu_event" },
          { name: "status-index", kind: "global", hash: "status", range: "run_id", include: ["log"] },
        ],
      });
    });

    test("tableExists", async () => {
      expect(await ports.tables.tableExists(table)).toBe(true);
      expect(await ports.tables.tableExists("lava.t.missing")).toBe(false);
    });

    test("conditional put: notExists holds once, then ConditionFailedError", async () => {
      const item = { job_id: "j", run_id: "r1", status: "running", ttl: 123, blob: new Uint8Array([1, 2, 255]) };
      await ports.tables.put(table, item, { condition: { kind: "notExists" } });
      await expect(ports.tables.put(table, item, { condition: { kind: "notExists" } })).rejects.toBeInstanceOf(
        ConditionFailedError,
      );
      const got = await ports.tables.get(table, { job_id: "j", run_id: "r1" }, { consistent: true });
      expect(got).toEqual({ ...item, blob: new Uint8Array([1, 2, 255]) });
      expect(got?.blob).toBeInstanceOf(Uint8Array);
      // "exists" on a put replaces only an existing item.
      await ports.tables.put(table, { ...item, status: "done" }, { condition: { kind: "exists" } });
      await expect(
        ports.tables.put(table, { job_id: "j", run_id: "zz" }, { condition: { kind: "exists" } }),
      ).rejects.toBeInstanceOf(ConditionFailedError);
    });

    test("update: set, append to absent and present lists, add, remove, on reserved words", async () => {
      const key = { job_id: "u", run_id: "r" };
      const first = await ports.tables.update(table, key, {
        set: { status: "running", ttl: 10, cleared: null },
        append: { log: [{ event: "start" }] },
        add: { count: 2 },
      });
      expect(first).toEqual({ ...key, status: "running", ttl: 10, cleared: null, log: [{ event: "start" }], count: 2 });
      const second = await ports.tables.update(
        table,
        key,
        { append: { log: [{ event: "end" }] }, add: { count: 3 }, remove: ["ttl"], set: { status: "complete" } },
        { condition: { kind: "attributeEquals", attribute: "status", value: "running" } },
      );
      expect(second.log).toEqual([{ event: "start" }, { event: "end" }]);
      expect(second.count).toBe(5);
      expect(second.status).toBe("complete");
      expect("ttl" in second).toBe(false);
      await expect(
        ports.tables.update(table, key, { set: { status: "x" } }, { condition: { kind: "attributeEquals", attribute: "status", value: "running" } }),
      ).rejects.toBeInstanceOf(ConditionFailedError);
      await expect(
        ports.tables.update(table, { job_id: "none", run_id: "r" }, { set: { a: 1 } }, { condition: { kind: "exists" } }),
      ).rejects.toBeInstanceOf(ConditionFailedError);
    });

    test("query on a GSI, an LSI with between, paging and filters; scan with filter", async () => {
      for (let i = 0; i < 5; i++) {
        await ports.tables.put(table, {
          job_id: "q",
          run_id: `r${i}`,
          status: i % 2 ? "odd" : "even",
          tu_event: `2024-01-0${i + 1}`,
          log: [`l${i}`],
          extra: "not projected",
        });
      }
      const gsi = await ports.tables.query(table, { index: "status-index", hash: { name: "status", value: "even" } });
      expect(gsi.items.map((i) => i.run_id)).toEqual(["r0", "r2", "r4"]);
      expect(gsi.items[0]).toEqual({ job_id: "q", run_id: "r0", status: "even", log: ["l0"] });

      const lsi = await ports.tables.query(table, {
        index: "job_id-tu_event-index",
        hash: { name: "job_id", value: "q" },
        range: { name: "tu_event", op: "between", value: "2024-01-02", value2: "2024-01-04" },
        forward: false,
      });
      expect(lsi.items.map((i) => i.run_id)).toEqual(["r3", "r2", "r1"]);

      const page1 = await ports.tables.query(table, { hash: { name: "job_id", value: "q" }, limit: 2 });
      expect(page1.items).toHaveLength(2);
      expect(page1.lastKey).toEqual({ job_id: "q", run_id: "r1" });
      const page2 = await ports.tables.query(table, {
        hash: { name: "job_id", value: "q" },
        range: { name: "run_id", op: "beginsWith", value: "r" },
        startKey: page1.lastKey,
        filter: [{ attribute: "status", op: "ne", value: "odd" }],
      });
      expect(page2.items.map((i) => i.run_id)).toEqual(["r2", "r4"]);

      const scanned = await ports.tables.scan(table, {
        filter: [
          { attribute: "tu_event", op: "exists" },
          { attribute: "log", op: "contains", value: "l3" },
        ],
      });
      expect(scanned.items.map((i) => i.run_id)).toEqual(["r3"]);
    });

    test("an item over DynamoDB's 400 KB limit is a PortError naming the table, not an SDK error", async () => {
      const error = await ports.tables.put(table, { job_id: "big", run_id: "r", text: "x".repeat(410 * 1024) }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PortError);
      expect(String(error)).toContain(table);
      expect(String(error)).not.toContain("xxxxxxxx");
    });

    test("delete with a condition; get of a missing item is undefined", async () => {
      const key = { job_id: "d", run_id: "r" };
      await ports.tables.put(table, { ...key, status: "x" });
      await expect(ports.tables.delete(table, key, { condition: { kind: "attributeNotExists", attribute: "status" } })).rejects.toBeInstanceOf(
        ConditionFailedError,
      );
      await ports.tables.delete(table, key, { condition: { kind: "exists" } });
      expect(await ports.tables.get(table, key)).toBeUndefined();
      await expect(ports.tables.get("lava.t.missing", key)).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe("objects (fauxqs S3, path style)", () => {
    beforeAll(async () => {
      await ports.objects.createBucket("lava-t");
      await ports.objects.createBucket("lava-t"); // idempotent
    });

    test("put, head, get, list with delimiter, delete", async () => {
      await ports.objects.put("s3://lava-t/a/one.txt", "hello", { contentType: "text/plain" });
      await ports.objects.put("s3://lava-t/a/sub/two.bin", new Uint8Array([0, 1, 2]));
      await ports.objects.put("s3://lava-t/a/three.txt", new Blob(["blob body"]));
      const head = await ports.objects.head("s3://lava-t/a/one.txt");
      expect(head).toMatchObject({ bucket: "lava-t", key: "a/one.txt", size: 5, contentType: "text/plain" });
      expect(await new Response(await ports.objects.get("s3://lava-t/a/three.txt")).text()).toBe("blob body");

      const listed = await ports.objects.list("s3://lava-t/a/", { delimiter: "/" });
      expect(listed.objects.map((o) => o.uri).sort()).toEqual(["s3://lava-t/a/one.txt", "s3://lava-t/a/three.txt"]);
      expect(listed.prefixes).toEqual(["s3://lava-t/a/sub/"]);

      const paged = await ports.objects.list("s3://lava-t/a/", { maxKeys: 2 });
      expect(paged.objects).toHaveLength(2);
      expect(paged.continuationToken).toBeDefined();
      const rest = await ports.objects.list("s3://lava-t/a/", { continuationToken: paged.continuationToken });
      expect(rest.objects).toHaveLength(1);

      await ports.objects.delete("s3://lava-t/a/one.txt");
      expect(await ports.objects.head("s3://lava-t/a/one.txt")).toBeUndefined();
      await expect(ports.objects.get("s3://lava-t/a/one.txt")).rejects.toBeInstanceOf(NotFoundError);
    });

    test("a 50 MB stream goes up multipart and comes back as a stream, byte for byte", async () => {
      const chunk = 1024 * 1024;
      const total = 50;
      const upHash = createHash("sha256");
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent === total) return controller.close();
          const bytes = new Uint8Array(chunk).fill(sent % 251);
          bytes[0] = sent;
          upHash.update(bytes);
          controller.enqueue(bytes);
          sent++;
        },
      });
      ports.resetStats();
      await ports.objects.put("s3://lava-t/big.bin", body, { kmsKeyId: "alias/lava-t" });
      const stats = ports.stats();
      expect(stats["S3.CreateMultipartUpload"]).toBe(1);
      expect(stats["S3.UploadPart"]).toBeGreaterThanOrEqual(10);
      expect((await ports.objects.head("s3://lava-t/big.bin"))?.size).toBe(total * chunk);

      const downHash = createHash("sha256");
      let received = 0;
      for await (const piece of await ports.objects.get("s3://lava-t/big.bin")) {
        downHash.update(piece);
        received += piece.byteLength;
      }
      expect(received).toBe(total * chunk);
      expect(downHash.digest("hex")).toBe(upHash.digest("hex"));
    }, 60_000);
  });

  describe("streaming put edge cases", () => {
    const MB5 = 5 * 1024 * 1024;
    const streamOf = (sizes: number[], failAfter?: number) => {
      let i = 0;
      return new ReadableStream<Uint8Array>({
        pull(controller) {
          if (failAfter !== undefined && i === failAfter) return controller.error(new Error("producer failed"));
          if (i === sizes.length) return controller.close();
          controller.enqueue(new Uint8Array(sizes[i++]!).fill(i));
        },
      });
    };

    test("empty and exactly-one-part streams are single PutObjects; one byte more is multipart", async () => {
      ports.resetStats();
      await ports.objects.put("s3://lava-t/edge/empty", streamOf([]));
      await ports.objects.put("s3://lava-t/edge/one-part", streamOf([MB5 - 10, 10]));
      expect(ports.stats()).toEqual({ "S3.PutObject": 2 });
      expect((await ports.objects.head("s3://lava-t/edge/empty"))?.size).toBe(0);
      expect((await ports.objects.head("s3://lava-t/edge/one-part"))?.size).toBe(MB5);

      ports.resetStats();
      await ports.objects.put("s3://lava-t/edge/two-parts", streamOf([MB5, 1]));
      expect(ports.stats()).toEqual({ "S3.CreateMultipartUpload": 1, "S3.UploadPart": 2, "S3.CompleteMultipartUpload": 1 });
      const bytes = new Uint8Array(await new Response(await ports.objects.get("s3://lava-t/edge/two-parts")).arrayBuffer());
      expect(bytes.byteLength).toBe(MB5 + 1);
      expect([bytes[0], bytes[MB5 - 1], bytes[MB5]]).toEqual([1, 1, 2]);
    });

    test("a stream that fails mid-upload aborts the multipart upload and leaves no object", async () => {
      ports.resetStats();
      const error = await ports.objects
        .put("s3://lava-t/edge/broken", streamOf([MB5, MB5, MB5], 2))
        .catch((e: unknown) => e);
      expect(String(error)).toContain("producer failed");
      expect(ports.stats()["S3.AbortMultipartUpload"]).toBe(1);
      expect(ports.stats()["S3.CompleteMultipartUpload"]).toBeUndefined();
      expect(await ports.objects.head("s3://lava-t/edge/broken")).toBeUndefined();
    });
  });

  describe("request counting", () => {
    test("counts each operation by service, and requestStats() reads it from plain Ports", async () => {
      ports.resetStats();
      await ports.tables.get("lava.t.events", { job_id: "none", run_id: "none" });
      await ports.queues.receive("lava-t-rt");
      await ports.queues.receive("lava-t-rt");
      expect(requestStats(ports)).toEqual({ "DynamoDB.GetItem": 1, "SQS.ReceiveMessage": 2 });
      expect(ports.requestCount()).toBe(3);
    });
  });

  test("a process that only uses tables and queues never loads the S3 or other service SDKs", async () => {
    const adapter = join(import.meta.dir, "..", "..", "src", "adapters", "aws", "index.ts");
    const script = `
      const { openAwsPorts } = await import(${JSON.stringify(adapter)});
      const ports = await openAwsPorts();
      await ports.tables.tableExists("lava.t.events");
      await ports.queues.exists("lava-t-rt");
      await ports.close();
      const sdks = Object.keys(require.cache).flatMap((k) => k.match(/@aws-sdk\\/(client-[a-z-]+|lib-[a-z]+)\\//)?.[1] ?? []);
      console.log(JSON.stringify([...new Set(sdks)].sort()));`;
    const child = Bun.spawn([process.execPath, "-e", script], { env: childEnv(emulators), stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    expect(err).toBe("");
    expect(code).toBe(0);
    // queues.exists() is a GetQueueUrl, which goes over the lite client (src/adapters/aws/lite): no SQS SDK.
    expect(JSON.parse(out)).toEqual(["client-dynamodb", "lib-dynamodb"]);
  });

  describe("process.env route", () => {
    test("openAwsPorts() without env reads the emulator endpoints from process.env (withEnv)", async () => {
      await withEnv(emulators.env, async () => {
        const viaEnv = await openAwsPorts();
        try {
          expect(await viaEnv.queues.exists("lava-t-rt")).toBe(true);
          expect(await viaEnv.tables.tableExists("lava.t.events")).toBe(true);
        } finally {
          await viaEnv.close();
        }
      });
    });
  });

  describe.if(motoPresent)("moto services", () => {
    test("SSM parameters, plain and SecureString; missing is NotFoundError", async () => {
      const { SSMClient, PutParameterCommand } = await import("@aws-sdk/client-ssm");
      const ssm = new SSMClient(sdkConfig(emulators.endpoints.moto));
      await ssm.send(new PutParameterCommand({ Name: "/lava/t/plain", Value: "v1", Type: "String" }));
      await ssm.send(new PutParameterCommand({ Name: "/lava/t/secure", Value: "s3cret", Type: "SecureString" }));
      ssm.destroy();
      expect(await ports.params.getParameter("/lava/t/plain")).toBe("v1");
      expect(await ports.params.getParameter("/lava/t/secure", { decrypt: true })).toBe("s3cret");
      await expect(ports.params.getParameter("/lava/t/none")).rejects.toBeInstanceOf(NotFoundError);
    });

    test("Secrets Manager and KMS round trip", async () => {
      const { SecretsManagerClient, CreateSecretCommand } = await import("@aws-sdk/client-secrets-manager");
      const { KMSClient, CreateKeyCommand } = await import("@aws-sdk/client-kms");
      const sm = new SecretsManagerClient(sdkConfig(emulators.endpoints.moto));
      await sm.send(new CreateSecretCommand({ Name: "lava/t/db", SecretString: '{"password":"pw"}' }));
      sm.destroy();
      expect(await ports.params.getSecret("lava/t/db")).toBe('{"password":"pw"}');
      await expect(ports.params.getSecret("lava/t/none")).rejects.toBeInstanceOf(NotFoundError);

      const kms = new KMSClient(sdkConfig(emulators.endpoints.moto));
      const key = await kms.send(new CreateKeyCommand({}));
      kms.destroy();
      const plain = new TextEncoder().encode("state value");
      const cipher = await ports.params.encrypt(key.KeyMetadata!.KeyId!, plain);
      expect(Buffer.from(cipher).equals(Buffer.from(plain))).toBe(false);
      expect(new TextDecoder().decode(await ports.params.decrypt(cipher))).toBe("state value");
    });

    test("metrics land in CloudWatch with their dimensions", async () => {
      const data = Array.from({ length: 25 }, (_, i) => ({
        name: "RunTime",
        value: i,
        unit: "Seconds",
        dimensions: { realm: "t", worker: `w${i % 2}` },
      }));
      await ports.metrics.put("Lava/Test", data);
      const { CloudWatchClient, ListMetricsCommand } = await import("@aws-sdk/client-cloudwatch");
      const cw = new CloudWatchClient(sdkConfig(emulators.endpoints.moto));
      const listed = await cw.send(new ListMetricsCommand({ Namespace: "Lava/Test" }));
      cw.destroy();
      const dims = (listed.Metrics ?? []).map((m) => Object.fromEntries((m.Dimensions ?? []).map((d) => [d.Name, d.Value])));
      expect(dims).toContainEqual({ realm: "t", worker: "w0" });
      expect(dims).toContainEqual({ realm: "t", worker: "w1" });
      expect(ports.stats()["CloudWatch.PutMetricData"]).toBe(2); // 25 data in chunks of 20
    });

    test("EventBridge putEvents and SES send", async () => {
      await ports.eventBus.putEvents([{ source: "lava", detailType: "Lava Job Complete", detail: '{"job_id":"j"}' }]);

      const { SESClient, VerifyEmailIdentityCommand } = await import("@aws-sdk/client-ses");
      const ses = new SESClient(sdkConfig(emulators.endpoints.moto));
      await ses.send(new VerifyEmailIdentityCommand({ EmailAddress: "lava@example.com" }));
      ses.destroy();
      const id = await ports.email.send({ from: "lava@example.com", to: ["a@example.com"], subject: "s", text: "body" });
      expect(id).not.toBe("");
      const raw = new TextEncoder().encode("From: lava@example.com\r\nTo: a@example.com\r\nSubject: r\r\n\r\nraw body\r\n");
      expect(await ports.email.send({ from: "lava@example.com", to: ["a@example.com"], subject: "r", raw })).not.toBe("");
    });
  });

  test("SNS publish reaches a subscribed queue", async () => {
    const { SNSClient, CreateTopicCommand, SubscribeCommand } = await import("@aws-sdk/client-sns");
    const sns = new SNSClient(sdkConfig(emulators.endpoints.fauxqs));
    await ports.queues.create("lava-t-sns");
    const topic = await sns.send(new CreateTopicCommand({ Name: "lava-t-topic" }));
    await sns.send(
      new SubscribeCommand({
        TopicArn: topic.TopicArn,
        Protocol: "sqs",
        Endpoint: "arn:aws:sqs:us-east-1:000000000000:lava-t-sns",
        Attributes: { RawMessageDelivery: "true" },
      }),
    );
    sns.destroy();
    expect(await ports.notifications.publish(topic.TopicArn!, "job done", { subject: "lava" })).not.toBe("");
    const [msg] = await ports.queues.receive("lava-t-sns", { waitSeconds: 2 });
    expect(msg?.body).toBe("job done");
  });
});

describe.if(present)("S3 put headers (lava's encryption rule)", () => {
  test("kmsKeyId gives aws:kms with the key id; otherwise AES256", async () => {
    const seen: Record<string, string | null>[] = [];
    // A bare HTTP server standing in for S3, to see exactly what the adapter sends.
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        await req.arrayBuffer();
        seen.push({
          sse: req.headers.get("x-amz-server-side-encryption"),
          kms: req.headers.get("x-amz-server-side-encryption-aws-kms-key-id"),
          path: new URL(req.url).pathname,
        });
        return new Response("", { headers: { ETag: '"abc"' } });
      },
    });
    const ports = await openAwsPorts({
      env: {
        AWS_ACCESS_KEY_ID: "x",
        AWS_SECRET_ACCESS_KEY: "y",
        AWS_REGION: "us-east-1",
        AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${server.port}`,
        LAVA_S3_PATH_STYLE: "true",
      },
    });
    try {
      await ports.objects.put("s3://b/k1", "x", { kmsKeyId: "alias/lava-ref-user" });
      await ports.objects.put("s3://b/k2", "x");
    } finally {
      await ports.close();
      server.stop(true);
    }
    expect(seen).toEqual([
      { sse: "aws:kms", kms: "alias/lava-ref-user", path: "/b/k1" },
      { sse: "AES256", kms: null, path: "/b/k2" },
    ]);
  });

  test("a multipart upload declares the encryption when it is created", async () => {
    const seen: { method: string; query: string; sse: string | null; kms: string | null }[] = [];
    const xml = (body: string) => new Response(`<?xml version="1.0" encoding="UTF-8"?>${body}`, { headers: { "content-type": "application/xml" } });
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        await req.arrayBuffer();
        const url = new URL(req.url);
        const query = [...url.searchParams.keys()].sort().join("&");
        seen.push({
          method: req.method,
          query,
          sse: req.headers.get("x-amz-server-side-encryption"),
          kms: req.headers.get("x-amz-server-side-encryption-aws-kms-key-id"),
        });
        if (req.method === "POST" && url.searchParams.has("uploads")) {
          return xml("<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>big</Key><UploadId>u1</UploadId></InitiateMultipartUploadResult>");
        }
        if (req.method === "POST") return xml('<CompleteMultipartUploadResult><ETag>"all"</ETag></CompleteMultipartUploadResult>');
        return new Response("", { headers: { ETag: '"part"' } });
      },
    });
    const ports = await openAwsPorts({
      env: {
        AWS_ACCESS_KEY_ID: "x",
        AWS_SECRET_ACCESS_KEY: "y",
        AWS_REGION: "us-east-1",
        AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${server.port}`,
        LAVA_S3_PATH_STYLE: "true",
      },
    });
    try {
      await ports.objects.put("s3://b/big", new Blob([new Uint8Array(11 * 1024 * 1024)]).stream(), { kmsKeyId: "alias/k" });
    } finally {
      await ports.close();
      server.stop(true);
    }
    expect(seen.map((r) => `${r.method} ${r.query}`)).toEqual([
      "POST uploads",
      "PUT partNumber&uploadId&x-id",
      "PUT partNumber&uploadId&x-id",
      "PUT partNumber&uploadId&x-id",
      "POST uploadId",
    ]);
    expect(seen[0]).toMatchObject({ sse: "aws:kms", kms: "alias/k" });
  });
});

describe("credentials and region from a named profile", () => {
  test("--profile selects the shared-config profile's keys and region", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lava-aws-profile-"));
    writeFileSync(join(dir, "config"), "[profile lavatest]\nregion = ap-southeast-2\n");
    writeFileSync(join(dir, "credentials"), "[lavatest]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = s\n");
    const authorizations: string[] = [];
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        authorizations.push(req.headers.get("authorization") ?? "");
        return new Response("{}", { headers: { "content-type": "application/x-amz-json-1.0" } });
      },
    });
    try {
      await withEnv(
        {
          AWS_CONFIG_FILE: join(dir, "config"),
          AWS_SHARED_CREDENTIALS_FILE: join(dir, "credentials"),
          AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${server.port}`,
          AWS_REGION: undefined,
          AWS_DEFAULT_REGION: undefined,
          AWS_ACCESS_KEY_ID: undefined,
          AWS_SECRET_ACCESS_KEY: undefined,
        },
        async () => {
          const ports = await openAwsPorts({ profile: "lavatest" });
          try {
            expect(await ports.tables.get("t", { k: "v" })).toBeUndefined();
          } finally {
            await ports.close();
          }
        },
      );
    } finally {
      server.stop(true);
      rmSync(dir, { recursive: true, force: true });
    }
    expect(authorizations[0]).toContain("Credential=AKIDPROFILE/");
    expect(authorizations[0]).toContain("/ap-southeast-2/dynamodb/aws4_request");
  });
});

describe("errors AWS answers with", () => {
  async function dynamoAnswering(status: number, type: string, opts: { retried?: boolean } = {}) {
    let requests = 0;
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch() {
        requests++;
        return Response.json({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: "m" }, {
          status,
          headers: { "content-type": "application/x-amz-json-1.0", "x-amzn-errortype": type },
        });
      },
    });
    const ports = await openAwsPorts({
      env: { AWS_ACCESS_KEY_ID: "x", AWS_SECRET_ACCESS_KEY: "y", AWS_REGION: "us-east-1", AWS_ENDPOINT_URL: `http://127.0.0.1:${server.port}` },
    });
    try {
      const used = opts.retried ? retryingPorts(ports, { random: () => 0 }) : ports;
      const error = await used.tables.get("lava.t.jobs", { job_id: "j" }).catch((e: unknown) => e);
      return { error, requests, stats: ports.stats() };
    } finally {
      await ports.close();
      server.stop(true);
    }
  }

  test("throttling is ThrottledError, 5xx UnavailableError, after one request (the adapter does not retry)", async () => {
    const throttled = await dynamoAnswering(400, "ProvisionedThroughputExceededException");
    expect(throttled.error).toBeInstanceOf(ThrottledError);
    expect((throttled.error as Error).cause).toBeInstanceOf(Error);
    expect(throttled.requests).toBe(1);
    expect(throttled.stats["DynamoDB.GetItem"]).toBe(1);

    const unavailable = await dynamoAnswering(503, "ServiceUnavailable");
    expect(unavailable.error).toBeInstanceOf(UnavailableError);
    expect(unavailable.error).not.toBeInstanceOf(ThrottledError);
    expect(unavailable.requests).toBe(1);
  }, 30_000);

  test("through the retry policy, a throttled GetItem costs exactly the policy's 4 attempts", async () => {
    const throttled = await dynamoAnswering(400, "ThrottlingException", { retried: true });
    expect(throttled.error).toBeInstanceOf(ThrottledError);
    expect(throttled.requests).toBe(4);
    const invalid = await dynamoAnswering(400, "ValidationException", { retried: true });
    expect(invalid.error).toBeInstanceOf(ValidationError);
    expect(invalid.requests).toBe(1);
  }, 30_000);

  test("a missing table is NotFoundError naming the table; access denied and bad requests have their own classes", async () => {
    const missing = (await dynamoAnswering(400, "ResourceNotFoundException")).error;
    expect(missing).toBeInstanceOf(NotFoundError);
    expect((missing as NotFoundError).resource).toEqual({ kind: "table", name: "lava.t.jobs" });
    const denied = await dynamoAnswering(400, "AccessDeniedException");
    expect(denied.error).toBeInstanceOf(AccessDeniedError);
    expect(String(denied.error)).toContain("get lava.t.jobs: access denied (AccessDeniedException)");
    expect((await dynamoAnswering(400, "ValidationException")).error).toBeInstanceOf(ValidationError);
    expect((await dynamoAnswering(400, "SomethingNew")).error).toBeInstanceOf(PortError);
  });
});
