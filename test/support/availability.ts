/**
 * Tests that need an outside server or tool call `needs()`. Outside CI a missing dependency is reported
 * loudly and the tests are skipped; with CI=true it is a failure, so a green CI run never hides a skip.
 */
import { test } from "bun:test";

export const inCI = process.env.CI === "true";

/**
 * Returns true when the dependency is present. When absent: under CI, registers a failing test naming it;
 * otherwise prints a warning. Callers wrap their tests in `describe.if(present)` or return early.
 */
export function needs(what: string, present: boolean, hint = ""): boolean {
  if (present) return true;
  const message = `MISSING DEPENDENCY: ${what}${hint ? ` (${hint})` : ""}`;
  if (inCI) {
    test(`requires ${what}`, () => {
      throw new Error(`${message}: CI=true, so this is a failure, not a skip`);
    });
  } else {
    console.warn(`\n*** ${message}: tests that need it are SKIPPED ***\n`);
  }
  return false;
}

/** True when `cmd` runs and exits 0. */
export function commandWorks(cmd: string[]): boolean {
  try {
    return Bun.spawnSync(cmd, { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
  } catch {
    return false;
  }
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

/** True when something accepts TCP connections on 127.0.0.1:`port` (a database server the tests use). */
export async function tcpOpen(port: number): Promise<boolean> {
  try {
    const s = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    s.end();
    return true;
  } catch {
    return false;
  }
}
