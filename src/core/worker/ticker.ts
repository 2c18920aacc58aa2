/**
 * A periodic task on a monotonic schedule: each tick is due one period after the previous one was due,
 * so drift does not accumulate. The timer never keeps the process alive on its own.
 */
export class Ticker {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private nextAt = 0;
  private running = false;

  /** `tick` returns false to stop for good. */
  constructor(
    private readonly periodMs: number,
    private readonly tick: () => Promise<boolean>,
  ) {}

  start(firstDelayMs = 0): void {
    this.running = true;
    this.nextAt = performance.now() + firstDelayMs;
    this.arm();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    this.timer = setTimeout(() => void this.fire(), Math.max(0, this.nextAt - performance.now()));
    this.timer.unref?.();
  }

  private async fire(): Promise<void> {
    const again = await this.tick();
    // A stop() during the tick wins: nothing is re-armed after it.
    if (!again || !this.running) return;
    this.nextAt += this.periodMs;
    this.arm();
  }
}
