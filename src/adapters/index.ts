/**
 * Chooses the backend. The AWS SDK is imported only when the `aws` backend is chosen, so local use and
 * short-lived commands never pay for loading it.
 */
import { homedir } from "node:os";
import { join } from "node:path";
import type { Ports } from "../ports/index.ts";

export type Backend = "local" | "aws";

export interface PortsOptions {
  backend: Backend;
  /** Local realm home (SQLite file + object tree). Default `$LAVA_HOME` or `~/.lava`. */
  home?: string;
  /** AWS profile (`--profile`). */
  profile?: string;
  region?: string;
}

/** `LAVA_BACKEND` selects the backend; `local` (the embedded default) when unset. */
export function backendFromEnv(env: NodeJS.ProcessEnv = process.env): Backend {
  const value = (env.LAVA_BACKEND ?? "local").trim().toLowerCase();
  if (value === "local" || value === "aws") return value;
  throw new Error(`LAVA_BACKEND must be "local" or "aws", not "${env.LAVA_BACKEND}"`);
}

export function localHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.LAVA_HOME || join(homedir(), ".lava");
}

export async function openPorts(opts: PortsOptions): Promise<Ports> {
  if (opts.backend === "aws") {
    const { openAwsPorts } = await import("./aws/index.ts");
    return openAwsPorts({ profile: opts.profile, region: opts.region });
  }
  const { openLocalPorts } = await import("./local/index.ts");
  return openLocalPorts({ home: opts.home ?? localHome() });
}
