/**
 * The worker: takes dispatch messages from its queue and runs them in a bounded pool of job slots
 * (the original's `worker-NN` threads), with an event writer, an optional heartbeat and metrics.
 *
 * Delivery rules (docs/WORKER.md):
 * - at most `threads` messages are held at once: the worker asks the queue for no more messages than
 *   it has free slots, and only when a slot is free; each received message goes straight to a slot;
 * - a held message stays invisible while its job runs (VisibilityKeeper), so it is never redelivered
 *   to another worker while this one is alive;
 * - a message is deleted only after its outcome is recorded (its run's events written, or given up and
 *   logged); rejected messages are deleted after the rejection is logged; deletes that become due together
 *   share a request (deleter.ts), and the message keeps its slot until its delete is done;
 * - soft stop (SIGHUP/SIGINT): no more receives; the poll in flight ends by itself (at most `--wait` s) and
 *   what it returns, like any message not yet started, is made visible again at once; running jobs
 *   finish; exit 0;
 * - hard stop (second signal, SIGTERM): job process groups are killed, every held message is made
 *   visible again at once, exit 143.
 */
import { join } from "node:path";
import { isRetryable, NotFoundError, PortError, StorageFullError, type Item, type Ports, type QueueMessage } from "../../ports/index.ts";
import type { LavaConfig } from "../config.ts";
import type { Logger } from "../log.ts";
import { workerQueueName } from "../names.ts";
import { EventWriter } from "../events.ts";
import { JobSpecError, jobSpecFromItem, loadJobSpec, loadRealmItem, readJobItems, type JobSpec } from "../job-spec.ts";
import type { JobType, RealmInfo } from "../job-contract.ts";
import type { ActionKind } from "../../actions/types.ts";
import { MessageRejected, parseDispatchMessage, type DispatchRequest, type RejectionRecord } from "./message.ts";
import { JobRunFailed, runJob, type RunServices } from "./job-run.ts";
import { sleepUnlessAborted } from "../sleep.ts";
import { POLICIES, retry, retryingPorts, unretried } from "../retry.ts";
import { VisibilityKeeper } from "./visibility.ts";
import { MessageDeleter } from "./deleter.ts";
import { RenderPool } from "./render-pool.ts";
import { parseIsoTimestamp } from "../pyformat.ts";
import { trackSecrets } from "../secrets.ts";
import { ensurePrivateDir, octal } from "../private-dir.ts";
import { acceptedDispatchParameters } from "../jinja-flag.ts";
import { fsp } from "../fs-promises.ts";

export interface WorkerOptions {
  realm: string;
  worker: string;
  /** Queue name; default `lava-<realm>-<worker>`. */
  queue?: string;
  /** Job slots (`-t`), default 5. */
  threads: number;
  /** Long-poll seconds (`--wait`), 0..20, default 10. */
  waitSeconds: number;
  /** Sleep after an empty poll (`-s`), default 10. */
  sleepSeconds: number;
  /** Receive-count cap (`--retries`): a message received more than retries+1 times is dropped; <0 disables. Default 2. */
  retries: number;
  /** Heartbeat period in seconds (`-b`), 0 = off. */
  heartbeatSeconds: number;
  /** Exit when a poll returns nothing (`--batch`). */
  batch: boolean;
  /** Handlers' dev mode (`--dev`). */
  dev: boolean;
}

/** What the worker needs from outside; the CLI supplies the real ones, tests may substitute. */
export interface WorkerDeps {
  ports: Ports;
  log: Logger;
  /** Built with the realm's `config` map once the realm item is read. */
  makeConfig(realmConfig: Record<string, unknown>): LavaConfig;
  jobType(name: string): Promise<JobType | undefined>;
  actionKind(name: string): Promise<ActionKind | undefined>;
  loadState: RunServices["loadState"];
  hostname: string;
  instanceId: string | null;
  pid: number;
  /** Tests: called after a message is accepted, before its run starts (a soft stop may arrive here). */
  beforeStart?(req: DispatchRequest): Promise<void>;
}

export const EXIT_HARD_STOP = 143;
const HARD_STOP_GRACE_MS = 2000;
/** When an infrastructure failure stops a message before its run, it comes back this soon. */
const TRANSIENT_RETRY_SECONDS = 10;
/** How often a worker held up by a full disk tries to receive again. */
const DISK_FULL_RETRY_MS = 2000;

type SlotState = "idle" | "preparing" | "running";

/** Job items read ahead for the messages of one receive: the item (undefined = no such job) or why not. */
type Lookahead = Map<string, Promise<{ item: Item | undefined } | { error: unknown }>>;

/** A received message, parsed once: the request, or the rejection its slot will log. */
interface Received {
  m: QueueMessage;
  parsed: { req: DispatchRequest } | { rejected: unknown };
}

export class Worker {
  readonly queue: string;
  config!: LavaConfig;
  realmInfo!: RealmInfo;
  workerTmp!: string;
  events!: EventWriter;
  visibility!: VisibilityKeeper;
  deleter!: MessageDeleter;
  private readonly slots: SlotState[];
  private readonly running = new Set<Promise<void>>();
  /**
   * A ref'd timer held while `running` is not empty. A promise holds no handle of its own: a run waiting on
   * something that holds none either (a bug, such as an unref'd thread's answer) would otherwise let the
   * event loop empty, and the process exit 0 with the run unfinished and its message in flight. With it,
   * such a run shows as a stuck run (still extended, seen in the heartbeat) that a stop can end.
   */
  private keepAlive: ReturnType<typeof setInterval> | undefined;
  private slotFreed: (() => void) | undefined;
  private softStopping = false;
  /** A failed read-ahead is logged as a warning once, then at debug level; it never turns reading ahead off. */
  private warnedReadAhead = false;
  /** The ports beneath any retrying: the worker's own loops (receive, events, deletes) apply their policies on them. */
  private raw!: Ports;
  /** Wakes the loop from its sleeps when a stop begins. */
  private readonly wake = new AbortController();
  /** The receive in flight, if any. */
  private polling: Promise<QueueMessage[]> | undefined;
  private readonly hardAbort = new AbortController();
  private services!: RunServices;
  /** The hard stop's hand-back of held messages; the process must not exit before it completes. */
  private releasing: Promise<void> | undefined;
  /** Templates render here, off the event loop (one thread per busy slot at most). */
  readonly renders: RenderPool;
  /** Messages dropped, rejected, run: for tests and the heartbeat. */
  readonly stats = { received: 0, rejected: 0, dropped: 0, runs: 0, released: 0 };

  constructor(
    readonly opts: WorkerOptions,
    readonly deps: WorkerDeps,
  ) {
    this.queue = opts.queue || workerQueueName(opts.realm, opts.worker);
    this.slots = Array.from({ length: opts.threads }, () => "idle" as SlotState);
    this.renders = new RenderPool(opts.threads, deps.log);
  }

  get log(): Logger {
    return this.deps.log;
  }

  /** Slot names as the original's thread names. */
  slotName(i: number): string {
    return `worker-${String(i).padStart(2, "0")}`;
  }

  get hardStopSignal(): AbortSignal {
    return this.hardAbort.signal;
  }

  get isStopping(): boolean {
    return this.softStopping || this.hardAbort.signal.aborted;
  }

  /** Slots busy preparing (received, not started): the heartbeat's `internal.qlen`. */
  get waiting(): number {
    return this.slots.filter((s) => s === "preparing").length;
  }

  get busy(): number {
    return this.slots.filter((s) => s !== "idle").length;
  }

  /** Start-up steps 5–7 of the original: realm item, config, worker tmp dir, event writer. */
  async start(): Promise<void> {
    this.raw = unretried(this.deps.ports);
    // Everything a run does on tables and queues (realm, state, connections, child jobs, dispatches) is
    // retried under the one policy, and a hard stop ends the waiting; secrets a run reads are learnt as
    // they are read, and cut from logs, events and error text.
    const ports = retryingPorts(trackSecrets(this.raw), { signal: this.hardAbort.signal });
    const realm = await loadRealmItem(ports, this.opts.realm);
    this.config = this.deps.makeConfig(realm.config);
    // Templates see the whole entry (x-* keys included), as the original passes it: render.ts, realmEntry.
    this.realmInfo = realm;
    // A `.` in the worker name is kept; the original's Path.with_suffix would replace it (platform.md §4.2).
    // Checked level by level: the tmp area sits in a directory other users can write to (private-dir.ts).
    const tmp = ensurePrivateDir(this.config.str("TMPDIR"), [this.opts.realm, `${this.opts.worker}.${this.deps.pid}`]);
    this.workerTmp = tmp.path;
    for (const f of tmp.fixed) this.log.warning(`${f.path} was mode ${octal(f.from)}: made private (0700)`, { event_type: "worker" });
    this.events = new EventWriter({
      ports: this.raw,
      realm: this.opts.realm,
      worker: this.opts.worker,
      hostname: this.deps.hostname,
      instanceId: this.deps.instanceId,
      ttlSeconds: this.config.optionalSeconds("EVENT_TTL"),
      log: this.log.child({ thread: "event" }),
      stopSignal: this.hardAbort.signal,
    });
    let timeout = 30;
    try {
      timeout = (await ports.queues.attributes(this.queue)).visibilityTimeoutSeconds || 30;
    } catch (err) {
      if (err instanceof NotFoundError) throw new PortError(`No such queue: ${this.queue}`, { cause: err });
      this.log.warning(`Cannot read attributes of ${this.queue}: ${(err as Error).message}; assuming a ${timeout}s visibility timeout`, {
        event_type: "worker",
      });
    }
    // An extension failing is retried by the next one; a release that fails still returns the message later.
    this.visibility = new VisibilityKeeper(this.raw.queues, this.queue, timeout, this.log);
    this.deleter = new MessageDeleter({ queues: this.raw.queues, queue: this.queue, log: this.log, held: () => this.busy });
    this.services = {
      ports,
      config: this.config,
      realmInfo: this.realmInfo,
      worker: this.opts.worker,
      workerTmp: this.workerTmp,
      dev: this.opts.dev,
      events: this.events,
      hardStop: this.hardAbort.signal,
      jobType: this.deps.jobType,
      actionKind: this.deps.actionKind,
      loadState: this.deps.loadState,
      renderer: (req) => this.renders.render(req),
    };
  }

  /**
   * Soft stop: finish what runs, release what has not started. Idempotent. The poll in flight is not
   * aborted: an abandoned long poll stays open on the queue's side and can still take a message, which
   * would then stay invisible for a whole visibility timeout. Letting it end costs at most `--wait`
   * seconds, and whatever it returns is handed back at once (run loop).
   */
  softStop(): void {
    if (this.softStopping) return;
    this.stopTakingWork();
  }

  /** Hard stop: kill running jobs, hand every held message back to the queue at once. */
  async hardStop(): Promise<void> {
    this.releasing ??= this.handBack();
    await this.releasing;
  }

  /**
   * A long poll abandoned by the client stays open on the queue's side and can still take a message —
   * including one we hand back. So a hard stop lets the current poll end (at most `--wait` seconds;
   * whatever it returns is handed back too) before making the held messages visible.
   */
  private async handBack(): Promise<void> {
    this.stopTakingWork();
    this.hardAbort.abort();
    this.renders.close(); // a render in progress fails its run now instead of delaying the stop
    await this.polling?.catch(() => []);
    await this.visibility?.releaseAll();
  }

  private stopTakingWork(): void {
    this.softStopping = true;
    this.wake.abort();
    this.deleter?.stop();
    this.slotFreed?.();
  }

  /** The poll loop; resolves with the exit status once stopped and drained. */
  async run(): Promise<number> {
    this.log.info("Worker ready ...", { event_type: "worker" });
    while (!this.isStopping) {
      const free = this.opts.threads - this.busy;
      if (free <= 0) {
        await this.waitForFreeSlot();
        continue;
      }
      this.log.debug(`Polling ${this.queue} for up to ${Math.min(10, free)} message(s)`, { event_type: "worker" });
      this.polling = this.receive(Math.min(10, free));
      const messages = await this.polling;
      this.polling = undefined;
      this.log.debug(`Received ${messages.length} message(s)`, { event_type: "worker" });
      if (this.isStopping) {
        await this.releaseUnstarted(messages);
        break;
      }
      const received = messages.map((m) => ({ m, parsed: this.parse(m) }));
      const lookahead = this.readJobsAhead(received);
      for (const r of received) this.accept(r, lookahead);
      if (messages.length === 0) {
        if (this.opts.batch) {
          this.log.info("No more messages in batch -- finishing", { event_type: "worker" });
          break;
        }
        if (this.opts.sleepSeconds > 0) this.log.debug(`Queue empty: sleeping ${this.opts.sleepSeconds}s`, { event_type: "worker" });
        if (this.opts.sleepSeconds > 0) await sleepUnlessAborted(this.opts.sleepSeconds * 1000, this.wake.signal);
      }
    }
    return this.finish();
  }

  private async finish(): Promise<number> {
    if (this.hardAbort.signal.aborted) return this.finishHard();
    this.log.info("Waiting for worker threads to complete their work before finishing", { event_type: "worker" });
    this.deleter.stop();
    await Promise.allSettled([...this.running]);
    if (this.hardAbort.signal.aborted) return this.finishHard();
    await this.events.drain();
    this.renders.close();
    this.log.info("Finishing", { event_type: "worker" });
    return 0;
  }

  /** Gives aborted handlers a moment to kill their process groups before the process exits. */
  private async finishHard(): Promise<number> {
    await Promise.race([Promise.allSettled([...this.running]), Bun.sleep(HARD_STOP_GRACE_MS)]);
    await this.releasing;
    this.renders.close();
    // Every held message is back on the queue: a run that ignored the stop holds nothing worth waiting for.
    this.letGo();
    return EXIT_HARD_STOP;
  }

  /** Removes the worker tmp dir (exit clean-up). */
  async cleanup(): Promise<void> {
    this.renders.close();
    this.letGo();
    if (this.workerTmp) await fsp().rm(this.workerTmp, { recursive: true, force: true }).catch(() => {});
  }

  private waitForFreeSlot(): Promise<void> {
    return new Promise((resolve) => {
      this.slotFreed = () => {
        this.slotFreed = undefined;
        resolve();
      };
    });
  }

  /**
   * ReceiveMessage under `POLICIES.receive` (5 attempts, as the original); gives up by throwing, and the
   * worker exits. A permanent error (no such queue, access denied, a lost store) is thrown at once. A full
   * disk (local realm) does not count: the worker waits for space, since exiting would give up the
   * outcomes of the runs it holds.
   */
  private async receive(max: number): Promise<QueueMessage[]> {
    const once = async (): Promise<QueueMessage[]> => {
      try {
        return await this.raw.queues.receive(this.queue, {
          maxMessages: max,
          waitSeconds: this.opts.waitSeconds,
          // The worker's own hold, not the queue's current attribute (visibility.ts).
          visibilityTimeoutSeconds: this.visibility.holdSeconds,
        });
      } catch (err) {
        if (!(err instanceof StorageFullError)) this.log.warning(`receive from ${this.queue}: ${(err as Error).message}`, { event_type: "worker" });
        throw err;
      }
    };
    let diskFull = false;
    for (;;) {
      try {
        return await retry(once, POLICIES.receive, { signal: this.wake.signal });
      } catch (err) {
        if (this.wake.signal.aborted) return [];
        if (err instanceof StorageFullError) {
          if (!diskFull) this.log.error(`Disk full: cannot take messages from ${this.queue} until space is freed`, { event_type: "worker" });
          diskFull = true;
          if (!(await sleepUnlessAborted(DISK_FULL_RETRY_MS, this.wake.signal))) return [];
          continue;
        }
        if (!isRetryable(err)) throw err;
        throw new PortError(`receive from ${this.queue}: Too many failed attempts - abort`, { cause: err });
      }
    }
  }

  private async releaseUnstarted(messages: QueueMessage[]): Promise<void> {
    await Promise.allSettled(messages.map((m) => this.release(m)));
  }

  private async release(m: QueueMessage, seconds = 0, fields: { job_id?: string; run_id?: string } = {}): Promise<void> {
    this.visibility.drop(m.id);
    this.stats.released++;
    try {
      await this.raw.queues.changeVisibility(this.queue, m.receiptHandle, seconds);
    } catch (err) {
      // Not lost: the message still comes back when its visibility timeout runs out.
      this.log.warning(`Could not release message ${m.id}: ${(err as Error).message}`, { event_type: "worker", ...fields });
    }
  }

  private parse(m: QueueMessage): Received["parsed"] {
    try {
      return { req: parseDispatchMessage(m.body, this.opts.realm, this.opts.worker) };
    } catch (rejected) {
      return { rejected };
    }
  }

  private overRetryLimit(m: QueueMessage): boolean {
    return this.opts.retries >= 0 && m.receiveCount > this.opts.retries + 1;
  }

  /**
   * When a receive returns several messages, their jobs are read in one request (BatchGetItem) instead of
   * one GetItem each. Only a read-ahead: each message is still checked (or rejected) in its slot, in the
   * original's order, and a message whose read-ahead failed reads its job on its own (with retries). A
   * failure (throttling, a role without dynamodb:BatchGetItem, a key DynamoDB refuses) affects this batch
   * only: the next receive reads ahead again.
   */
  private readJobsAhead(received: Received[]): Lookahead {
    const jobIds: string[] = [];
    // A message that did not parse is rejected in its slot, with the log line and delete that go with it.
    for (const { m, parsed } of received) if (!this.overRetryLimit(m) && "req" in parsed) jobIds.push(parsed.req.job_id);
    if (jobIds.length < 2) return new Map();
    const unique = [...new Set(jobIds)];
    // One attempt: the fallback, one GetItem per message, is the retry.
    const read = readJobItems(this.raw, this.opts.realm, unique).catch((error: unknown) => {
      const text = `Reading jobs ahead failed, reading this batch's jobs one by one: ${(error as Error).message}`;
      if (this.warnedReadAhead) this.log.debug(text, { event_type: "worker" });
      else this.log.warning(text, { event_type: "worker" });
      this.warnedReadAhead = true;
      throw error;
    });
    return new Map(
      unique.map((jobId, i) => [jobId, read.then((items) => ({ item: items[i] }), (error: unknown) => ({ error }))]),
    );
  }

  /** Takes one received message into a free slot. */
  private accept({ m, parsed }: Received, lookahead: Lookahead): void {
    this.stats.received++;
    if (this.overRetryLimit(m)) {
      this.stats.dropped++;
      this.log.warning(`Job dispatch message ${m.id}: Retry limit exceeded - deleted on cycle ${m.receiveCount}`, { event_type: "worker" });
      // Tracked with the runs, so a finishing worker waits for this delete too.
      const drop = this.deleteMessage(m, {}).finally(() => this.untrack(drop));
      this.track(drop);
      return;
    }
    const slot = this.slots.indexOf("idle");
    this.slots[slot] = "preparing";
    this.visibility.hold(m.id, m.receiptHandle);
    const task = this.process(m, parsed, slot, lookahead).finally(() => {
      this.log.debug(`Slot ${this.slotName(slot)}: finished with message ${m.id}`, { event_type: "worker", thread: this.slotName(slot) });
      this.slots[slot] = "idle";
      this.untrack(task);
      this.slotFreed?.();
    });
    this.track(task);
  }

  /** Every task the worker must see end before it exits goes through here (the keep-alive handle). */
  private track(task: Promise<void>): void {
    this.running.add(task);
    // The longest interval timers take (2^31-1 ms): it only has to exist, never to fire.
    this.keepAlive ??= setInterval(() => {}, 2 ** 31 - 1);
  }

  private untrack(task: Promise<void>): void {
    this.running.delete(task);
    if (this.running.size === 0) this.letGo();
  }

  private letGo(): void {
    clearInterval(this.keepAlive);
    this.keepAlive = undefined;
  }

  /** Per-message steps (platform.md §4.5), then the run, then delete. */
  private async process(m: QueueMessage, parsed: Received["parsed"], slot: number, lookahead: Lookahead): Promise<void> {
    const log = this.log.child({ thread: this.slotName(slot) });
    let req: DispatchRequest | undefined;
    let spec: JobSpec;
    let dispatched: Record<string, unknown>;
    try {
      if ("rejected" in parsed) throw parsed.rejected;
      req = parsed.req;
      this.visibility.describe(m.id, req.job_id, req.run_id);
      ({ spec, dispatched } = await this.prepare(req, m, log, lookahead));
    } catch (err) {
      await this.handleRejection(err, m, log, req);
      return;
    }
    await this.deps.beforeStart?.(req);
    if (this.isStopping) {
      // Not started yet: hand it straight back so another worker (or our successor) takes it now.
      log.info(`Job ${req.job_id} (${req.run_id}): not started, returned to the queue (worker stopping)`, fieldsOf(req));
      await this.release(m, 0, fieldsOf(req));
      return;
    }
    this.slots[slot] = "running";
    this.stats.runs++;
    log.debug(`Slot ${this.slotName(slot)}: starting ${req.job_id} (${req.run_id})`, fieldsOf(req));
    try {
      await runJob(this.services, {
        spec,
        runId: req.run_id,
        tsDispatch: req.ts_dispatch,
        tsDispatchIso: req.ts_dispatch_iso,
        log,
        // The message's parameters/globals are JSON: templates see them as int/float, the table's as Decimal.
        jsonKeys: { parameters: Object.keys(dispatched), globals: Object.keys(req.globals) },
      });
    } catch (err) {
      const msg = err instanceof JobRunFailed ? err.message : `${(err as Error).name}: ${(err as Error).message}`;
      log.error(`Job ${req.job_id} (${req.run_id}): ${msg}`, fieldsOf(req));
    }
    if (this.hardAbort.signal.aborted) return; // hardStop() has released the message
    // A message is deleted only once its outcome is recorded: the writer keeps trying while DynamoDB is
    // unavailable, and a hard stop meanwhile hands the message back instead (the run happens again).
    await this.events.settled(req.run_id);
    if (this.hardAbort.signal.aborted) return;
    await this.deleteMessage(m, fieldsOf(req));
  }

  /** Steps 6–9: job spec, worker and max_tries checks, dispatch merge (`dispatched`: the parameters it took from the message). */
  private async prepare(req: DispatchRequest, m: QueueMessage, log: Logger, lookahead: Lookahead): Promise<{ spec: JobSpec; dispatched: Record<string, unknown> }> {
    const prefix = `Job ${req.job_id} (${req.run_id})`;
    let spec: JobSpec;
    try {
      spec = await this.readJobSpec(req.job_id, lookahead, log);
    } catch (err) {
      if (err instanceof JobSpecError) throw new MessageRejected(`${prefix}: ${err.reason}`, req.job_id, req.run_id);
      throw err;
    }
    if (spec.worker !== this.opts.worker) {
      throw new MessageRejected(`${prefix}: Worker mismatch: Expected ${this.opts.worker} but got ${spec.worker}`, req.job_id, req.run_id);
    }
    if (spec.max_tries > 0 && spec.max_tries < m.receiveCount) {
      throw new MessageRejected(`${prefix}: max_tries exceeded`, req.job_id, req.run_id);
    }
    const globals: Record<string, unknown> = { ...spec.globals, ...req.globals };
    const lava = globals.lava;
    if (lava && typeof lava === "object" && !Array.isArray(lava)) globals.lava = reviveLavaTimes(lava as Record<string, unknown>, prefix, req);
    const dispatched = acceptedDispatchParameters(spec.parameters, req.parameters);
    if (dispatched !== req.parameters) {
      log.warning(`${prefix}: dispatch parameter jinja ignored: the job has Jinja rendering off`, fieldsOf(req));
    }
    return { spec: { ...spec, parameters: { ...spec.parameters, ...dispatched }, globals }, dispatched };
  }

  private async readJobSpec(jobId: string, lookahead: Lookahead, log: Logger): Promise<JobSpec> {
    const ahead = await lookahead.get(jobId);
    if (ahead && "item" in ahead) return jobSpecFromItem(ahead.item, this.opts.realm, jobId, log);
    // A stop ends the back-off too, so a stopping worker does not linger on a lookup (the message returns later).
    return retry(() => loadJobSpec(this.raw, this.opts.realm, jobId, log), POLICIES.call, { signal: this.wake.signal });
  }

  private async handleRejection(err: unknown, m: QueueMessage, log: Logger, req: DispatchRequest | undefined): Promise<void> {
    if (err instanceof MessageRejected) {
      this.stats.rejected++;
      log.error(err.reason, { event_type: "worker", job_id: err.jobId, run_id: err.runId });
      if (err.record) await this.recordRejection(err.record, err.reason);
      if (this.hardAbort.signal.aborted) return; // hardStop() has released the message
      await this.deleteMessage(m, { job_id: err.jobId, run_id: err.runId });
      return;
    }
    const what = req ? `Job ${req.job_id} (${req.run_id})` : `Message ${m.id}`;
    const fields = { event_type: "worker", ...(req ? { job_id: req.job_id, run_id: req.run_id } : {}) };
    if (err instanceof PortError && !isRetryable(err)) {
      // Permanent (a key DynamoDB refuses, access denied, a missing table): trying again cannot help.
      await this.dispose(m, log, `${what}: cannot prepare the run, message deleted: ${err.message}`, fields);
      return;
    }
    // Throttling, an outage or a bug of ours before the run began: nothing is lost by trying later.
    log.error(`${what}: cannot prepare the run, retrying in ${TRANSIENT_RETRY_SECONDS}s: ${(err as Error).message}`, fields);
    await this.release(m, TRANSIENT_RETRY_SECONDS, fields);
  }

  /** Deletes a message that can never run, after one error record saying why. */
  private async dispose(m: QueueMessage, log: Logger, reason: string, fields: { event_type: string; job_id?: string; run_id?: string }): Promise<void> {
    this.stats.rejected++;
    log.error(reason, fields);
    await this.deleteMessage(m, { job_id: fields.job_id, run_id: fields.run_id });
  }

  /** A refused message whose ids still make an events key: `rejected` with the reason, written before the delete. */
  private async recordRejection(target: RejectionRecord, reason: string): Promise<void> {
    this.events.record(target, "rejected", reason);
    await this.events.settled(target.run_id);
  }

  /** Deleted with others that finish close together (deleter.ts); the slot stays taken until done. */
  private async deleteMessage(m: QueueMessage, fields: { job_id?: string; run_id?: string }): Promise<void> {
    this.visibility.drop(m.id);
    await this.deleter.delete(m, fields);
  }
}

function fieldsOf(req: DispatchRequest): { event_type: string; job_id: string; run_id: string } {
  return { event_type: "job", job_id: req.job_id, run_id: req.run_id };
}

/** `globals.lava.{master,parent}_{start,ustart}` arrive as ISO text after an SQS hop; runs see datetimes. */
function reviveLavaTimes(lava: Record<string, unknown>, prefix: string, req: DispatchRequest): Record<string, unknown> {
  const out = { ...lava };
  for (const key of ["master_start", "master_ustart", "parent_start", "parent_ustart"]) {
    const v = out[key];
    if (typeof v !== "string") continue;
    const ts = parseIsoTimestamp(v);
    if (!ts) throw new MessageRejected(`${prefix}: ${key}: Bad timestamp: ${v}`, req.job_id, req.run_id);
    out[key] = ts.date;
  }
  return out;
}
