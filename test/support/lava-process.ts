/** What the tests that run lava as a separate process (e2e, faults, golden) share. */
import { join } from "node:path";
import type { Item } from "../../src/ports/index.ts";

export const ROOT = join(import.meta.dir, "..", "..");
export const MAIN = join(ROOT, "src", "main.ts");

/** JSON log records (`--log-json` lines) of a process's stderr; other lines are skipped. */
export function parseRecords(stderr: string): Record<string, unknown>[] {
  return stderr
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Polls `check` every 100 ms until it returns a value other than undefined/false, or fails after `ms`. */
export async function until<T>(what: string, check: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const deadline = performance.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}

/** The statuses of an events item's log, oldest first; none for a missing item. */
export function statuses(item: Item | undefined): string[] {
  return ((item?.log as Item[] | undefined) ?? []).map((e) => e.status as string);
}
