/**
 * The heartbeat (platform.md §4.8): every period, queue depth, the worker's own state and a touch of the
 * heartbeat file in the worker tmp dir, logged as one INFO record that log-metric filters count.
 * If the tmp dir has vanished the heartbeat stops for good (a CRITICAL line): the missing heartbeats
 * raise the alarm, as intended by the original.
 */
import { join } from "node:path";
import type { Worker } from "./worker.ts";
import { Ticker } from "./ticker.ts";
import { fsp } from "../fs-promises.ts";

export interface TaskStatus {
  /** name → "OK" | "dead", in the original's order: event, worker-NN..., heartbeat, metrics. */
  threads(): Record<string, "OK" | "dead">;
  /** Clean-up tasks that will run at exit (the original's deferred tasks). */
  deferredTasks(): number;
}

export class Heartbeat {
  private readonly ticker: Ticker;
  alive = true;
  beats = 0;

  constructor(
    private readonly worker: Worker,
    periodSeconds: number,
    private readonly status: TaskStatus,
  ) {
    this.ticker = new Ticker(periodSeconds * 1000, () => this.beat());
  }

  start(): void {
    this.ticker.start();
  }

  stop(): void {
    this.ticker.stop();
  }

  /** One beat; false when the heartbeat has stopped for good. */
  private async beat(): Promise<boolean> {
    const w = this.worker;
    const log = w.log.child({ thread: "heartbeat" });
    let messages = -1;
    let notvisible = -1;
    try {
      const attrs = await w.deps.ports.queues.attributes(w.queue);
      messages = attrs.visible;
      notvisible = attrs.notVisible;
    } catch (err) {
      log.warning(`Could not get attributes on ${w.queue}: ${(err as Error).message}`, { event_type: "worker" });
    }
    const file = w.config.str("HEARTBEAT_FILE");
    if (file) {
      try {
        await touch(join(w.workerTmp, file));
      } catch (err) {
        this.alive = false;
        log.critical(`Heartbeat stopped: cannot touch ${file} in ${w.workerTmp}: ${(err as Error).message}`, { event_type: "worker" });
        return false;
      }
    }
    this.beats++;
    log.info(`heartbeat realm=${w.opts.realm} worker=${w.opts.worker}`, {
      event_type: "heartbeat",
      sqs: { messages, notvisible },
      internal: { qlen: w.waiting },
      threads: this.status.threads(),
      deferred_tasks: this.status.deferredTasks(),
    });
    return true;
  }
}

async function touch(path: string): Promise<void> {
  const now = new Date();
  try {
    await fsp().utimes(path, now, now);
  } catch {
    await fsp().writeFile(path, "", { flag: "a" });
  }
}
