/** Shared set-up for connector tests: local ports in a temp home with a connections table. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLocalPorts, type LocalPorts } from "../../src/adapters/local/index.ts";
import { LavaConfig } from "../../src/core/config.ts";
import { realmTable } from "../../src/core/names.ts";
import { trackSecrets } from "../../src/core/secrets.ts";
import type { ConnectorContext } from "../../src/connectors/types.ts";
import type { Item } from "../../src/ports/index.ts";

export const REALM = "test";

export interface ConnHarness {
  ports: LocalPorts;
  root: string;
  ctx(config?: Record<string, unknown>): ConnectorContext;
  putConnection(item: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

export async function openConnHarness(): Promise<ConnHarness> {
  const root = mkdtempSync(join(tmpdir(), "lava-conn-"));
  const ports = trackSecrets(await openLocalPorts({ home: join(root, "home") }));
  await ports.tables.createTable({ name: realmTable(REALM, "connections"), hash: "conn_id" });
  return {
    ports,
    root,
    ctx: (config = {}) => ({ ports, realm: REALM, config: new LavaConfig(config, {}), jobId: "test/job" }),
    putConnection: (item) => ports.tables.put(realmTable(REALM, "connections"), item as Item),
    async close() {
      await ports.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** The error a promise rejects with. */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a failure");
}

export function run(cmd: string[], opts: { env?: Record<string, string>; stdin?: string } = {}): { code: number; out: string; err: string } {
  const p = Bun.spawnSync(cmd, { env: { ...process.env, ...opts.env }, stdin: opts.stdin === undefined ? "ignore" : new TextEncoder().encode(opts.stdin) });
  return { code: p.exitCode ?? -1, out: p.stdout.toString(), err: p.stderr.toString() };
}
