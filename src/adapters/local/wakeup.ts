/**
 * Wakes long-polling receivers without busy-spinning.
 *
 * - Same process: `send` and `changeVisibility(…, 0)` call `notify`, which resolves waiters on that queue
 *   at once, across every LocalQueue open on the same database file in this process.
 * - Other processes: while anyone waits, one timer per connection reads `PRAGMA data_version` every
 *   POLL_MS. SQLite changes that number only when another connection commits, and reading it touches
 *   only the shared-memory WAL index, so an idle poll costs microseconds and no disk I/O. When it
 *   changes, every waiter re-checks its queue.
 *
 * Why not fs.watch on the `-wal` file: it would fire for every write by anyone (including our own table
 * writes), inotify is not available on every filesystem a home may live on (network mounts, some
 * containers), and the WAL file can be truncated or recreated by checkpoints, silently ending the watch.
 * A 200 ms poll of a counter is simple, portable and adds at most 200 ms latency between processes,
 * which is small next to a worker's job times and to SQS's own delivery latency.
 */
import type { Database } from "bun:sqlite";

export const POLL_MS = 200;

interface Waiter {
  queue: string;
  wake(): void;
}

const wakersByPath = new Map<string, Set<Wakeup>>();

export class Wakeup {
  private readonly waiters = new Set<Waiter>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private dataVersion = -1;

  constructor(
    private readonly db: Database,
    private readonly path: string,
  ) {
    let peers = wakersByPath.get(path);
    if (!peers) wakersByPath.set(path, (peers = new Set()));
    peers.add(this);
  }

  /** Wakes waiters on `queue` in every connection of this process to the same database file. */
  notify(queue: string): void {
    for (const peer of wakersByPath.get(this.path) ?? []) peer.wakeQueue(queue);
  }

  /** Resolves on notify(queue), on a commit by another process, after `ms`, or on abort. */
  wait(queue: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timeout);
        signal?.removeEventListener("abort", done);
        this.waiters.delete(waiter);
        if (this.waiters.size === 0) this.stopPolling();
        resolve();
      };
      const waiter: Waiter = { queue, wake: done };
      const timeout = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener("abort", done, { once: true });
      this.waiters.add(waiter);
      this.startPolling();
    });
  }

  /** Ends every wait (used on close). */
  close(): void {
    for (const waiter of [...this.waiters]) waiter.wake();
    wakersByPath.get(this.path)?.delete(this);
    this.stopPolling();
  }

  private wakeQueue(queue: string): void {
    for (const waiter of [...this.waiters]) if (waiter.queue === queue) waiter.wake();
  }

  private startPolling(): void {
    if (this.timer) return;
    this.dataVersion = this.readDataVersion();
    this.timer = setInterval(() => {
      const version = this.readDataVersion();
      if (version === this.dataVersion) return;
      this.dataVersion = version;
      for (const waiter of [...this.waiters]) waiter.wake();
    }, POLL_MS);
  }

  private stopPolling(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private readDataVersion(): number {
    return this.db.query<{ data_version: number }, []>("PRAGMA data_version").get()?.data_version ?? 0;
  }
}
