/**
 * WAL checkpoints off the event loop, for processes that write a lot (a busy worker).
 *
 * SQLite checkpoints the WAL into the database file from inside a commit once the WAL holds
 * `wal_autocheckpoint` pages (1000 by default), and with synchronous=NORMAL a checkpoint syncs the WAL
 * and then the database file: on this machine's disk two fsyncs of 1–3 ms each. Measured with the local
 * adapter's own receive and delete transactions, commits on a connection that never checkpoints cost half
 * as much (bench/local.ts, docs/BENCHMARKS.md). So after every CHECKPOINT_EVERY commits a thread with its
 * own connection runs a PASSIVE checkpoint, which waits for no reader or writer, and the event loop's
 * connection raises its own threshold to BACKSTOP_PAGES: it checkpoints only if the thread falls behind
 * or is gone. A process that commits less than CHECKPOINT_EVERY times (a dispatcher, a CLI command) never
 * starts the thread and checkpoints as before.
 *
 * Durability is unchanged: a commit is in the WAL when it returns, whoever checkpoints it later.
 */
import type { Database } from "bun:sqlite";
import { BUSY_TIMEOUT_MS } from "./db.ts";

/** Commits between two checkpoints by the thread. */
export const CHECKPOINT_EVERY = 50;
/** The event loop's own threshold while the thread runs: about 16 MiB of WAL. */
const BACKSTOP_PAGES = 4000;
const DEFAULT_PAGES = 1000;

// Inline, so the compiled executable needs no extra entry point for it. It only opens the file and
// checkpoints (never creates: a deleted database is the owner's StoreLostError to report); a failure
// ends the thread, and the owner falls back to checkpoints in its commits.
const THREAD_SOURCE = `
import { Database } from "bun:sqlite";
let db;
self.onmessage = (e) => {
  db ??= new Database(e.data.path, { readwrite: true, create: false });
  db.run("PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}");
  db.run("PRAGMA synchronous = NORMAL");
  db.query("PRAGMA wal_checkpoint(PASSIVE)").get();
};
`;

export class Checkpointer {
  private commits = 0;
  private thread: Worker | undefined;
  private gone = false;

  constructor(
    private readonly db: Database,
    private readonly path: string,
  ) {}

  /** Counts a commit; every CHECKPOINT_EVERY commits asks the thread for a checkpoint. */
  committed(): void {
    if (this.gone || ++this.commits < CHECKPOINT_EVERY) return;
    this.commits = 0;
    this.thread ??= this.start();
    this.thread?.postMessage({ path: this.path });
  }

  close(): void {
    this.gone = true;
    this.thread?.terminate();
    this.thread = undefined;
  }

  private start(): Worker | undefined {
    let thread: Worker;
    try {
      thread = new Worker(URL.createObjectURL(new Blob([THREAD_SOURCE], { type: "application/javascript" })));
    } catch {
      this.gone = true;
      return undefined;
    }
    // An idle checkpointer must not keep a process alive.
    thread.unref();
    thread.addEventListener("error", () => this.fallBack());
    thread.addEventListener("close", () => this.fallBack());
    this.db.run(`PRAGMA wal_autocheckpoint = ${BACKSTOP_PAGES}`);
    return thread;
  }

  /** The thread is gone: checkpoints go back into this connection's commits. */
  private fallBack(): void {
    if (this.gone) return;
    this.gone = true;
    this.thread = undefined;
    try {
      this.db.run(`PRAGMA wal_autocheckpoint = ${DEFAULT_PAGES}`);
    } catch {
      // The database is closed already: nothing left to checkpoint from here.
    }
  }
}
