/**
 * A local realm on a full disk: every failing write is a StorageFullError that says "disk full" (at open
 * too, where SQLite itself only says "disk I/O error"), and the same write succeeds once space is freed.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { openLocalPorts, type LocalPorts } from "../../src/adapters/local/index.ts";
import { StorageFullError } from "../../src/ports/index.ts";
import { needs } from "../support/availability.ts";
import { canMountSmallDisk, mountSmallDisk, type SmallDisk } from "../support/full-disk.ts";
import { lava } from "../cli/run-lava.ts";

const present = needs("mounting a tmpfs (root on Linux)", canMountSmallDisk(), "full-disk tests fill a small tmpfs");

describe.if(present)("local realm on a full disk", () => {
  let disk: SmallDisk;
  let home: string;
  let ports: LocalPorts | undefined;

  beforeEach(() => {
    disk = mountSmallDisk(2 * 1024 * 1024);
    home = join(disk.dir, "home");
  });
  afterEach(async () => {
    await ports?.close();
    ports = undefined;
    disk.dispose();
  });

  async function rejection(p: Promise<unknown>): Promise<Error> {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    if (!err) throw new Error("expected a rejection");
    return err;
  }

  test("a table write is StorageFullError ('disk full'); the same write lands once space is freed", async () => {
    ports = await openLocalPorts({ home });
    await ports.tables.createTable({ name: "events", hash: "id" });
    const filler = disk.fill();
    const err = await rejection(ports.tables.update("events", { id: "run" }, { set: { status: "complete", pad: "x".repeat(100_000) } }));
    expect(err).toBeInstanceOf(StorageFullError);
    expect(err.message).toStartWith("disk full");
    rmSync(filler);
    await ports.tables.update("events", { id: "run" }, { set: { status: "complete", pad: "x".repeat(100_000) } });
    expect((await ports.tables.get("events", { id: "run" }))?.status).toBe("complete");
  });

  test("an object put is StorageFullError and leaves no partial file", async () => {
    ports = await openLocalPorts({ home });
    const filler = disk.fill();
    const err = await rejection(ports.objects.put("s3://bkt/big", new Uint8Array(256 * 1024)));
    expect(err).toBeInstanceOf(StorageFullError);
    expect(readdirSync(join(home, "objects", ".tmp"))).toEqual([]);
    rmSync(filler);
    await ports.objects.put("s3://bkt/big", new Uint8Array(256 * 1024));
  });

  test("opening a home on a full disk says 'disk full', not 'disk I/O error'", async () => {
    await (await openLocalPorts({ home })).close();
    disk.fill();
    const err = await rejection(openLocalPorts({ home }));
    expect(err).toBeInstanceOf(StorageFullError);
    expect(err.message).toContain("disk full");

    const r = await lava(["worker", "-r", "ref", "-w", "core", "--root", "--batch"], { LAVA_BACKEND: "local", LAVA_HOME: home, LAVA_ARGV0: undefined });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("disk full");
  });
});
