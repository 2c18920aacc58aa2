/**
 * The worker on a local realm whose storage fails under it: a full disk (the final event waits, its
 * message kept, until space is freed) and a database file deleted while the worker runs (it stops).
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLocalPorts, type LocalPorts } from "../../src/adapters/local/index.ts";
import { createRealm } from "../../src/core/realm-setup.ts";
import { dispatchJob } from "../../src/core/dispatch.ts";
import { realmTable } from "../../src/core/names.ts";
import type { JobType } from "../../src/core/job-contract.ts";
import { StoreLostError } from "../../src/ports/index.ts";
import { needs } from "../support/availability.ts";
import { canMountSmallDisk, mountSmallDisk, type SmallDisk } from "../support/full-disk.ts";
import { eventsOf, localRealm, makeWorker, silentLogger, statuses, type LocalRealm } from "./support.ts";

const job = { job_id: "ref/fill", type: "fill", worker: "core", payload: null, enabled: true, owner: "me", description: "fills the disk" };

async function until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

const present = needs("mounting a tmpfs (root on Linux)", canMountSmallDisk(), "full-disk tests fill a small tmpfs");

describe.if(present)("a full disk under the realm", () => {
  let disk: SmallDisk;
  let ports: LocalPorts;
  let tmp: string;

  beforeEach(async () => {
    disk = mountSmallDisk(4 * 1024 * 1024);
    tmp = mkdtempSync(join(tmpdir(), "lava-full-tmp-"));
    ports = await openLocalPorts({ home: join(disk.dir, "home") });
    await createRealm(ports, { realm: "ref", workers: ["core"], bucket: "lava-ref" }, silentLogger());
    await ports.tables.put(realmTable("ref", "jobs"), job);
  });
  afterEach(async () => {
    await ports.close();
    disk.dispose();
    rmSync(tmp, { recursive: true, force: true });
  });

  test("the final event waits for space, logged once as 'disk full'; the message is kept until it is written", async () => {
    let filler = "";
    const fill: JobType = {
      name: "fill",
      async run() {
        filler = disk.fill();
        return { exit_status: 0 };
      },
    };
    const runId = await dispatchJob(ports, { realm: "ref", jobId: "ref/fill" });
    const { worker, log } = makeWorker(ports, tmp, {}, { jobTypes: { fill } });
    await worker.start();
    const done = worker.run();
    await until("the disk-full line", () => log.records.some((r) => r.message.includes("Disk full")));
    await Bun.sleep(1500); // several retries meanwhile
    expect(worker.visibility.count).toBe(1); // still held: not deleted, not handed back
    rmSync(filler);
    expect(await done).toBe(0);
    await worker.cleanup();

    const [item] = await eventsOf(ports, "ref/fill");
    expect(item?.run_id).toBe(runId);
    expect(item?.status).toBe("complete");
    expect(statuses(item!).at(-1)).toBe("complete");
    expect(await ports.queues.attributes("lava-ref-core")).toMatchObject({ visible: 0, notVisible: 0 });
    const full = log.records.filter((r) => r.message.includes("Disk full"));
    expect(full.length).toBe(1);
    expect(full[0]!.fields).toMatchObject({ job_id: "ref/fill", run_id: runId });
    expect(log.records.some((r) => r.message.startsWith("Could not log"))).toBe(false);
  });

  test("messages that cannot be taken for lack of space wait: the worker neither exits nor gives up", async () => {
    await ports.tables.put(realmTable("ref", "jobs"), { ...job, job_id: "ref/log", type: "log" });
    await dispatchJob(ports, { realm: "ref", jobId: "ref/log" });
    const filler = disk.fill();
    let receives = 0;
    const counted = { ...ports, queues: Object.assign(Object.create(ports.queues), { receive: (...a: Parameters<typeof ports.queues.receive>) => (receives++, ports.queues.receive(...a)) }) };
    const { worker, log } = makeWorker(counted, tmp, { waitSeconds: 0 });
    await worker.start();
    let settled = false;
    const done = worker.run().finally(() => (settled = true));
    await until("more failed receives than the worker's usual 5 attempts", () => receives > 6 || settled);
    expect(settled).toBe(false);
    expect(log.records.filter((r) => r.message.includes("Disk full: cannot take messages")).length).toBe(1);
    rmSync(filler);
    expect(await done).toBe(0);
    await worker.cleanup();
    const [item] = await eventsOf(ports, "ref/log");
    expect(item?.status).toBe("complete");
  });
});

describe("the database deleted under a running worker", () => {
  let realm: LocalRealm;
  beforeEach(async () => {
    realm = await localRealm();
  });
  afterEach(async () => {
    await realm.close();
  });

  test("the worker stops with StoreLostError instead of serving from the unlinked file", async () => {
    const { worker } = makeWorker(realm.ports, realm.tmp, { batch: false, waitSeconds: 1, sleepSeconds: 0 });
    await worker.start();
    const done = worker.run();
    await Bun.sleep(300);
    for (const f of ["lava.db", "lava.db-wal", "lava.db-shm"]) rmSync(join(realm.home, f), { force: true });
    const outcome = await Promise.race([done.then((code) => `exited ${code}`, (err: unknown) => err), Bun.sleep(8000).then(() => "still running")]);
    if (outcome === "still running") {
      await worker.hardStop();
      await done.catch(() => {});
    }
    expect(outcome).toBeInstanceOf(StoreLostError);
    expect((outcome as Error).message).toContain("was deleted while open");
    await worker.cleanup();
  });
});
