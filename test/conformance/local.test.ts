/**
 * The local adapter: the port conformance suite, then what only the local backend promises — surviving a
 * killed process, several processes on one database, the injected clock, files on disk, the outboxes.
 */
import type { Subprocess } from "bun";
import { Database } from "bun:sqlite";
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { openLocalPorts, type LocalPorts } from "../../src/adapters/local/index.ts";
import { NotFoundError, type QueueMessage } from "../../src/ports/index.ts";
import { describePortConformance } from "./ports.suite.ts";

const LOCAL_INDEX = resolve(import.meta.dir, "../../src/adapters/local/index.ts");

describePortConformance("local", async () => {
  const home = await mkdtemp(join(tmpdir(), "lava-local-conf-"));
  const ports = await openLocalPorts({ home });
  return {
    ports,
    async cleanup() {
      await ports.close();
      await rm(home, { recursive: true, force: true });
    },
    seed: {
      async parameter(name, value, opts) {
        ports.local.putParameter(name, value, opts);
      },
      async secret(id, value) {
        ports.local.putSecret(id, value);
      },
    },
    topicArn: "arn:aws:sns:us-east-1:000000000000:lava-conformance",
    kmsKeyId: "alias/lava-conformance",
    emailFrom: "lava@example.com",
  };
});

// ------------------------------------------------------------------------------------ local-only tests

describe("local adapter", () => {
  let home: string;
  let ports: LocalPorts;
  let clock: { t: number; now(): number };
  let n = 0;

  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), "lava-local-"));
    clock = { t: Date.now(), now: () => clock.t };
    ports = await openLocalPorts({ home });
  });
  afterEach(async () => {
    await ports.close();
    await rm(home, { recursive: true, force: true });
  });

  async function freshQueue(p: LocalPorts = ports, visibilityTimeoutSeconds = 30): Promise<string> {
    const q = `local-q-${++n}`;
    await p.queues.create(q, { visibilityTimeoutSeconds });
    return q;
  }

  /** Runs `script` in a child bun process whose module scope has `ports` open on `home` and `emit(value)`. */
  function child(script: string): { proc: Subprocess<"ignore", "pipe", "inherit">; lines: AsyncGenerator<string> } {
    const source = `
      const { openLocalPorts } = await import(${JSON.stringify(LOCAL_INDEX)});
      const ports = await openLocalPorts({ home: ${JSON.stringify(home)} });
      const emit = (value) => process.stdout.write(JSON.stringify(value) + "\\n");
      ${script}
    `;
    const proc = Bun.spawn([process.execPath, "-e", source], { stdout: "pipe", stderr: "inherit", stdin: "ignore" });
    return { proc, lines: readLines(proc.stdout) };
  }

  test("a message held by a killed process comes back with receive count 2", async () => {
    const q = await freshQueue();
    const id = await ports.queues.send(q, "survive the crash");
    const holder = child(`
      const [m] = await ports.queues.receive(${JSON.stringify(q)}, { visibilityTimeoutSeconds: 2, waitSeconds: 5 });
      emit(m);
      await new Promise(() => {}); // hold it until killed
    `);
    const received = JSON.parse((await holder.lines.next()).value as string) as QueueMessage;
    expect(received.id).toBe(id);
    expect(received.receiveCount).toBe(1);
    holder.proc.kill("SIGKILL");
    expect(await holder.proc.exited).not.toBe(0);

    expect(await ports.queues.receive(q)).toEqual([]); // still within the dead process's 2 s
    const [again] = await ports.queues.receive(q, { waitSeconds: 5 });
    expect(again?.id).toBe(id);
    expect(again?.body).toBe("survive the crash");
    expect(again?.receiveCount).toBe(2);
  });

  test("two processes receiving at once never get the same message", async () => {
    const q = await freshQueue(ports, 120);
    const total = 3000;
    for (let i = 0; i < total; i += 10) {
      await ports.queues.sendBatch(q, Array.from({ length: 10 }, (_, j) => ({ body: `m${i + j}` })));
    }
    const go = join(home, "go");
    // Both children start draining at the same moment (a file appearing), so they really compete.
    const drain = `
      emit("ready");
      while (!(await Bun.file(${JSON.stringify(go)}).exists())) await Bun.sleep(5);
      const ids = [];
      for (let empty = 0; empty < 3; ) {
        const got = await ports.queues.receive(${JSON.stringify(q)}, { maxMessages: 1 });
        if (got.length === 0) { empty++; await Bun.sleep(20); continue; }
        for (const m of got) ids.push(m.id);
      }
      emit(ids);
      await ports.close();
    `;
    const workers = [child(drain), child(drain)];
    for (const w of workers) expect(JSON.parse((await w.lines.next()).value as string)).toBe("ready");
    await Bun.write(go, "");
    const results = await Promise.all(workers.map(async (w) => JSON.parse((await w.lines.next()).value as string) as string[]));
    await Promise.all(workers.map((w) => w.proc.exited));
    const all = results.flat();
    expect(all.length).toBe(total);
    expect(new Set(all).size).toBe(total);
    console.log(`concurrent receivers split ${total} messages as ${results.map((r) => r.length).join(" + ")}`);
    const attrs = await ports.queues.attributes(q);
    expect([attrs.visible, attrs.notVisible]).toEqual([0, total]);
  });

  test("a long poll in one process wakes when another process sends", async () => {
    const q = await freshQueue();
    const sender = child(`await Bun.sleep(400); emit(await ports.queues.send(${JSON.stringify(q)}, "from afar"));`);
    const started = performance.now();
    const got = await ports.queues.receive(q, { waitSeconds: 10 });
    const elapsed = performance.now() - started;
    const sentId = JSON.parse((await sender.lines.next()).value as string) as string;
    await sender.proc.exited;
    expect(got.map((m) => m.id)).toEqual([sentId]);
    expect(elapsed).toBeLessThan(9000);
  });

  test("a long poll wakes when a delayed message becomes visible", async () => {
    const q = await freshQueue();
    await ports.queues.send(q, "soon", { delaySeconds: 1 });
    const started = performance.now();
    const got = await ports.queues.receive(q, { waitSeconds: 10 });
    expect(got.map((m) => m.body)).toEqual(["soon"]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
    expect(performance.now() - started).toBeLessThan(9000);
  });

  test("aborting or closing ends a long poll with no messages", async () => {
    const q = await freshQueue();
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 100);
    expect(await ports.queues.receive(q, { waitSeconds: 20, signal: abort.signal })).toEqual([]);
    expect(await ports.queues.receive(q, { waitSeconds: 5, signal: AbortSignal.abort() })).toEqual([]);

    const other = await openLocalPorts({ home });
    const pending = other.queues.receive(q, { waitSeconds: 20 });
    await Bun.sleep(50);
    await other.close();
    expect(await pending).toEqual([]);
  });

  test("a stale receipt handle neither deletes nor moves the newer delivery", async () => {
    const q = await freshQueue();
    await ports.queues.send(q, "x");
    const [first] = await ports.queues.receive(q, { visibilityTimeoutSeconds: 1 });
    await Bun.sleep(1100);
    const [second] = await ports.queues.receive(q, { visibilityTimeoutSeconds: 30 });
    expect(second?.receiveCount).toBe(2);
    await ports.queues.delete(q, first!.receiptHandle); // accepted, as SQS does, but deletes nothing
    expect((await ports.queues.attributes(q)).notVisible).toBe(1);
    let error: unknown;
    await ports.queues.changeVisibility(q, first!.receiptHandle, 0).catch((err) => (error = err));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(await ports.queues.receive(q)).toEqual([]);
    await ports.queues.delete(q, second!.receiptHandle);
    expect((await ports.queues.attributes(q)).notVisible).toBe(0);
  });

  test("an injected clock drives visibility and retention without sleeping", async () => {
    const timed = await openLocalPorts({ home, clock });
    try {
      await timed.queues.create("timed", { visibilityTimeoutSeconds: 3600, retentionSeconds: 7200 });
      await timed.queues.send("timed", "hour");
      const [m] = await timed.queues.receive("timed");
      clock.t += 3599_000;
      expect(await timed.queues.receive("timed")).toEqual([]);
      clock.t += 2_000;
      const [again] = await timed.queues.receive("timed", { visibilityTimeoutSeconds: 60 });
      expect(again?.id).toBe(m!.id);
      expect(again?.receiveCount).toBe(2);
      clock.t += 7200_000; // past retention: dropped
      expect(await timed.queues.receive("timed")).toEqual([]);
      expect(await timed.queues.attributes("timed")).toMatchObject({ visible: 0, notVisible: 0, delayed: 0 });
    } finally {
      await timed.close();
    }
  });

  test("queue limits follow SQS", async () => {
    const q = await freshQueue();
    await expect(ports.queues.send(q, "x", { delaySeconds: 901 })).rejects.toThrow(/delay/);
    await expect(ports.queues.send(q, "x".repeat(256 * 1024 + 1))).rejects.toThrow(/256 KiB/);
    await expect(ports.queues.receive(q, { maxMessages: 11 })).rejects.toThrow(/maxMessages/);
    await expect(ports.queues.create("bad name!")).rejects.toThrow(/queue name/);
    await expect(ports.queues.delete("local-absent", "h")).rejects.toBeInstanceOf(NotFoundError);
  });

  test("tables: numeric keys sort numerically; missing tables are NotFoundError", async () => {
    const { tables } = ports;
    await tables.createTable({ name: "nums", hash: "h", range: "r" });
    for (const r of [10, 2, 1.5, -3, 100]) await tables.put("nums", { h: 1, r });
    const page = await tables.query("nums", { hash: { name: "h", value: 1 }, range: { name: "r", op: "gt", value: 1 } });
    expect(page.items.map((i) => i.r)).toEqual([1.5, 2, 10, 100]);
    expect(await tables.get("nums", { h: "1", r: 2 })).toBeUndefined(); // "1" is not 1
    await expect(tables.get("absent", { h: 1 })).rejects.toBeInstanceOf(NotFoundError);
    await expect(tables.query("nums", { index: "nope", hash: { name: "h", value: 1 } })).rejects.toBeInstanceOf(NotFoundError);
    await expect(tables.update("nums", { h: 1, r: 2 }, { set: { r: 3 } })).rejects.toThrow(/key attribute/);
    await expect(tables.put("nums", { h: 1, r: 5, big: "x".repeat(400 * 1024) })).rejects.toThrow(/400 KB/);
  });

  test("tables: index projections keep keys and included attributes only", async () => {
    const { tables } = ports;
    await tables.createTable({ name: "proj", hash: "id", indexes: [{ name: "by_s", kind: "global", hash: "s", include: ["keep"] }] });
    await tables.put("proj", { id: "a", s: "x", keep: 1, drop: 2 });
    const page = await tables.query("proj", { index: "by_s", hash: { name: "s", value: "x" } });
    expect(page.items).toEqual([{ id: "a", s: "x", keep: 1 }]);
  });

  test("tables: items past their TTL are swept", async () => {
    const timed = await openLocalPorts({ home, clock });
    try {
      await timed.tables.createTable({ name: "ttl", hash: "id", ttlAttribute: "ttl", indexes: [{ name: "g", kind: "global", hash: "g" }] });
      const now = clock.t / 1000;
      await timed.tables.put("ttl", { id: "old", ttl: now + 10, g: "x" });
      await timed.tables.put("ttl", { id: "new", ttl: now + 1000, g: "x" });
      await timed.tables.put("ttl", { id: "forever", g: "x" });
      clock.t += 60_000;
      expect(timed.local.sweepExpiredItems()).toBe(1);
      expect(await timed.tables.get("ttl", { id: "old" })).toBeUndefined();
      const g = await timed.tables.query("ttl", { index: "g", hash: { name: "g", value: "x" } });
      expect(g.items.map((i) => i.id).sort()).toEqual(["forever", "new"]);
    } finally {
      await timed.close();
    }
  });

  test("objects live as files under objects/<bucket>/<key>, written atomically", async () => {
    const { objects } = ports;
    await objects.put("s3://bkt/a/b/c.txt", "content", { contentType: "text/plain", kmsKeyId: "alias/k", metadata: { m: "1" } });
    expect(await readFile(join(home, "objects", "bkt", "a", "b", "c.txt"), "utf8")).toBe("content");
    expect(await readdir(join(home, "objects", ".tmp"))).toEqual([]); // no temp files left behind
    const db = new Database(ports.local.dbPath, { readonly: true });
    expect(db.query("SELECT content_type, kms_key_id, metadata FROM local_object_meta WHERE bucket = 'bkt'").get()).toEqual({
      content_type: "text/plain",
      kms_key_id: "alias/k",
      metadata: '{"m":"1"}',
    });
    db.close();

    // A failed streaming put leaves the previous object in place.
    const failing = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("partial"));
        controller.error(new Error("source broke"));
      },
    });
    await expect(objects.put("s3://bkt/a/b/c.txt", failing)).rejects.toThrow(/source broke/);
    expect(await new Response(await objects.get("s3://bkt/a/b/c.txt")).text()).toBe("content");
    expect(await readdir(join(home, "objects", ".tmp"))).toEqual([]);

    await objects.delete("s3://bkt/a/b/c.txt");
    expect(await readdir(join(home, "objects", "bkt"))).toEqual([]); // empty directories pruned
    await expect(objects.put("s3://bkt/x/../y", "no")).rejects.toThrow(/cannot be stored/);
    await objects.put("s3://bkt/file", "f");
    await expect(objects.put("s3://bkt/file/child", "c")).rejects.toThrow(/both an object and a prefix/);
  });

  test("outboxes: notifications, metrics, events and email are rows to inspect", async () => {
    const lines: string[] = [];
    const logged = await openLocalPorts({ home, log: { debug: (msg) => lines.push(msg) } });
    try {
      const id = await logged.notifications.publish("arn:aws:sns:r:1:topic", "body text", { subject: "subj" });
      await logged.metrics.put("Lava", [{ name: "Jobs", value: 2, unit: "Count", dimensions: { Realm: "r" } }]);
      await logged.eventBus.putEvents([{ source: "lava", detailType: "Job", detail: '{"a":1}' }]);
      await expect(logged.eventBus.putEvents([{ source: "lava", detailType: "Job", detail: "not json" }])).rejects.toThrow(/JSON object/);
      const mailId = await logged.email.send({ from: "a@x", to: ["b@x"], subject: "hi", text: "body", raw: new Uint8Array([1]) });
      const db = new Database(logged.local.dbPath, { readonly: true });
      expect(db.query("SELECT id, topic, subject, message FROM local_notifications").all()).toEqual([
        { id, topic: "arn:aws:sns:r:1:topic", subject: "subj", message: "body text" },
      ]);
      expect(db.query("SELECT namespace, name, value, unit, dimensions FROM local_metrics").all()).toEqual([
        { namespace: "Lava", name: "Jobs", value: 2, unit: "Count", dimensions: '{"Realm":"r"}' },
      ]);
      expect(db.query("SELECT bus, source, detail_type, detail FROM local_events_bus").all()).toEqual([
        { bus: "default", source: "lava", detail_type: "Job", detail: '{"a":1}' },
      ]);
      expect(db.query("SELECT id, sender, recipients, subject, text_body FROM local_email").all()).toEqual([
        { id: mailId, sender: "a@x", recipients: '["b@x"]', subject: "hi", text_body: "body" },
      ]);
      db.close();
      expect(lines.length).toBe(4);
      expect(lines.join("\n")).not.toContain("body text"); // bodies are not logged
    } finally {
      await logged.close();
    }
  });

  test("local KMS: ciphertext names its key, resists tampering, and is bound to its home", async () => {
    const ct = await ports.params.encrypt("alias/a", new TextEncoder().encode("s3cret"));
    expect(new TextDecoder().decode(await ports.params.decrypt(ct))).toBe("s3cret");
    expect(Buffer.from(ct).includes(Buffer.from("alias/a"))).toBe(true);
    const tampered = new Uint8Array(ct);
    tampered[tampered.length - 1]! ^= 1;
    await expect(ports.params.decrypt(tampered)).rejects.toThrow(/does not decrypt/);
    const relabelled = new Uint8Array(ct);
    relabelled[6] = "b".charCodeAt(0); // first byte of the key id
    await expect(ports.params.decrypt(relabelled)).rejects.toThrow(/does not decrypt/);

    const otherHome = await mkdtemp(join(tmpdir(), "lava-local-other-"));
    const other = await openLocalPorts({ home: otherHome });
    try {
      await expect(other.params.decrypt(ct)).rejects.toThrow(/does not decrypt/);
    } finally {
      await other.close();
      await rm(otherHome, { recursive: true, force: true });
    }
  });
});

async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    let at: number;
    while ((at = buffered.indexOf("\n")) >= 0) {
      yield buffered.slice(0, at);
      buffered = buffered.slice(at + 1);
    }
  }
  if (buffered) yield buffered;
}
