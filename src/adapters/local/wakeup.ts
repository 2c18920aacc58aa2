/**
 * Wakes long-polling receivers without busy-spinning.
 *
 * - Same process: `send` and `changeVisibility(…, 0)` call `notify`, which wakes waiters on that queue at
 *   once, across every LocalQueue open on the same database file in this process.
 * - Other processes: a process with a long poll waiting listens on a unix-domain socket
 *   `<home>/wake/<pid>.sock`. After its commit, `notify` connects to every other socket in that folder and
 *   writes the queue name; the listener wakes that queue's waiters. A socket file whose connection is
 *   refused and whose pid is dead was left by a killed process, and the sender deletes it.
 * - Fallback: while anyone waits, one timer per connection reads `PRAGMA data_version` (SQLite changes it
 *   only when another connection commits; reading it touches only the shared-memory WAL index). A poke can
 *   be lost (socket file deleted, sender killed between commit and poke, home path too long for a socket
 *   address), so this poll bounds the damage to FALLBACK_POLL_MS and a message is never missed.
 *
 * No message is missed between a receiver's empty check and its wait: the receiver arms a Watch (socket
 * listening, waiter registered, data_version noted) and checks the queue again before it waits, so a
 * commit either lands before that check or is announced to the registered waiter.
 *
 * Why not fs.watch on the `-wal` file: it fires for every write by anyone, inotify is missing on some
 * filesystems, and checkpoints truncate or recreate the WAL file, silently ending the watch.
 */
import type { Database } from "bun:sqlite";
import type { UnixSocketListener } from "bun";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";

/** data_version poll interval when this process could not open its wake socket. */
export const POLL_MS = 200;
/** data_version poll interval behind a listening wake socket: only lost pokes wait this long. */
export const FALLBACK_POLL_MS = 1000;
/** A sender gives up on pokes after this long; a stuck receiver must not stall `send`. */
const POKE_TIMEOUT_MS = 250;
const SOCKET_NAME = /^(\d+)\.sock$/;

/** A registered interest in one queue, kept across the receive loop's iterations. */
export interface Watch {
  /** Resolves when the queue may have a message, after `ms`, on abort, or at once if woken since the last wait. */
  wait(ms: number, signal?: AbortSignal): Promise<void>;
  /** Ends the interest; closes the wake socket when nobody else in this process waits on the home. */
  release(): void;
}

const wakersByPath = new Map<string, Set<Wakeup>>();

export class Wakeup {
  private readonly waiters = new Set<Waiter>();
  private readonly wakeDir: string;
  private timer: ReturnType<typeof setInterval> | undefined;
  private dataVersion = -1;
  private closed = false;
  private holdsSocket = false;

  constructor(
    private readonly db: Database,
    private readonly path: string,
  ) {
    this.wakeDir = join(dirname(path), "wake");
    let peers = wakersByPath.get(path);
    if (!peers) wakersByPath.set(path, (peers = new Set()));
    peers.add(this);
  }

  /** Registers a waiter on `queue`. The caller must check the queue after arming and before waiting. */
  arm(queue: string): Watch {
    const waiter = new Waiter(queue, () => this.remove(waiter));
    if (this.closed) {
      waiter.wake();
      return waiter;
    }
    this.waiters.add(waiter);
    if (this.waiters.size === 1) {
      this.holdsSocket = WakeSocket.acquire(this.path, this.wakeDir);
      this.startPolling(this.holdsSocket ? FALLBACK_POLL_MS : POLL_MS);
    }
    return waiter;
  }

  /**
   * Announces a commit on `queue`: wakes waiters in this process, then pokes other processes' sockets.
   * Resolves when the pokes are handed to the kernel, so a sender may exit right after.
   */
  async notify(queue: string): Promise<void> {
    for (const peer of wakersByPath.get(this.path) ?? []) peer.wakeQueue(queue);
    await pokeOtherProcesses(this.wakeDir, queue);
  }

  /** Ends every wait (used on close). */
  close(): void {
    this.closed = true;
    for (const waiter of [...this.waiters]) {
      waiter.wake();
      this.remove(waiter);
    }
    wakersByPath.get(this.path)?.delete(this);
  }

  wakeQueue(queue: string): void {
    for (const waiter of this.waiters) if (waiter.queue === queue) waiter.wake();
  }

  wakeAllQueues(): void {
    for (const waiter of this.waiters) waiter.wake();
  }

  private remove(waiter: Waiter): void {
    if (!this.waiters.delete(waiter) || this.waiters.size > 0) return;
    this.stopPolling();
    if (this.holdsSocket) WakeSocket.release(this.path);
    this.holdsSocket = false;
  }

  private startPolling(intervalMs: number): void {
    this.dataVersion = this.readDataVersion();
    this.timer = setInterval(() => {
      const version = this.readDataVersion();
      if (version === this.dataVersion) return;
      this.dataVersion = version;
      this.wakeAllQueues();
    }, intervalMs);
  }

  private stopPolling(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private readDataVersion(): number {
    return this.db.query<{ data_version: number }, []>("PRAGMA data_version").get()?.data_version ?? 0;
  }
}

class Waiter implements Watch {
  /** Set when woken while not waiting, so the next wait returns at once instead of missing the wake. */
  private pending = false;
  private resolveWait: (() => void) | undefined;

  constructor(
    readonly queue: string,
    private readonly onRelease: () => void,
  ) {}

  wake(): void {
    if (this.resolveWait) this.resolveWait();
    else this.pending = true;
  }

  wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.pending || signal?.aborted) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timeout);
        signal?.removeEventListener("abort", done);
        this.resolveWait = undefined;
        resolve();
      };
      const timeout = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener("abort", done, { once: true });
      this.resolveWait = done;
    });
  }

  release(): void {
    this.resolveWait?.();
    this.onRelease();
  }
}

/**
 * This process's listening socket for one realm home, shared by every Wakeup on that database and open
 * only while at least one of them has a waiter.
 */
class WakeSocket {
  private static readonly byPath = new Map<string, WakeSocket>();
  private static exitHookInstalled = false;
  private users = 0;

  private constructor(
    private readonly listener: UnixSocketListener<{ pending: string }>,
    readonly socketPath: string,
  ) {}

  /** Opens (or shares) the socket for `dbPath`; false when it cannot be opened and callers must poll faster. */
  static acquire(dbPath: string, wakeDir: string): boolean {
    let socket = WakeSocket.byPath.get(dbPath);
    if (!socket) {
      const opened = WakeSocket.open(dbPath, wakeDir);
      if (!opened) return false;
      WakeSocket.byPath.set(dbPath, (socket = opened));
    }
    socket.users++;
    return true;
  }

  static release(dbPath: string): void {
    const socket = WakeSocket.byPath.get(dbPath);
    if (!socket || --socket.users > 0) return;
    WakeSocket.byPath.delete(dbPath);
    socket.listener.stop(true); // also unlinks the socket file
    removeQuietly(socket.socketPath);
  }

  private static open(dbPath: string, wakeDir: string): WakeSocket | undefined {
    const socketPath = join(wakeDir, `${process.pid}.sock`);
    try {
      mkdirSync(wakeDir, { recursive: true, mode: 0o700 });
      // A file with our pid is from a dead process that had the same pid: ours to replace.
      rmSync(socketPath, { force: true });
      const listener = Bun.listen<{ pending: string }>({
        unix: socketPath,
        socket: {
          open: (s) => void (s.data = { pending: "" }),
          data: (s, chunk) => {
            s.data.pending = wakeNamedQueues(dbPath, s.data.pending + chunk.toString());
          },
          close: (s) => void (s.data?.pending && wakeAll(dbPath)),
          error: () => {},
        },
      });
      // Waits hold the event loop open through their timers; an idle socket must not keep a process alive.
      listener.unref();
      WakeSocket.installExitHook();
      return new WakeSocket(listener, socketPath);
    } catch {
      // For example a home path longer than a socket address allows (about 100 bytes): fall back to polling.
      return undefined;
    }
  }

  private static installExitHook(): void {
    if (WakeSocket.exitHookInstalled) return;
    WakeSocket.exitHookInstalled = true;
    process.once("exit", () => {
      for (const socket of WakeSocket.byPath.values()) removeQuietly(socket.socketPath);
    });
  }
}

/** Wakes the queues named by the complete lines of `text`; returns the incomplete rest. */
function wakeNamedQueues(dbPath: string, text: string): string {
  const lines = text.split("\n");
  const rest = lines.pop() ?? "";
  for (const queue of lines) {
    for (const peer of wakersByPath.get(dbPath) ?? []) peer.wakeQueue(queue);
  }
  return rest;
}

/** A poke cut short names no queue reliably; waking everyone costs one read per waiter. */
function wakeAll(dbPath: string): void {
  for (const peer of wakersByPath.get(dbPath) ?? []) peer.wakeAllQueues();
}

async function pokeOtherProcesses(wakeDir: string, queue: string): Promise<void> {
  let names: string[];
  try {
    names = readdirSync(wakeDir);
  } catch {
    return; // no folder: nobody has ever waited on this home
  }
  const pokes: Promise<void>[] = [];
  for (const name of names) {
    const pid = Number(SOCKET_NAME.exec(name)?.[1]);
    if (pid && pid !== process.pid) pokes.push(poke(join(wakeDir, name), pid, queue));
  }
  if (pokes.length === 0) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, POKE_TIMEOUT_MS)));
  await Promise.race([Promise.allSettled(pokes), timeout]);
  clearTimeout(timer);
}

/** Connect, write the queue name, close. Errors are ignored: the data_version poll covers a lost poke. */
async function poke(socketPath: string, pid: number, queue: string): Promise<void> {
  try {
    const socket = await Bun.connect({ unix: socketPath, socket: { data: () => {}, error: () => {} } });
    socket.end(`${queue}\n`);
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (code === "ECONNREFUSED" && !isAlive(pid)) removeQuietly(socketPath);
  }
}

function removeQuietly(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // Not ours to remove (permissions): it costs senders one refused connection each.
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: unknown }).code === "EPERM"; // alive, owned by another user
  }
}
