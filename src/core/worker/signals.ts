/**
 * Signals (platform.md §4.9): SIGHUP/SIGINT ask for a soft stop, a second one (or SIGTERM) for a hard
 * stop; SIGUSR1 logs the worker's internal state and every configuration variable.
 */
import type { Worker } from "./worker.ts";

export interface SignalHooks {
  /** Logs internal state (SIGUSR1). */
  report(): void;
  /** Called once a hard stop has handed the messages back; exits the process. */
  exitHard(): void;
}

const NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };

export function installSignalHandlers(worker: Worker, hooks: SignalHooks): () => void {
  let soft = false;
  const hard = (name: string): void => {
    worker.log.info(`Signal ${NUMBERS[name]} -- forced shutdown`, { event_type: "worker" });
    void worker.hardStop().finally(() => hooks.exitHard());
  };
  const onSoft = (name: NodeJS.Signals): void => {
    if (soft) return hard(name);
    soft = true;
    worker.log.info(`Signal ${NUMBERS[name]} -- preparing for shutdown`, { event_type: "worker" });
    worker.softStop();
  };
  const onTerm = (): void => hard("SIGTERM");
  const onUsr1 = (): void => hooks.report();
  process.on("SIGHUP", onSoft);
  process.on("SIGINT", onSoft);
  process.on("SIGTERM", onTerm);
  process.on("SIGUSR1", onUsr1);
  return () => {
    process.off("SIGHUP", onSoft);
    process.off("SIGINT", onSoft);
    process.off("SIGTERM", onTerm);
    process.off("SIGUSR1", onUsr1);
  };
}

/** Until the real handlers are installed, a daemon ignores the soft-stop signals (as the original). */
export function ignoreSoftSignals(): () => void {
  const ignore = (): void => {};
  process.on("SIGHUP", ignore);
  process.on("SIGINT", ignore);
  return () => {
    process.off("SIGHUP", ignore);
    process.off("SIGINT", ignore);
  };
}
