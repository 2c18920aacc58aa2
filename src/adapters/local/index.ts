/**
 * The `local` backend, lava's embedded default: a realm home directory holding
 * - `lava.db`: one SQLite database (WAL) with the tables, the queues, parameters, secrets and the
 *   outboxes of notifications, metrics, events and email;
 * - `objects/<bucket>/<key>`: the object store;
 * - `kms.key`: the key of the local stand-in for KMS (see kms.ts: not real key management).
 * - `wake/<pid>.sock`: unix sockets of processes waiting in a long poll, poked by senders (see wakeup.ts).
 *
 * The home is private to its user (home.ts: 0700, files 0600; one of another user is refused), SecureString
 * parameters and secrets are stored encrypted with the local KMS key, and deleted rows are overwritten.
 *
 * Several worker processes on one machine may open the same home at once: every read-modify-write is a
 * `BEGIN IMMEDIATE` transaction and SQLite serialises them.
 */
import { join, resolve } from "node:path";
import type { Ports } from "../../ports/index.ts";
import { flushWrites, mapStorageErrors, onGroupCommit, openDatabase, systemClock, type Clock } from "./db.ts";
import { Checkpointer } from "./checkpoint.ts";
import { privateDir, privateFile, securePrivateHome } from "./home.ts";
import { LocalKms } from "./kms.ts";
import { LocalObjectStore } from "./objects.ts";
import { LocalQueue } from "./queue.ts";
import { LocalEmail, LocalEventBus, LocalMetrics, LocalNotifications, LocalParameters, type DebugLog } from "./services.ts";
import { LocalTableStore } from "./tables.ts";
import { Wakeup } from "./wakeup.ts";
import { LocalCredentials } from "./credentials.ts";
import { bunSqlite } from "../common/sqlite-driver.ts";

export type { Clock } from "./db.ts";
export type { DebugLog } from "./services.ts";

export interface LocalPortsOptions {
  /** The realm home directory; created when absent. */
  home: string;
  /** Time source for timestamps, visibility and retention. Default: the system clock. Tests inject one. */
  clock?: Clock;
  /**
   * Where notification / metric / event / email debug lines go. Default: stderr when
   * `LAVA_LOCAL_DEBUG` is set, otherwise nowhere (the tables are the record). Warnings (a home or file
   * made private on open) go to `warning`, default stderr.
   */
  log?: DebugLog;
}

/** Local-only operations that have no port in AWS terms (parameters and secrets are set outside lava there). */
export interface LocalAdmin {
  readonly home: string;
  readonly dbPath: string;
  readonly objectsRoot: string;
  putParameter(name: string, value: string, opts?: { secure?: boolean }): void;
  putSecret(id: string, value: string): void;
  /** Deletes table items whose TTL has passed (also done on open and every 10 minutes of writes). */
  sweepExpiredItems(): number;
}

export interface LocalPorts extends Ports {
  readonly backend: "local";
  readonly local: LocalAdmin;
}

export async function openLocalPorts(opts: LocalPortsOptions): Promise<LocalPorts> {
  const home = resolve(opts.home);
  const objectsRoot = join(home, "objects");
  const dbPath = join(home, "lava.db");
  const log = opts.log ?? defaultLog();
  const warn = (msg: string) => (log.warning ?? warnOnStderr)(msg);
  mapStorageErrors(dbPath, () => {
    securePrivateHome(home, warn);
    privateDir(objectsRoot, warn);
    privateFile(join(home, "kms.key"), { warn });
  });
  const db = openDatabase(dbPath, warn);
  const checkpointer = new Checkpointer(db, dbPath);
  onGroupCommit(db, () => checkpointer.committed());
  const clock = opts.clock ?? systemClock;
  const wakeup = new Wakeup(db, dbPath);
  const tables = new LocalTableStore(db, clock);
  const params = new LocalParameters(db, clock, new LocalKms(home));
  params.encryptPlaintext();
  const queues = new LocalQueue(db, clock, wakeup);
  // No TTL sweep here: it is a write transaction and a scan of every TTL table's items (events and state
  // grow with the realm's history) in every command's start, a dispatcher's included. A process sweeps
  // just before its first table write and every 10 minutes after (tables.ts maybeSweepTtl); until then
  // expired items may still be read, as DynamoDB's own lazy TTL allows.
  let closed = false;
  return {
    backend: "local",
    tables,
    queues,
    objects: new LocalObjectStore(db, objectsRoot),
    notifications: new LocalNotifications(db, clock, log),
    metrics: new LocalMetrics(db, clock, log),
    params,
    eventBus: new LocalEventBus(db, clock, log),
    email: new LocalEmail(db, clock, log),
    credentials: new LocalCredentials(),
    sqlite: bunSqlite,
    local: {
      home,
      dbPath,
      objectsRoot,
      putParameter: (name, value, o) => params.putParameter(name, value, o),
      putSecret: (id, value) => params.putSecret(id, value),
      sweepExpiredItems: () => tables.sweepExpired(),
    },
    async close() {
      if (closed) return;
      closed = true;
      queues.close();
      wakeup.close();
      // Writes queued in this turn still commit: their callers are waiting for them.
      flushWrites(db);
      checkpointer.close();
      db.close(false);
    },
  };
}

function warnOnStderr(msg: string): void {
  process.stderr.write(`lava-local: WARNING: ${msg}\n`);
}

function defaultLog(): DebugLog {
  if (!process.env.LAVA_LOCAL_DEBUG) return { debug() {} };
  return { debug: (msg) => process.stderr.write(`lava-local: DEBUG: ${msg}\n`) };
}
