/**
 * The worker's own CloudWatch metrics (platform.md §4.11), when CW_METRICS_WORKER is on: first after 15 s
 * (offset from the heartbeat), then every CW_METRICS_PERIOD, one PutMetricData with all of them.
 */
import { existsSync } from "node:fs";
import type { MetricDatum } from "../../ports/index.ts";
import type { Worker } from "./worker.ts";
import { Ticker } from "./ticker.ts";
import { fsp } from "../fs-promises.ts";

const FIRST_DELAY_MS = 15_000;
/** Docker's default root dir. The original asks the docker daemon for it; we have no docker client. */
export const DOCKER_ROOT = "/var/lib/docker";

export interface WorkerMetricsOptions {
  /** Delay of the first put; default 15 s. */
  firstDelayMs?: number;
  /** Where docker keeps its data; PercentDockerDiskUsed is sent only when it exists here. Default DOCKER_ROOT. */
  dockerRoot?: string;
}

export class WorkerMetrics {
  private readonly ticker: Ticker;
  alive = true;
  puts = 0;
  private readonly firstDelayMs: number;
  /** Checked once, as the original does when its metrics thread starts. */
  private readonly dockerRoot: string | undefined;

  constructor(
    private readonly worker: Worker,
    periodSeconds: number,
    private readonly nodeId: string,
    private readonly slotsAlive: () => { alive: number; dead: number },
    opts: WorkerMetricsOptions = {},
  ) {
    this.firstDelayMs = opts.firstDelayMs ?? FIRST_DELAY_MS;
    const root = opts.dockerRoot ?? DOCKER_ROOT;
    this.dockerRoot = existsSync(root) ? root : undefined;
    this.ticker = new Ticker(periodSeconds * 1000, () => this.tick());
  }

  start(): void {
    this.ticker.start(this.firstDelayMs);
  }

  stop(): void {
    this.ticker.stop();
  }

  private async tick(): Promise<boolean> {
    const w = this.worker;
    try {
      await w.deps.ports.metrics.put(w.config.str("CW_NAMESPACE"), await this.collect());
      this.puts++;
    } catch (err) {
      w.log.warning(`Could not put CloudWatch metric data: ${(err as Error).message}`, { event_type: "worker", thread: "metrics" });
    }
    return true;
  }

  async collect(): Promise<MetricDatum[]> {
    const w = this.worker;
    const dimensions = { Realm: w.opts.realm, Worker: w.opts.worker, Instance: this.nodeId };
    const timestamp = new Date();
    const d = (name: string, value: number, unit?: string): MetricDatum => ({ name, value, unit, dimensions, timestamp });
    const { alive, dead } = this.slotsAlive();
    const disk = await diskPercent(w.workerTmp);
    const mem = await memInfo();
    const data = [
      d("WorkerThreadsAlive", alive, "Count"),
      d("WorkerThreadsDead", dead, "Count"),
      // KiB, as the original's ru_maxrss on Linux, despite the unit: dashboards of mixed fleets stay comparable.
      d("MaxRss", process.resourceUsage().maxRSS, "Bytes"),
      d("PercentDiskUsed", disk, "Percent"),
      d("PercentTmpDiskUsed", disk, "Percent"),
      d("PercentMemUsed", mem.memPercent, "Percent"),
      d("PercentSwapUsed", mem.swapPercent, "Percent"),
    ];
    if (this.dockerRoot) data.push(d("PercentDockerDiskUsed", await diskPercent(this.dockerRoot), "Percent"));
    return data;
  }
}

async function diskPercent(path: string): Promise<number> {
  try {
    const s = await fsp().statfs(path);
    const total = s.blocks * s.bsize;
    const used = (s.blocks - s.bfree) * s.bsize;
    const avail = s.bavail * s.bsize;
    // psutil's definition: used / (used + available to unprivileged users).
    return used + avail > 0 ? Math.round((used / (used + avail)) * 1000) / 10 : total > 0 ? 100 : 0;
  } catch {
    return 0;
  }
}

async function memInfo(): Promise<{ memPercent: number; swapPercent: number }> {
  try {
    const text = await fsp().readFile("/proc/meminfo", "utf8");
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0);
    const total = kb("MemTotal");
    const available = kb("MemAvailable");
    const swapTotal = kb("SwapTotal");
    const swapFree = kb("SwapFree");
    return {
      memPercent: total ? ((total - available) / total) * 100 : 0,
      swapPercent: swapTotal ? Math.round(((swapTotal - swapFree) / swapTotal) * 1000) / 10 : 0,
    };
  } catch {
    return { memPercent: 0, swapPercent: 0 };
  }
}
