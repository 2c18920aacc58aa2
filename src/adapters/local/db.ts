/**
 * The one SQLite database of a local realm home: every table, queue, parameter and outbox lives here.
 *
 * WAL mode lets readers run while one writer commits, and `busy_timeout` makes a second writer (another
 * worker process) wait for the lock instead of failing. Every read-modify-write runs in
 * `BEGIN IMMEDIATE`, which takes the write lock up front, so two processes never both act on what they
 * read (for example, never both receive the same queue message).
 *
 * The file and its `-wal`/`-shm` companions are 0600 (SQLite gives the companions the database's mode),
 * and `secure_delete` overwrites deleted content, so a dispatch's parameters do not linger in free pages.
 * A full disk is a StorageFullError (retryable), whether SQLite says "database or disk is full" or, as it
 * does when it cannot grow the `-shm` file at open, "disk I/O error". A database file deleted or replaced
 * while open is noticed before each write and each receive (device and inode of the path against those
 * seen at open) and is a StoreLostError: SQLite would otherwise carry on writing into the unlinked file.
 */
import { Database } from "bun:sqlite";
import { statfsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { StorageFullError, StoreLostError, UnavailableError, ValidationError } from "../../ports/errors.ts";
import { privateFile, type Warn } from "./home.ts";

/** How long a writer waits for another process's transaction before SQLite reports "database is locked". */
export const BUSY_TIMEOUT_MS = 15_000;

/** Milliseconds since the epoch. Injected so tests can move time without sleeping. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

const SCHEMA = `
CREATE TABLE IF NOT EXISTS local_tables (
  name TEXT PRIMARY KEY,
  spec TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
-- Key columns have no declared type, so SQLite keeps numbers as numbers and text as text: numbers sort
-- numerically and text by UTF-8 bytes (BINARY collation), the orders DynamoDB uses for N and S keys.
-- Tables without a range key store '' in rk.
CREATE TABLE IF NOT EXISTS local_items (
  tbl TEXT NOT NULL,
  hk NOT NULL,
  rk NOT NULL,
  item TEXT NOT NULL,
  size INTEGER NOT NULL,
  PRIMARY KEY (tbl, hk, rk)
) WITHOUT ROWID;
-- One row per item per secondary index it appears in (sparse: items lacking an index key are absent).
CREATE TABLE IF NOT EXISTS local_index_entries (
  tbl TEXT NOT NULL,
  idx TEXT NOT NULL,
  ihk NOT NULL,
  irk NOT NULL,
  hk NOT NULL,
  rk NOT NULL,
  PRIMARY KEY (tbl, idx, ihk, irk, hk, rk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS local_index_entries_item ON local_index_entries (tbl, hk, rk);
CREATE TRIGGER IF NOT EXISTS local_items_deleted AFTER DELETE ON local_items BEGIN
  DELETE FROM local_index_entries WHERE tbl = old.tbl AND hk = old.hk AND rk = old.rk;
END;

CREATE TABLE IF NOT EXISTS local_queues (
  name TEXT PRIMARY KEY,
  visibility_timeout INTEGER NOT NULL,
  retention INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS local_messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  queue TEXT NOT NULL,
  body TEXT NOT NULL,
  sent_at INTEGER NOT NULL,
  visible_at INTEGER NOT NULL,
  receive_count INTEGER NOT NULL DEFAULT 0,
  receipt TEXT
);
CREATE INDEX IF NOT EXISTS local_messages_ready ON local_messages (queue, visible_at, seq);
CREATE UNIQUE INDEX IF NOT EXISTS local_messages_receipt ON local_messages (receipt) WHERE receipt IS NOT NULL;
-- Retention is applied on every receive: without this index that is a scan of the whole queue.
CREATE INDEX IF NOT EXISTS local_messages_sent ON local_messages (queue, sent_at);

CREATE TABLE IF NOT EXISTS local_object_meta (
  bucket TEXT NOT NULL,
  key TEXT NOT NULL,
  content_type TEXT,
  kms_key_id TEXT,
  metadata TEXT,
  etag TEXT,
  PRIMARY KEY (bucket, key)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS local_parameters (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  secure INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS local_secrets (
  id TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS local_notifications (
  id TEXT PRIMARY KEY,
  topic TEXT NOT NULL,
  subject TEXT,
  message TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS local_metrics (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  namespace TEXT NOT NULL,
  name TEXT NOT NULL,
  value REAL NOT NULL,
  unit TEXT,
  dimensions TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS local_events_bus (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  bus TEXT NOT NULL,
  source TEXT NOT NULL,
  detail_type TEXT NOT NULL,
  detail TEXT NOT NULL,
  resources TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS local_email (
  id TEXT PRIMARY KEY,
  sender TEXT NOT NULL,
  recipients TEXT NOT NULL,
  cc TEXT NOT NULL,
  bcc TEXT NOT NULL,
  reply_to TEXT NOT NULL,
  subject TEXT NOT NULL,
  text_body TEXT,
  html_body TEXT,
  raw BLOB,
  region TEXT,
  configuration_set TEXT,
  at INTEGER NOT NULL
);
`;

/** The schema's identity, kept in the file's `user_version` (a positive 31-bit number). */
const SCHEMA_VERSION = Number(BigInt(Bun.hash(SCHEMA)) & 0x7fffffffn) || 1;

/** Opens (creating when absent) the realm database at `path` and brings its schema up to date. */
export function openDatabase(path: string, warn?: Warn): Database {
  return mapStorageErrors(path, () => {
    for (const file of [path, `${path}-wal`, `${path}-shm`]) privateFile(file, { create: file === path, warn });
    const db = new Database(path, { create: true, strict: true });
    try {
      db.run(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      db.run("PRAGMA secure_delete = ON");
      // Switching to WAL needs a moment of exclusive access; when several processes open a fresh file at
      // once, one of them may see SQLITE_BUSY here even with busy_timeout set, so retry briefly.
      retryBusy(() => db.run("PRAGMA journal_mode = WAL"));
      db.run("PRAGMA synchronous = NORMAL");
      // The schema is brought up to date under the write lock only when the file was last brought up to
      // date by another SCHEMA text (or never): `user_version` holds the text's hash. Every process opens
      // the file, most of them short-lived commands, and this skips the lock and ~20 statements for them.
      if (db.query<{ user_version: number }, []>("PRAGMA user_version").get()?.user_version !== SCHEMA_VERSION) {
        retryBusy(() => db.transaction(() => db.run(`${SCHEMA}\nPRAGMA user_version = ${SCHEMA_VERSION};`)).immediate());
      }
    } catch (err) {
      db.close(false);
      throw err;
    }
    identities.set(db, { path, ...fileIdentity(path) });
    return db;
  });
}

/**
 * Runs `fn` in a `BEGIN IMMEDIATE` transaction: the write lock is held from the first statement. SQLite's
 * own errors leave as port errors; the port's retry policy (src/core/retry.ts) decides about a busy one.
 */
export function writeTransaction<T>(db: Database, fn: () => T): T {
  const path = assertDatabaseFile(db);
  return mapStorageErrors(path, () => {
    try {
      return db.transaction(fn).immediate();
    } catch (err) {
      throw mapSqliteError(err);
    }
  });
}

/**
 * Group commit: the port calls that write on the hot path (item writes, queue sends, receives, deletes,
 * visibility changes) queue their work here, and everything queued in one turn of the event loop commits
 * in one `BEGIN IMMEDIATE` transaction. A job's events write, the delete of a finished message and the next
 * receive then cost one commit between them instead of one each: measured (bench/local.ts), a commit of
 * one small write costs ~75 µs on this machine's ext4, ten writes in one commit ~20 µs each.
 *
 * Each call's work runs in its own savepoint, so one that throws (a failed condition, an unknown queue)
 * undoes only its own changes and only its caller sees the error. A caller's promise settles after the
 * commit: nothing is reported done before it is durable as any other commit. A failure of the transaction
 * itself (busy after busy_timeout, a full disk, a lost file) reaches every caller of the group, and none of
 * their work is kept.
 */
export function groupWrite<T>(db: Database, fn: () => T): Promise<T> {
  return groupOf(db).add(fn);
}

/** Calls `fn` after each commit of a group (checkpoint.ts counts them). */
export function onGroupCommit(db: Database, fn: () => void): void {
  groupOf(db).onCommit = fn;
}

function groupOf(db: Database): WriteGroup {
  let group = groups.get(db);
  if (!group) groups.set(db, (group = new WriteGroup(db)));
  return group;
}

/** Runs what is queued for `db` now (before the database closes). */
export function flushWrites(db: Database): void {
  groups.get(db)?.flush();
}

interface QueuedWrite {
  fn: () => unknown;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

const groups = new WeakMap<Database, WriteGroup>();

class WriteGroup {
  private queued: QueuedWrite[] = [];
  private scheduled = false;
  onCommit: (() => void) | undefined;

  constructor(private readonly db: Database) {}

  private path(): string {
    return identities.get(this.db)?.path ?? "";
  }

  add<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queued.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      // setImmediate, not a microtask: the writes of every job slot that finished in this turn join in.
      setImmediate(() => this.flush());
    });
  }

  flush(): void {
    this.scheduled = false;
    const batch = this.queued;
    if (batch.length === 0) return;
    this.queued = [];
    if (batch.length === 1) return this.flushOne(batch[0]!);
    let outcomes: ({ value: unknown } | { error: unknown })[];
    try {
      outcomes = writeTransaction(this.db, () =>
        batch.map((w) => {
          try {
            // Nested in the open transaction, bun:sqlite's transaction() is a savepoint.
            return { value: this.db.transaction(w.fn)() };
          } catch (error) {
            return { error: storageFull(error, this.path()) ?? mapSqliteError(error) };
          }
        }),
      );
    } catch (err) {
      for (const w of batch) w.reject(err);
      return;
    }
    this.onCommit?.();
    batch.forEach((w, i) => {
      const outcome = outcomes[i]!;
      if ("error" in outcome) w.reject(outcome.error);
      else w.resolve(outcome.value);
    });
  }

  /**
   * A write alone in its group needs no savepoint: if it throws, the transaction rolls back and held
   * nothing else. Two statements fewer per commit (SAVEPOINT, RELEASE) on the commits a quiet worker and
   * every command make. Its error is the one the group path gives it (writeTransaction maps the same way).
   */
  private flushOne(w: QueuedWrite): void {
    let value: unknown;
    try {
      value = writeTransaction(this.db, w.fn);
    } catch (err) {
      w.reject(err);
      return;
    }
    this.onCommit?.();
    w.resolve(value);
  }
}

/** What the database file was at open: the path, and the device and inode it named then. */
interface Identity {
  path: string;
  dev: number;
  ino: number;
}

const identities = new WeakMap<Database, Identity>();

/**
 * Throws StoreLostError when the database's path no longer names the file opened (deleted, or replaced by
 * another file). Returns the path. Cheap (one stat): called before every write and every receive.
 */
export function assertDatabaseFile(db: Database): string {
  const opened = identities.get(db);
  if (!opened) throw new StoreLostError("local realm database is not open");
  let now: { dev: number; ino: number } | undefined;
  try {
    now = fileIdentity(opened.path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  if (!now) throw new StoreLostError(`local realm database ${opened.path} was deleted while open; restart to use a new one`);
  if (now.dev !== opened.dev || now.ino !== opened.ino) {
    throw new StoreLostError(`local realm database ${opened.path} was replaced by another file while open; restart to use it`);
  }
  return opened.path;
}

function fileIdentity(path: string): { dev: number; ino: number } {
  const st = statSync(path);
  return { dev: st.dev, ino: st.ino };
}

/** Runs `fn`, turning "no room left" failures of the files at `path` into StorageFullError. */
export function mapStorageErrors<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw storageFull(err, path) ?? err;
  }
}

/** The StorageFullError `err` stands for, if it is one: SQLITE_FULL, ENOSPC, or an I/O error on a full disk. */
export function storageFull(err: unknown, path: string): StorageFullError | undefined {
  if (err instanceof StorageFullError) return err;
  const code = String((err as { code?: unknown } | null)?.code ?? "");
  const full = code === "SQLITE_FULL" || code === "ENOSPC" || code === "EDQUOT" || ((code.startsWith("SQLITE_IOERR") || code === "SQLITE_CANTOPEN") && noRoomAt(path));
  if (!full) return undefined;
  return new StorageFullError(`disk full: no room to write ${path} (${(err as Error).message})`, { cause: err });
}

/** Below this much free space (or with no free inode) an I/O error is taken for a full disk. */
const LOW_SPACE_BYTES = 1024 * 1024;

function noRoomAt(path: string): boolean {
  try {
    const fs = statfsSync(dirname(path));
    return fs.bavail * fs.bsize < LOW_SPACE_BYTES || fs.ffree === 0;
  } catch {
    return false;
  }
}

/** SQLite's result code (`SQLITE_BUSY`, `SQLITE_CONSTRAINT_PRIMARYKEY`, ...), or undefined for any other error. */
function sqliteCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_") ? code : undefined;
}

/**
 * SQLite errors as port errors: a database still locked by another process after `busy_timeout` is
 * unavailable (a later attempt may get the lock); a broken constraint is a bad request. Port errors
 * thrown inside a transaction, and anything that is not SQLite's, pass unchanged.
 */
export function mapSqliteError(err: unknown): unknown {
  const code = sqliteCode(err);
  if (!code) return err;
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
    return new UnavailableError(`local database busy (${code})`, { cause: err });
  }
  if (code.startsWith("SQLITE_CONSTRAINT")) return new ValidationError(`local database refused the write (${code})`, { cause: err });
  return err;
}

/** Switching a fresh file to WAL races other processes opening it at once (start-up only, not a port call). */
function retryBusy<T>(fn: () => T, attempts = 5): T {
  for (let i = 1; ; i++) {
    try {
      return fn();
    } catch (err) {
      const code = sqliteCode(err);
      const busy = code !== undefined && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"));
      if (!busy || i >= attempts) throw mapSqliteError(err);
      Bun.sleepSync(20 * i);
    }
  }
}
