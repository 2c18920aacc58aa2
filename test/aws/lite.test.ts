/**
 * The lite AWS client (src/adapters/aws/lite): SigV4 against botocore and the published vector, shared
 * config/credentials parsing, endpoint and credential resolution, and the three calls against emulators
 * (dynalite, fauxqs) through the aws ports, including that they load no SDK module.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openAwsPorts, type AwsPorts } from "../../src/adapters/aws/index.ts";
import { resolveSettings } from "../../src/adapters/aws/clients.ts";
import {
  credentialSource,
  LiteService,
  loadProfile,
  marshalKey,
  parseIni,
  regionalEndpoint,
  signRequest,
  staticProfileCredentials,
  unmarshalItem,
  type Credentials,
} from "../../src/adapters/aws/lite/index.ts";
import { NotFoundError, ThrottledError, UnavailableError } from "../../src/ports/errors.ts";
import { retryingPorts } from "../../src/core/retry.ts";
import { commandWorks, needs } from "../support/availability.ts";
import { childEnv, emulatorsPresent, startAwsEmulators, type AwsEmulators } from "../support/emulators.ts";

const EXAMPLE: Credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };

interface SignCase {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  amzDate: string;
  service: string;
  region: string;
  credentials: Credentials;
}

function liteAuthorization(c: SignCase): string {
  const iso = `${c.amzDate.slice(0, 4)}-${c.amzDate.slice(4, 6)}-${c.amzDate.slice(6, 8)}T${c.amzDate.slice(9, 11)}:${c.amzDate.slice(11, 13)}:${c.amzDate.slice(13, 15)}Z`;
  return signRequest(
    { method: c.method, url: new URL(c.url), headers: c.headers, body: c.body },
    { service: c.service, region: c.region, credentials: c.credentials, now: new Date(iso) },
  ).authorization!;
}

/** botocore's SigV4Auth over the same requests, with its clock fixed: the reference implementation. */
const BOTOCORE_ORACLE = `
import datetime, json, sys
from unittest import mock
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
out = []
for r in json.load(sys.stdin):
    c = r["credentials"]
    req = AWSRequest(method=r["method"], url=r["url"], data=r["body"].encode(), headers=r["headers"])
    when = datetime.datetime.strptime(r["amzDate"], "%Y%m%dT%H%M%SZ")
    with mock.patch("botocore.auth.get_current_datetime", return_value=when):
        SigV4Auth(Credentials(c["accessKeyId"], c["secretAccessKey"], c.get("sessionToken")), r["service"], r["region"]).add_auth(req)
    out.append(req.headers["Authorization"])
print(json.dumps(out))
`;

describe("SigV4", () => {
  test("the published get-vanilla vector", () => {
    const auth = liteAuthorization({
      method: "GET",
      url: "https://example.amazonaws.com/",
      headers: {},
      body: "",
      amzDate: "20150830T123600Z",
      service: "service",
      region: "us-east-1",
      credentials: EXAMPLE,
    });
    expect(auth).toBe(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, " +
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    );
  });

  const botocore = needs("python3 botocore", commandWorks(["python3", "-c", "import botocore.auth"]), "pip install botocore");
  test.if(botocore)("matches botocore for JSON-protocol requests, session tokens, ports, paths and queries", () => {
    const cases: SignCase[] = [
      {
        method: "POST",
        url: "http://127.0.0.1:4566/",
        headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "DynamoDB_20120810.GetItem" },
        body: '{"TableName":"lava.r.jobs","Key":{"job_id":{"S":"j/1"}}}',
        amzDate: "20240229T235959Z",
        service: "dynamodb",
        region: "us-east-1",
        credentials: EXAMPLE,
      },
      {
        method: "POST",
        url: "https://sqs.ap-southeast-2.amazonaws.com/",
        headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "AmazonSQS.SendMessage" },
        body: JSON.stringify({ QueueUrl: "https://sqs.ap-southeast-2.amazonaws.com/1/lava-r-w", MessageBody: '{"a": "é ✓"}', DelaySeconds: 5 }),
        amzDate: "20251127T010203Z",
        service: "sqs",
        region: "ap-southeast-2",
        credentials: { ...EXAMPLE, sessionToken: "FQoGZXIvYXdzE//token+/=" },
      },
      {
        method: "GET",
        url: "https://example.amazonaws.com/a%20b/c%2Fd/?z=1&a=x%20y&a=b&empty=",
        headers: { "x-custom": "  two   spaces  " },
        body: "",
        amzDate: "20150830T123600Z",
        service: "service",
        region: "eu-west-1",
        credentials: EXAMPLE,
      },
    ];
    const proc = Bun.spawnSync(["python3", "-c", BOTOCORE_ORACLE], { stdin: Buffer.from(JSON.stringify(cases)), stdout: "pipe", stderr: "pipe" });
    expect(proc.stderr.toString()).toBe("");
    const expected = JSON.parse(proc.stdout.toString()) as string[];
    expect(cases.map(liteAuthorization)).toEqual(expected);
  });
});

describe("shared config and credentials files", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "lava-lite-profile-"));
    writeFileSync(
      join(dir, "config"),
      [
        "# comment",
        "[default]",
        "region = eu-west-1",
        "[profile dev]",
        "region = ap-southeast-2 ",
        "s3 =",
        "  max_concurrent_requests = 4",
        "aws_access_key_id = FROMCONFIG",
        "[profile role]",
        "role_arn = arn:aws:iam::123456789012:role/r",
        "source_profile = dev",
        "[profile fips]",
        "region = us-east-1",
        "use_fips_endpoint = true",
        "",
      ].join("\n"),
    );
    writeFileSync(
      join(dir, "credentials"),
      ["[default]", "aws_access_key_id = AKIDDEFAULT", "aws_secret_access_key = sdefault", "", "[dev]", "aws_access_key_id=AKIDDEV", "aws_secret_access_key=sdev", "aws_session_token = tok", "; trailing"].join("\r\n"),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const env = () => ({ AWS_CONFIG_FILE: join(dir, "config"), AWS_SHARED_CREDENTIALS_FILE: join(dir, "credentials"), HOME: dir });

  test("INI sections, comments, nested keys", () => {
    const ini = parseIni("[a]\nk = v # not a comment\n; c\n[b]\nparent =\n  child = 1\nother = 2\n");
    expect(ini.get("a")).toEqual({ k: "v # not a comment" });
    expect(ini.get("b")).toEqual({ parent: "", "parent.child": "1", other: "2" });
  });

  test("a named profile merges config and credentials, the credentials file winning", () => {
    expect(loadProfile("dev", env())).toEqual({
      region: "ap-southeast-2",
      s3: "",
      "s3.max_concurrent_requests": "4",
      aws_access_key_id: "AKIDDEV",
      aws_secret_access_key: "sdev",
      aws_session_token: "tok",
    });
    expect(loadProfile("default", env())?.region).toBe("eu-west-1");
    expect(loadProfile("absent", env())).toBeUndefined();
    expect(staticProfileCredentials(loadProfile("dev", env()))).toEqual({ accessKeyId: "AKIDDEV", secretAccessKey: "sdev", sessionToken: "tok" });
    // A role profile is the SDK's business (STS), never read as static keys.
    expect(staticProfileCredentials(loadProfile("role", env()))).toBeUndefined();
  });

  test("credential order: explicit keys, env keys unless a profile is named, then the profile's keys", async () => {
    const keys = { AWS_ACCESS_KEY_ID: "AKIDENV", AWS_SECRET_ACCESS_KEY: "senv" };
    expect(await credentialSource({ explicit: { accessKeyId: "X", secretAccessKey: "Y" }, env: { ...env(), ...keys } })()).toEqual({ accessKeyId: "X", secretAccessKey: "Y" });
    expect((await credentialSource({ env: { ...env(), ...keys } })()).accessKeyId).toBe("AKIDENV");
    expect((await credentialSource({ env: env() })()).accessKeyId).toBe("AKIDDEFAULT");
    expect((await credentialSource({ profile: "dev", env: { ...env(), ...keys } })()).accessKeyId).toBe("AKIDDEV");
    expect((await credentialSource({ env: { ...env(), ...keys, AWS_PROFILE: "dev" } })()).accessKeyId).toBe("AKIDDEV");
  });

  test("region and endpoint: profile region when none is set; FIPS or unknown partitions defer to the SDK", async () => {
    const route = await new LiteService(resolveSettings({ profile: "dev" }, {}, false), "DYNAMODB", env()).route();
    expect(route?.region).toBe("ap-southeast-2");
    expect(route?.endpoint.href).toBe("https://dynamodb.ap-southeast-2.amazonaws.com/");
    expect((await route!.credentials()).accessKeyId).toBe("AKIDDEV");
    expect(await new LiteService(resolveSettings({ profile: "fips" }, {}, false), "SQS", env()).route()).toBeUndefined();
    const noRegion = { ...env(), AWS_CONFIG_FILE: join(dir, "none") };
    expect(await new LiteService(resolveSettings({}, {}, false), "SQS", noRegion).route()).toBeUndefined();
    expect(await new LiteService(resolveSettings({ region: "eu-west-1" }, {}, false), "SQS", { ...env(), AWS_USE_FIPS_ENDPOINT: "true" }).route()).toBeUndefined();
    expect(regionalEndpoint("sqs", "cn-north-1")?.href).toBe("https://sqs.cn-north-1.amazonaws.com.cn/");
    expect(regionalEndpoint("sqs", "us-gov-west-1")?.href).toBe("https://sqs.us-gov-west-1.amazonaws.com/");
    expect(regionalEndpoint("sqs", "us-iso-east-1")).toBeUndefined();
  });
});

describe("DynamoDB values", () => {
  test("keys marshal by type; items unmarshal as lib-dynamodb does, sets as arrays", () => {
    expect(marshalKey({ job_id: "j", n: 3 })).toEqual({ job_id: { S: "j" }, n: { N: "3" } });
    const item = unmarshalItem({
      s: { S: "x" },
      n: { N: "1.5" },
      big: { N: "12345678901234567890" },
      b: { B: "AQID" },
      t: { BOOL: true },
      z: { NULL: true },
      l: { L: [{ S: "a" }, { N: "2" }] },
      m: { M: { k: { SS: ["p", "q"] }, ns: { NS: ["1", "2"] } } },
    });
    expect(item).toEqual({
      s: "x",
      n: 1.5,
      big: 12345678901234567890n as unknown as number,
      b: new Uint8Array([1, 2, 3]),
      t: true,
      z: null,
      l: ["a", 2],
      m: { k: ["p", "q"], ns: [1, 2] },
    });
  });
});

const present =
  needs("dynalite", emulatorsPresent.dynalite(), "npm install") &&
  needs("fauxqs", emulatorsPresent.fauxqs(), "npm install");

describe.if(present)("lite calls through the aws ports, on emulators", () => {
  let emulators: AwsEmulators;
  let ports: AwsPorts;
  beforeAll(async () => {
    emulators = await startAwsEmulators();
    ports = await openAwsPorts({ env: emulators.env });
    await ports.tables.createTable({ name: "lava.lite.jobs", hash: "job_id" });
    await ports.queues.create("lava-lite-w", { visibilityTimeoutSeconds: 30 });
    await ports.queues.create("lava-lite-empty", { visibilityTimeoutSeconds: 45 });
  }, 60_000);
  afterAll(async () => {
    await ports?.close();
    await emulators?.stop();
  });

  test("GetItem: a hit round-trips every value type; a miss is undefined; each is one counted request", async () => {
    const item = { job_id: "j/1", worker: "w", n: 42, f: 0.25, ok: true, none: null, list: ["a", 1], map: { k: { deep: "v" } }, bin: new Uint8Array([0, 255]) };
    await ports.tables.put("lava.lite.jobs", item);
    ports.resetStats();
    expect(await ports.tables.get("lava.lite.jobs", { job_id: "j/1" })).toEqual(item);
    expect(await ports.tables.get("lava.lite.jobs", { job_id: "absent" }, { consistent: true })).toBeUndefined();
    expect(ports.stats()).toEqual({ "DynamoDB.GetItem": 2 });
  });

  test("GetItem on a missing table is NotFoundError", async () => {
    await expect(ports.tables.get("lava.lite.none", { job_id: "j" })).rejects.toBeInstanceOf(NotFoundError);
  });

  test("SendMessage with a delay: the message is held back, then arrives intact; the URL is looked up once", async () => {
    ports.resetStats();
    const body = JSON.stringify({ job_id: "j/1", text: "é ✓ \u0001" });
    const id = await ports.queues.send("lava-lite-w", body, { delaySeconds: 2 });
    expect(id).not.toBe("");
    expect(await ports.queues.receive("lava-lite-w", { waitSeconds: 0 })).toEqual([]);
    const [msg] = await ports.queues.receive("lava-lite-w", { waitSeconds: 5 });
    expect(msg?.id).toBe(id);
    expect(msg?.body).toBe(body);
    await ports.queues.send("lava-lite-w", "second");
    // create() cached the URL, and the lite path shares that cache.
    expect(ports.stats()["SQS.SendMessage"]).toBe(2);
    expect(ports.stats()["SQS.GetQueueUrl"]).toBeUndefined();
  }, 20_000);

  test("GetQueueUrl of a missing queue is NotFoundError (on send and on exists)", async () => {
    await expect(ports.queues.send("lava-lite-missing", "x")).rejects.toBeInstanceOf(NotFoundError);
    expect(await ports.queues.exists("lava-lite-missing")).toBe(false);
  });

  test("a dispatch-shaped process (GetItem, GetQueueUrl, SendMessage) loads no SDK client module", async () => {
    const adapter = join(import.meta.dir, "..", "..", "src", "adapters", "aws", "index.ts");
    const script = `
      const { openAwsPorts } = await import(${JSON.stringify(adapter)});
      const ports = await openAwsPorts();
      const job = await ports.tables.get("lava.lite.jobs", { job_id: "j/1" });
      await ports.queues.send("lava-lite-w", JSON.stringify({ worker: job.worker }));
      const stats = ports.stats();
      await ports.close();
      const sdks = Object.keys(require.cache).flatMap((k) => k.match(/@aws-sdk\\/[a-z-]+/)?.[0] ?? []);
      console.log(JSON.stringify({ sdks: [...new Set(sdks)], stats }));`;
    const child = Bun.spawn([process.execPath, "-e", script], { env: childEnv(emulators), stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({ sdks: [], stats: { "DynamoDB.GetItem": 1, "SQS.GetQueueUrl": 1, "SQS.SendMessage": 1 } });
  });

  test("a worker's start (queue attributes, a long poll with an abort signal) loads no SDK module; aborted, the poll returns no messages, early", async () => {
    const adapter = join(import.meta.dir, "..", "..", "src", "adapters", "aws", "index.ts");
    const script = `
      const { openAwsPorts } = await import(${JSON.stringify(adapter)});
      const ports = await openAwsPorts();
      const attributes = await ports.queues.attributes("lava-lite-empty");
      const before = await ports.queues.receive("lava-lite-empty", { waitSeconds: 5, signal: AbortSignal.abort() });
      const controller = new AbortController();
      const started = performance.now();
      setTimeout(() => controller.abort(), 300);
      const aborted = await ports.queues.receive("lava-lite-empty", { waitSeconds: 20, signal: controller.signal });
      const ms = performance.now() - started;
      const stats = ports.stats();
      await ports.close();
      const sdks = Object.keys(require.cache).flatMap((k) => k.match(/@aws-sdk\\/[a-z-]+/)?.[0] ?? []);
      console.log(JSON.stringify({ sdks: [...new Set(sdks)], attributes, before, aborted, early: ms < 10000, stats }));`;
    const child = Bun.spawn([process.execPath, "-e", script], { env: childEnv(emulators), stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    expect(err).toBe("");
    expect(code).toBe(0);
    // An already-aborted signal sends nothing; the aborted poll was one request.
    expect(JSON.parse(out)).toEqual({
      sdks: [],
      attributes: { visible: 0, notVisible: 0, delayed: 0, visibilityTimeoutSeconds: 45, retentionSeconds: 86400 },
      before: [],
      aborted: [],
      early: true,
      stats: { "SQS.GetQueueAttributes": 1, "SQS.GetQueueUrl": 1, "SQS.ReceiveMessage": 1 },
    });
  }, 30_000);
});

describe("errors and retries on the lite path", () => {
  async function answering(respond: (n: number) => Response) {
    let requests = 0;
    const targets: string[] = [];
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        targets.push(req.headers.get("x-amz-target") ?? "");
        return respond(++requests);
      },
    });
    const ports = await openAwsPorts({
      env: { AWS_ACCESS_KEY_ID: "x", AWS_SECRET_ACCESS_KEY: "y", AWS_REGION: "us-east-1", AWS_ENDPOINT_URL: `http://127.0.0.1:${server.port}` },
    });
    return {
      ports,
      targets,
      requests: () => requests,
      async close() {
        await ports.close();
        server.stop(true);
      },
    };
  }

  test("SQS's query-compatible NonExistentQueue is NotFoundError", async () => {
    const s = await answering(() =>
      Response.json(
        { __type: "com.amazonaws.sqs#QueueDoesNotExist", message: "The specified queue does not exist." },
        { status: 400, headers: { "x-amzn-query-error": "AWS.SimpleQueueService.NonExistentQueue;Sender" } },
      ),
    );
    try {
      const error = await s.ports.queues.send("q", "b").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotFoundError);
      expect(String(error)).toContain("queue q: not found (QueueDoesNotExist)");
      expect(s.targets).toEqual(["AmazonSQS.GetQueueUrl"]);
    } finally {
      await s.close();
    }
  });

  test("a throttled call is one request and ThrottledError; through the retry policy it is retried and succeeds, every attempt counted", async () => {
    const s = await answering((n) =>
      n === 1
        ? Response.json({ __type: "com.amazonaws.dynamodb.v20120810#ThrottlingException", message: "slow down" }, { status: 400 })
        : Response.json({ Item: { job_id: { S: "j" } } }),
    );
    try {
      expect(await s.ports.tables.get("t", { job_id: "j" }).catch((e: unknown) => e)).toBeInstanceOf(ThrottledError);
      expect(s.requests()).toBe(1);
      expect(await retryingPorts(s.ports, { random: () => 0 }).tables.get("t", { job_id: "j" })).toEqual({ job_id: "j" });
      expect(s.requests()).toBe(2);
      expect(s.ports.stats()).toEqual({ "DynamoDB.GetItem": 2 });
    } finally {
      await s.close();
    }
  });

  test("a 5xx that persists is UnavailableError: one request alone, the policy's 4 through the retry policy", async () => {
    const s = await answering(() => new Response("oops", { status: 503 }));
    try {
      expect(await s.ports.tables.get("t", { job_id: "j" }).catch((e: unknown) => e)).toBeInstanceOf(UnavailableError);
      expect(s.requests()).toBe(1);
      expect(await retryingPorts(s.ports, { random: () => 0 }).tables.get("t", { job_id: "j" }).catch((e: unknown) => e)).toBeInstanceOf(UnavailableError);
      expect(s.requests()).toBe(5);
    } finally {
      await s.close();
    }
  }, 20_000);
});
