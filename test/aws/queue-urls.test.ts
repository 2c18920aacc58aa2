/**
 * Queue URLs remembered across processes (src/adapters/aws/queue-urls.ts): the file's rules, and on the
 * emulators that a second process sends without GetQueueUrl and that a stale remembered URL heals itself.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileQueueUrlMemory, queueUrlFile } from "../../src/adapters/aws/queue-urls.ts";
import { openAwsPorts } from "../../src/adapters/aws/index.ts";
import { needs } from "../support/availability.ts";
import { emulatorsPresent, startAwsEmulators, type AwsEmulators } from "../support/emulators.ts";

const URL_A = "https://sqs.eu-west-1.amazonaws.com/123456789012/lava-r-a";

describe("the remembered queue URLs file", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "lava-qurl-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("lives under XDG_CACHE_HOME, else ~/.cache; nowhere without a home", () => {
    expect(queueUrlFile({ XDG_CACHE_HOME: "/x/c/", HOME: "/h" })).toBe("/x/c/lava/sqs-queue-urls.json");
    expect(queueUrlFile({ HOME: "/h/" })).toBe("/h/.cache/lava/sqs-queue-urls.json");
    expect(queueUrlFile({})).toBeUndefined();
  });

  test("written 0600 in a 0700 directory, naming neither queue nor scope; read back by the next process", async () => {
    const file = join(dir, "a", "lava", "urls.json");
    await new FileQueueUrlMemory(file, "eu-west-1|||AKIAEXAMPLE").remember("lava-r-a", URL_A);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "a", "lava")).mode & 0o777).toBe(0o700);
    const text = readFileSync(file, "utf8");
    expect(text).toContain(URL_A);
    expect(text).not.toContain("AKIAEXAMPLE");
    expect(text).not.toContain("eu-west-1|");
    expect(await new FileQueueUrlMemory(file, "eu-west-1|||AKIAEXAMPLE").get("lava-r-a")).toBe(URL_A);
    // Another scope (region, endpoint, profile or key) does not see it.
    expect(await new FileQueueUrlMemory(file, "us-east-1|||AKIAEXAMPLE").get("lava-r-a")).toBeUndefined();
  });

  test("forget removes one entry and keeps the others", async () => {
    const file = join(dir, "f", "urls.json");
    const m = new FileQueueUrlMemory(file, "s");
    await m.remember("q1", "http://h/1/q1");
    await m.remember("q2", "http://h/1/q2");
    await m.forget("q1");
    const again = new FileQueueUrlMemory(file, "s");
    expect([await again.get("q1"), await again.get("q2")]).toEqual([undefined, "http://h/1/q2"]);
  });

  test("a file others may write to, or that another user owns, is not used", async () => {
    const file = join(dir, "w", "urls.json");
    await new FileQueueUrlMemory(file, "s").remember("q", "http://h/1/q");
    chmodSync(file, 0o622);
    expect(await new FileQueueUrlMemory(file, "s").get("q")).toBeUndefined();
    chmodSync(file, 0o600);
    expect(await new FileQueueUrlMemory(file, "s").get("q")).toBe("http://h/1/q");
    chmodSync(join(dir, "w"), 0o777);
    expect(await new FileQueueUrlMemory(file, "s").get("q")).toBeUndefined();
    chmodSync(join(dir, "w"), 0o700);
    // Seen by a process of another uid, our file is foreign.
    const otherUid = (process.getuid?.() ?? 0) + 1;
    expect(await new FileQueueUrlMemory(file, "s", otherUid).get("q")).toBeUndefined();
  });

  test("a file that is not JSON, or holds no URLs, counts as empty and is rewritten", async () => {
    const file = join(dir, "bad", "urls.json");
    await new FileQueueUrlMemory(file, "s").remember("q", "http://h/1/q");
    writeFileSync(file, "{not json", { mode: 0o600 });
    const m = new FileQueueUrlMemory(file, "s");
    expect(await m.get("q")).toBeUndefined();
    await m.remember("q", "http://h/1/q");
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(expect.any(Object));
    expect(await new FileQueueUrlMemory(file, "s").get("q")).toBe("http://h/1/q");
  });

  test("a home it may not write to only means no memory: nothing throws", async () => {
    if (process.getuid?.() === 0) {
      // root writes anywhere; a path through a regular file cannot be created by anyone.
      const blocker = join(dir, "blocker");
      writeFileSync(blocker, "");
      const m = new FileQueueUrlMemory(join(blocker, "lava", "urls.json"), "s");
      await m.remember("q", "http://h/1/q");
      expect(await m.get("q")).toBe("http://h/1/q"); // kept for this process
      expect(await new FileQueueUrlMemory(join(blocker, "lava", "urls.json"), "s").get("q")).toBeUndefined();
      return;
    }
    const ro = join(dir, "ro");
    writeFileSync(join(dir, "ro-marker"), "");
    chmodSync(dir, 0o500);
    try {
      await new FileQueueUrlMemory(join(ro, "urls.json"), "s").remember("q", "http://h/1/q");
    } finally {
      chmodSync(dir, 0o700);
    }
  });
});

const haveEmulators = needs("dynalite", emulatorsPresent.dynalite(), "npm install") && needs("fauxqs", emulatorsPresent.fauxqs(), "npm install");

describe.if(haveEmulators)("remembered queue URLs on the emulators", () => {
  let emulators: AwsEmulators;
  let home: string;
  beforeAll(async () => {
    emulators = await startAwsEmulators();
    home = mkdtempSync(join(tmpdir(), "lava-qurl-home-"));
    const ports = await openAwsPorts({ env: emulators.env }); // no HOME: nothing remembered
    await ports.queues.create("lava-qu-a", { visibilityTimeoutSeconds: 30 });
    await ports.queues.create("lava-qu-gone", { visibilityTimeoutSeconds: 30 });
    await ports.close();
  }, 60_000);
  afterAll(async () => {
    await emulators?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  const open = () => openAwsPorts({ env: { ...emulators.env, HOME: home } });

  test("the first process looks the URL up; the next ones send with one request", async () => {
    const first = await open();
    await first.queues.send("lava-qu-a", "one");
    expect(first.stats()).toEqual({ "SQS.GetQueueUrl": 1, "SQS.SendMessage": 1 });
    await first.close();
    const second = await open();
    await second.queues.send("lava-qu-a", "two");
    expect(second.stats()).toEqual({ "SQS.SendMessage": 1 });
    await second.close();
  });

  test("a remembered URL of a queue that no longer exists is forgotten, looked up again, and the send goes through once", async () => {
    const p = await open();
    await p.queues.send("lava-qu-gone", "x"); // remembered
    const goneUrl = JSON.parse(readFileSync(join(home, ".cache", "lava", "sqs-queue-urls.json"), "utf8"));
    await p.close();
    // Point lava-qu-a's entry at a queue that is then deleted.
    const { SQSClient, DeleteQueueCommand, GetQueueUrlCommand } = await import("@aws-sdk/client-sqs");
    const sqs = new SQSClient({ endpoint: emulators.env.AWS_ENDPOINT_URL_SQS ?? emulators.env.AWS_ENDPOINT_URL, region: emulators.env.AWS_REGION, credentials: { accessKeyId: emulators.env.AWS_ACCESS_KEY_ID!, secretAccessKey: emulators.env.AWS_SECRET_ACCESS_KEY! } });
    const { QueueUrl: deadUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: "lava-qu-gone" }));
    await sqs.send(new DeleteQueueCommand({ QueueUrl: deadUrl }));
    sqs.destroy();
    const file = join(home, ".cache", "lava", "sqs-queue-urls.json");
    const entries = JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
    const aKey = Object.keys(entries).find((k) => entries[k]!.endsWith("/lava-qu-a"))!;
    expect(aKey).toBeDefined();
    entries[aKey] = deadUrl!;
    writeFileSync(file, JSON.stringify(entries), { mode: 0o600 });
    expect(Object.values(goneUrl)).toContain(deadUrl);

    const healed = await open();
    await healed.queues.send("lava-qu-a", "after");
    expect(healed.stats()).toEqual({ "SQS.SendMessage": 2, "SQS.GetQueueUrl": 1 });
    const [msg] = await healed.queues.receive("lava-qu-a", { maxMessages: 10, waitSeconds: 1 }).then((ms) => ms.filter((m) => m.body === "after"));
    expect(msg?.body).toBe("after");
    await healed.close();
    const fixed = JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
    expect(fixed[aKey]).toEndWith("/lava-qu-a");
  });
});
