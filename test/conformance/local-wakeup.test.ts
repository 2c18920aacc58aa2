/**
 * Cross-process wake-up of the local adapter's long polls (src/adapters/local/wakeup.ts): a process that
 * waits listens on `<home>/wake/<pid>.sock`, senders poke it, dead processes' socket files are removed,
 * and a lost poke is covered by the slower data_version poll. No timing goals: each wait is 10 s and a
 * test only checks that the message came well before that, which no design without a wake-up can pass.
 */
import type { Subprocess } from "bun";
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { openLocalPorts, type LocalPorts } from "../../src/adapters/local/index.ts";

const LOCAL_INDEX = resolve(import.meta.dir, "../../src/adapters/local/index.ts");
/** Well below the 10 s waits below, so a receive that merely timed out (or waited it out) fails. */
const PROMPT_MS = 5000;

interface WaitResult {
  body: string | null;
  ms: number;
  wakeFilesAfter: string[];
}

describe("local adapter: cross-process wake-up", () => {
  let home: string;
  let ports: LocalPorts;
  let wakeDir: string;
  const children: Subprocess[] = [];
  let n = 0;

  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), "lava-wake-"));
    wakeDir = join(home, "wake");
    ports = await openLocalPorts({ home });
  });
  afterEach(async () => {
    for (const proc of children.splice(0)) proc.kill("SIGKILL");
    await ports.close();
    await rm(home, { recursive: true, force: true });
  });

  async function freshQueue(): Promise<string> {
    const q = `wake-q-${++n}`;
    await ports.queues.create(q, { visibilityTimeoutSeconds: 30 });
    return q;
  }

  /** Runs `script` in a child bun process with `ports` open on `home`; its stdout is returned as text. */
  function child(script: string): Subprocess<"ignore", "pipe", "inherit"> {
    const source = `
      const { openLocalPorts } = await import(${JSON.stringify(LOCAL_INDEX)});
      const { readdirSync } = await import("node:fs");
      const ports = await openLocalPorts({ home: ${JSON.stringify(home)} });
      ${script}
    `;
    const proc = Bun.spawn([process.execPath, "-e", source], { stdout: "pipe", stderr: "inherit", stdin: "ignore" });
    children.push(proc);
    return proc;
  }

  /** A child that long-polls `q` for 10 s and prints what it got, how long it took and the wake folder after. */
  function waitingChild(q: string): Subprocess<"ignore", "pipe", "inherit"> {
    return child(`
      const started = performance.now();
      const [m] = await ports.queues.receive(${JSON.stringify(q)}, { waitSeconds: 10 });
      const ms = performance.now() - started;
      await ports.close();
      const wakeFilesAfter = readdirSync(${JSON.stringify(wakeDir)});
      process.stdout.write(JSON.stringify({ body: m?.body ?? null, ms, wakeFilesAfter }));
    `);
  }

  async function resultOf(proc: Subprocess<"ignore", "pipe", "inherit">): Promise<WaitResult> {
    const text = await new Response(proc.stdout).text();
    expect(await proc.exited).toBe(0);
    return JSON.parse(text) as WaitResult;
  }

  /** Resolves once `file` exists (the child is waiting), failing after 10 s. */
  async function appears(file: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!existsSync(file)) {
      if (Date.now() > deadline) throw new Error(`${file} never appeared`);
      await Bun.sleep(10);
    }
  }

  test("a long poll in another process returns with the message soon after a send", async () => {
    const q = await freshQueue();
    const waiter = waitingChild(q);
    const socket = join(wakeDir, `${waiter.pid}.sock`);
    await appears(socket);

    await ports.queues.send(q, "wake up");

    const result = await resultOf(waiter);
    expect(result.body).toBe("wake up");
    expect(result.ms).toBeLessThan(PROMPT_MS);
    // The socket closes when the wait ends, not only when the process exits.
    expect(result.wakeFilesAfter).not.toContain(`${waiter.pid}.sock`);
    expect(await ports.queues.attributes(q)).toMatchObject({ visible: 0, notVisible: 1 });
  });

  test("changeVisibility to 0 wakes a long poll in another process", async () => {
    const q = await freshQueue();
    await ports.queues.send(q, "again");
    const [held] = await ports.queues.receive(q);
    const waiter = waitingChild(q);
    await appears(join(wakeDir, `${waiter.pid}.sock`));

    await ports.queues.changeVisibility(q, held!.receiptHandle, 0);

    const result = await resultOf(waiter);
    expect(result.body).toBe("again");
    expect(result.ms).toBeLessThan(PROMPT_MS);
  });

  test("a waiter whose poke is lost still gets the message through the fallback poll", async () => {
    const q = await freshQueue();
    const waiter = waitingChild(q);
    const socket = join(wakeDir, `${waiter.pid}.sock`);
    await appears(socket);
    rmSync(socket); // the sender now finds nobody to poke

    await ports.queues.send(q, "found anyway");

    const result = await resultOf(waiter);
    expect(result.body).toBe("found anyway");
    expect(result.ms).toBeLessThan(PROMPT_MS);
  });

  test("a send removes socket files of dead processes and keeps those of live ones", async () => {
    const q = await freshQueue();
    // A live process that is not listening (as if between waits with its file not yet removed).
    const alive = Bun.spawn(["sleep", "60"], { stdin: "ignore" });
    children.push(alive);
    const dead = Bun.spawn([process.execPath, "-e", "setTimeout(() => {}, 60_000)"], { stdin: "ignore" });
    const deadPid = dead.pid;
    dead.kill("SIGKILL");
    await dead.exited;
    await leaveSocketFile(join(wakeDir, `${deadPid}.sock`));
    await leaveSocketFile(join(wakeDir, `${alive.pid}.sock`));
    expect(readdirSync(wakeDir).sort()).toEqual([`${alive.pid}.sock`, `${deadPid}.sock`].sort());

    await ports.queues.send(q, "tidy");

    expect(readdirSync(wakeDir)).toEqual([`${alive.pid}.sock`]);
    expect((await ports.queues.receive(q))[0]?.body).toBe("tidy");
  });

  test("a process whose long poll ended exits on its own and leaves no socket file", async () => {
    const q = await freshQueue();
    // No close(): an idle wake socket must not keep the event loop alive.
    const proc = child(`
      const [m] = await ports.queues.receive(${JSON.stringify(q)}, { waitSeconds: 1 });
      process.stdout.write(JSON.stringify({ got: m ?? null }));
    `);
    const exited = await Promise.race([proc.exited, Bun.sleep(15_000).then(() => "still running")]);
    expect(exited).toBe(0);
    expect(await new Response(proc.stdout).text()).toBe(JSON.stringify({ got: null }));
    expect(readdirSync(wakeDir)).toEqual([]);
  });
});

/** Leaves a socket file nobody listens on: a process binds it and is killed before it can clean up. */
async function leaveSocketFile(path: string): Promise<void> {
  const proc = Bun.spawn(
    [
      process.execPath,
      "-e",
      `const { mkdirSync } = await import("node:fs");
       mkdirSync(${JSON.stringify(resolve(path, ".."))}, { recursive: true });
       Bun.listen({ unix: ${JSON.stringify(path)}, socket: { data() {} } });
       process.kill(process.pid, "SIGKILL");`,
    ],
    { stdin: "ignore", stderr: "inherit" },
  );
  await proc.exited;
  if (!existsSync(path)) throw new Error(`could not leave a socket file at ${path}`);
}
