/**
 * The fault proxy answers in each service's own shape: the aws adapter (SDK clients and the lite client)
 * must classify its faults exactly as AWS's (throttling `ThrottledError`, 5xx and dropped connections
 * `UnavailableError`, access denied `AccessDeniedError`), and one call through the retry policy costs at
 * most the policy's attempts. Without this, the worker tests would test the proxy.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { needs } from "../support/availability.ts";
import { emulatorsPresent, startAwsEmulators, type AwsEmulators } from "../support/emulators.ts";
import { AccessDeniedError, isRetryable, ThrottledError, UnavailableError, type Ports } from "../../src/ports/index.ts";
import { POLICIES, retryingPorts } from "../../src/core/retry.ts";
import { proxyEnv, seededRandom, startFaultProxy, type FaultProxy } from "./proxy.ts";

const present = needs("dynalite and fauxqs (npm devDependencies)", emulatorsPresent.dynalite() && emulatorsPresent.fauxqs());

describe.if(present)("fault proxy", () => {
  let emulators: AwsEmulators;
  let proxy: FaultProxy;
  let ports: Ports;
  /** The same ports through the one retry policy, without jitter waits. */
  let retried: Ports;

  beforeAll(async () => {
    emulators = await startAwsEmulators();
    proxy = await startFaultProxy(emulators.endpoints, { seed: 7 });
    const { openAwsPorts } = await import("../../src/adapters/aws/index.ts");
    ports = await openAwsPorts({ env: { ...emulators.env, ...proxyEnv(proxy) } });
    retried = retryingPorts(ports, { random: () => 0 });
    await ports.tables.createTable({ name: "tbl", hash: "id" });
    await ports.queues.create("queue-q", { visibilityTimeoutSeconds: 5 });
    await ports.objects.createBucket("bucket-b");
  }, 60_000);

  afterAll(async () => {
    await ports?.close();
    await proxy?.stop();
    await emulators?.stop();
  });

  test("the seeded PRNG is reproducible", () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
  });

  test("DynamoDB throttling is one request and ThrottledError; the retry policy absorbs one, and gives up after its 4 attempts", async () => {
    await ports.tables.put("tbl", { id: "a", v: 1 });
    const bare = proxy.add({ service: "dynamodb", op: "GetItem", fault: { kind: "throttle" }, count: 1 });
    expect(await ports.tables.get("tbl", { id: "a" }).catch((e: unknown) => e)).toBeInstanceOf(ThrottledError);
    expect(proxy.count("dynamodb.GetItem")).toBe(1);
    bare.remove();
    const once = proxy.add({ service: "dynamodb", op: "GetItem", fault: { kind: "throttle" }, count: 1 });
    expect(await retried.tables.get("tbl", { id: "a" })).toEqual({ id: "a", v: 1 });
    expect(once.fired).toBe(1);
    once.remove();
    const always = proxy.add({ service: "dynamodb", op: "UpdateItem", fault: { kind: "throttle", code: "ThrottlingException" } });
    const err = await retried.tables.update("tbl", { id: "a" }, { set: { v: 2 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThrottledError);
    expect(always.fired).toBe(POLICIES.call.attempts);
    expect(proxy.count("dynamodb.UpdateItem")).toBe(POLICIES.call.attempts);
    always.remove();
  }, 20_000);

  test("SQS RequestThrottled is ThrottledError, 500 UnavailableError; S3 SlowDown is ThrottledError after the SDK's own retries", async () => {
    const sqs = proxy.add({ service: "sqs", op: "SendMessage", fault: { kind: "throttle" } });
    expect(await ports.queues.send("queue-q", "x").catch((e: unknown) => e)).toBeInstanceOf(ThrottledError);
    expect(sqs.fired).toBe(1);
    sqs.remove();
    const recv = proxy.add({ service: "sqs", op: "ReceiveMessage", fault: { kind: "error", status: 500 } });
    const recvErr = await ports.queues.receive("queue-q", { waitSeconds: 0 }).catch((e: unknown) => e);
    expect(recvErr).toBeInstanceOf(UnavailableError);
    expect(isRetryable(recvErr)).toBe(true);
    recv.remove();
    const s3 = proxy.add({ service: "s3", op: "PutObject", fault: { kind: "throttle" } });
    const err = await ports.objects.put("s3://bucket-b/k", "hello").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThrottledError);
    expect(String((err as Error).message)).toContain("SlowDown");
    expect(s3.fired).toBeGreaterThan(1);
    s3.remove();
  }, 20_000);

  test("access denied is AccessDeniedError, never retried (DynamoDB and SQS)", async () => {
    const deny = proxy.add({ service: "dynamodb", op: "GetItem", fault: { kind: "deny" } });
    const err = await retried.tables.get("tbl", { id: "a" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AccessDeniedError);
    expect(deny.fired).toBe(1);
    deny.remove();
    const denySqs = proxy.add({ service: "sqs", op: "ChangeMessageVisibility", fault: { kind: "deny" } });
    const sqsErr = await retried.queues.changeVisibility("queue-q", "handle", 5).catch((e: unknown) => e);
    expect(sqsErr).toBeInstanceOf(AccessDeniedError);
    expect(denySqs.fired).toBe(1);
    denySqs.remove();
  });

  test("a connection dropped after the backend acted: the retry policy sends it again and succeeds; the write happened", async () => {
    const drop = proxy.add({ service: "dynamodb", op: "PutItem", fault: { kind: "drop", when: "after" }, count: 1 });
    await retried.tables.put("tbl", { id: "d", v: 1 });
    expect(drop.fired).toBe(1);
    expect(proxy.count("dynamodb.PutItem", (r) => r.fault === "drop after")).toBe(1);
    expect(await ports.tables.get("tbl", { id: "d" })).toEqual({ id: "d", v: 1 });
  });

  test("a connection dropped on every attempt is UnavailableError naming the network error (SDK and lite client)", async () => {
    const put = proxy.add({ service: "dynamodb", op: "PutItem", fault: { kind: "drop", when: "before" } });
    const sdkErr = await ports.tables.put("tbl", { id: "e" }).catch((e: unknown) => e);
    put.remove();
    expect(sdkErr).toBeInstanceOf(UnavailableError);
    expect(String((sdkErr as Error).message)).toContain("unavailable (ECONNRESET)");
    const get = proxy.add({ service: "dynamodb", op: "GetItem", fault: { kind: "drop", when: "before" } });
    const liteErr = await retried.tables.get("tbl", { id: "a" }).catch((e: unknown) => e);
    get.remove();
    expect(liteErr).toBeInstanceOf(UnavailableError);
    expect(get.fired).toBe(POLICIES.call.attempts);
  }, 20_000);

  test("probability with a seed faults a reproducible subset", async () => {
    const rule = proxy.add({ service: "dynamodb", op: "GetItem", match: "\"tbl\"", fault: { kind: "delay", ms: 1 }, probability: 0.5 });
    for (let i = 0; i < 20; i++) await ports.tables.get("tbl", { id: "a" });
    rule.remove();
    const r = seededRandom(7);
    let expected = 0;
    for (let i = 0; i < 20; i++) if (r() < 0.5) expected++;
    expect(rule.fired).toBe(expected);
  });
});
