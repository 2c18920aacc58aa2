/** Runs `bun src/main.ts ...` as a child process, as a user would run lava from source. */
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "../..");

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export async function lava(args: string[], env: Record<string, string | undefined> = {}, stdin?: string): Promise<Run> {
  const merged: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, NO_COLOR: "1", ...env })) if (v !== undefined) merged[k] = v;
  const proc = Bun.spawn([process.execPath, join(ROOT, "src/main.ts"), ...args], {
    cwd: ROOT,
    env: merged,
    stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}
