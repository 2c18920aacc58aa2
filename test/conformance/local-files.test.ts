/**
 * The local realm's files: private modes, secrets sealed at rest, deleted rows overwritten, and a database
 * file deleted or replaced under an open home noticed instead of written into.
 */
import { Database } from "bun:sqlite";
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLocalPorts, type LocalPorts } from "../../src/adapters/local/index.ts";
import { StoreLostError } from "../../src/ports/index.ts";
import { commandWorks, needs } from "../support/availability.ts";

let base: string;
let home: string;
let opened: LocalPorts[] = [];
let warnings: string[] = [];

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), "lava-local-files-"));
  home = join(base, "home");
  warnings = [];
});
afterEach(async () => {
  for (const p of opened) await p.close();
  opened = [];
  rmSync(base, { recursive: true, force: true });
});

async function open(): Promise<LocalPorts> {
  const ports = await openLocalPorts({ home, log: { debug() {}, warning: (msg) => warnings.push(msg) } });
  opened.push(ports);
  return ports;
}

async function closeAll(): Promise<void> {
  for (const p of opened) await p.close();
  opened = [];
}

function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

/** Every byte the home's database holds on disk (main file and WAL). */
function databaseBytes(): Buffer {
  const parts = ["lava.db", "lava.db-wal"].map((f) => join(home, f)).filter(existsSync);
  return Buffer.concat(parts.map((p) => readFileSync(p)));
}

describe("file modes", () => {
  test("a new home is 0700; the database, its WAL and SHM, and kms.key 0600; the objects tree 0700 with 0600 files", async () => {
    const old = process.umask(0o022);
    try {
      const ports = await open();
      await ports.objects.put("s3://bkt/a/b.txt", "object");
      await ports.params.encrypt("alias/k", new Uint8Array([1])); // creates kms.key
      await ports.tables.createTable({ name: "t", hash: "id" });
      await ports.tables.put("t", { id: "x" });
      expect(modeOf(home)).toBe(0o700);
      for (const f of ["lava.db", "lava.db-wal", "lava.db-shm", "kms.key"]) expect(`${f} ${modeOf(join(home, f)).toString(8)}`).toBe(`${f} 600`);
      for (const d of ["objects", "objects/bkt", "objects/bkt/a", "objects/.tmp", "wake"]) {
        if (existsSync(join(home, d))) expect(`${d} ${modeOf(join(home, d)).toString(8)}`).toBe(`${d} 700`);
      }
      expect(modeOf(join(home, "objects/bkt/a/b.txt"))).toBe(0o600);
    } finally {
      process.umask(old);
    }
  });

  test("a home from before (group and world readable) is made private on open, with a warning per file", async () => {
    const old = process.umask(0o022);
    try {
      await open();
      await closeAll();
      chmodSync(home, 0o755);
      chmodSync(join(home, "lava.db"), 0o644);
      chmodSync(join(home, "objects"), 0o755);
      await open();
      expect([modeOf(home), modeOf(join(home, "lava.db")), modeOf(join(home, "objects"))]).toEqual([0o700, 0o600, 0o700]);
      expect(warnings.find((w) => w.startsWith(`${home} was mode 0755`))).toBeDefined();
      expect(warnings.find((w) => w.startsWith(`${join(home, "lava.db")} was mode 0644`))).toBeDefined();
    } finally {
      process.umask(old);
    }
  });

  const setpriv = commandWorks(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "true"]);
  test.if(process.getuid?.() === 0 && needs("setpriv (util-linux), run as root", setpriv))(
    "a home owned by another user is refused by an ordinary user",
    async () => {
      mkdirSync(home, { mode: 0o700 });
      chownSync(base, 65534, 65534); // so the unprivileged child can reach the home's parent
      const script = `
        const { openLocalPorts } = await import(${JSON.stringify(join(import.meta.dir, "../../src/adapters/local/index.ts"))});
        try { await openLocalPorts({ home: ${JSON.stringify(home)} }); console.log("opened"); }
        catch (err) { console.log(err.message); }
      `;
      const proc = Bun.spawnSync(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "-e", script], {
        stdout: "pipe",
        stderr: "pipe",
        env: { ...process.env, HOME: base },
      });
      const out = proc.stdout.toString();
      expect(out).toContain(`LAVA_HOME ${home} is owned by uid 0, not by this user (65534): refusing to open it`);
      expect(existsSync(join(home, "lava.db"))).toBe(false);
    },
  );
});

describe("secrets at rest", () => {
  const SECRET = "smtp-pass-9f3a7c";
  const WEBHOOK = "https://hooks.slack.example/T000/B000/secret-token-77";

  test("SecureString parameters and secrets are not in the database file; plain parameters are; all read back", async () => {
    const ports = await open();
    ports.local.putParameter("/lava/ref/smtp", SECRET, { secure: true });
    ports.local.putSecret("lava/ref/slack", WEBHOOK);
    ports.local.putParameter("/lava/ref/plain", "plain-value-31d9");
    expect(await ports.params.getParameter("/lava/ref/smtp", { decrypt: true })).toBe(SECRET);
    expect(await ports.params.getSecret("lava/ref/slack")).toBe(WEBHOOK);
    const bytes = databaseBytes();
    expect(bytes.includes(SECRET)).toBe(false);
    expect(bytes.includes(WEBHOOK)).toBe(false);
    expect(bytes.includes("plain-value-31d9")).toBe(true);
    await closeAll();
    const again = await open();
    expect(await again.params.getParameter("/lava/ref/smtp")).toBe(SECRET);
    expect(await again.params.getSecret("lava/ref/slack")).toBe(WEBHOOK);
  });

  test("values an earlier version stored in clear still read, and are sealed when the home opens", async () => {
    await open();
    await closeAll();
    const raw = new Database(join(home, "lava.db"));
    raw.run("INSERT INTO local_parameters (name, value, secure, updated_at) VALUES ('/old/secure', ?, 1, 0)", [SECRET]);
    raw.run("INSERT INTO local_parameters (name, value, secure, updated_at) VALUES ('/old/plain', 'plain-old', 0, 0)");
    raw.run("INSERT INTO local_secrets (id, value, updated_at) VALUES ('old/secret', ?, 0)", [WEBHOOK]);
    raw.close();

    const ports = await open();
    expect(await ports.params.getParameter("/old/secure", { decrypt: true })).toBe(SECRET);
    expect(await ports.params.getParameter("/old/plain")).toBe("plain-old");
    expect(await ports.params.getSecret("old/secret")).toBe(WEBHOOK);
    await closeAll();
    const check = new Database(join(home, "lava.db"), { readonly: true });
    const kinds = check.query("SELECT name, typeof(value) AS kind FROM local_parameters ORDER BY name").all();
    expect(kinds).toEqual([
      { name: "/old/plain", kind: "text" },
      { name: "/old/secure", kind: "blob" },
    ]);
    expect(check.query("SELECT typeof(value) AS kind FROM local_secrets").get()).toEqual({ kind: "blob" });
    check.close();
    expect(databaseBytes().includes(SECRET)).toBe(false);
    expect(databaseBytes().includes(WEBHOOK)).toBe(false);
  });
});

test("a deleted message's body does not linger in free pages (secure_delete)", async () => {
  const ports = await open();
  await ports.queues.create("q");
  const body = JSON.stringify({ parameters: { password: "dispatch-secret-5e1b" } });
  await ports.queues.send("q", body);
  const [m] = await ports.queues.receive("q");
  await ports.queues.delete("q", m!.receiptHandle);
  await closeAll(); // the last connection checkpoints the WAL into the database file
  expect(databaseBytes().includes("dispatch-secret-5e1b")).toBe(false);
});

describe("the database file deleted or replaced under an open home", () => {
  test("deleted: writes and receives fail with StoreLostError instead of going to the unlinked file", async () => {
    const ports = await open();
    await ports.queues.create("q");
    await ports.tables.createTable({ name: "t", hash: "id" });
    for (const f of ["lava.db", "lava.db-wal", "lava.db-shm"]) rmSync(join(home, f), { force: true });
    await expect(ports.tables.put("t", { id: "a" })).rejects.toBeInstanceOf(StoreLostError);
    await expect(ports.queues.receive("q")).rejects.toBeInstanceOf(StoreLostError);
    await expect(ports.queues.send("q", "x")).rejects.toThrow(/was deleted while open/);
  });

  test("replaced by another file: StoreLostError", async () => {
    const ports = await open();
    await ports.tables.createTable({ name: "t", hash: "id" });
    const other = join(base, "other");
    const second = await openLocalPorts({ home: other });
    await second.close();
    renameSync(join(other, "lava.db"), join(home, "lava.db"));
    await expect(ports.tables.update("t", { id: "a" }, { set: { v: 1 } })).rejects.toThrow(/replaced by another file/);
  });
});
