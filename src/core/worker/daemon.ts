/**
 * `--daemon`: the worker starts a copy of itself in a new session (setsid) with stdio on /dev/null and
 * exits; the copy holds `<realm>.<worker>.pid` in the current directory, created exclusively, so a second
 * daemon of the same worker started from the same directory exits quietly.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";

export const DAEMON_ENV = "LAVA_WORKER_DAEMON_CHILD";

export function pidfileName(realm: string, worker: string): string {
  return `${realm}.${worker}`.replaceAll("/", "-") + ".pid";
}

/** Is this process the detached copy? */
export function isDaemonChild(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[DAEMON_ENV] === "1";
}

/** Starts the detached copy running `worker <args>`; returns its pid. */
export function spawnDaemon(workerArgs: string[], env: NodeJS.ProcessEnv = process.env): number {
  const compiled = Bun.main.startsWith("/$bunfs/") || Bun.main.includes("~BUN");
  const argv = compiled ? ["worker", ...workerArgs] : [Bun.main, "worker", ...workerArgs];
  // node:child_process only here: every worker imports this module, few start as daemons.
  const child = process.getBuiltinModule("node:child_process").spawn(process.execPath, argv, {
    detached: true, // setsid(): no controlling terminal, its own process group
    stdio: "ignore",
    cwd: process.cwd(),
    env: { ...env, [DAEMON_ENV]: "1" },
  });
  child.unref();
  return child.pid ?? 0;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Creates the pidfile with O_EXCL. Returns a remover, or undefined when a live process holds it.
 * A pidfile left by a dead process is replaced.
 */
export function acquirePidfile(path: string, pid = process.pid): (() => void) | undefined {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o644);
      writeSync(fd, `${pid}\n`);
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(path, "utf8").trim() === String(pid)) unlinkSync(path);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = Number.parseInt(readFileSync(path, "utf8").trim(), 10);
      if (Number.isInteger(holder) && holder > 0 && alive(holder)) return undefined;
      unlinkSync(path);
    }
  }
  return undefined;
}

export function pidfilePath(realm: string, worker: string, dir = process.cwd()): string {
  return join(dir, pidfileName(realm, worker));
}
