/**
 * The `connections` parameter of exe and pkg jobs: for each `label: conn_id`, the job's process gets
 * `LAVA_CONNID_<LABEL>` (the id) and `LAVA_CONN_<LABEL>` (the path of an executable giving that connection).
 */
import { JobFailure, type JobRun } from "../handlers/types.ts";
import { connectorTypes } from "./registry.ts";
import { getConnectionSpec } from "./spec.ts";

export async function connectionEnvironment(run: JobRun, connections: unknown): Promise<Record<string, string>> {
  if (connections === undefined) return {};
  if (typeof connections !== "object" || connections === null || Array.isArray(connections)) {
    throw new JobFailure("connections parameter must be a map");
  }
  const env: Record<string, string> = {};
  for (const [label, connId] of Object.entries(connections as Record<string, unknown>)) {
    if (!/^\w+$/.test(label)) throw new JobFailure(`Bad connection label: ${label}`);
    if (typeof connId !== "string") throw new JobFailure(`Bad connection id for label ${label}`);
    env[`LAVA_CONNID_${label.toUpperCase()}`] = connId;
    env[`LAVA_CONN_${label.toUpperCase()}`] = await connectorScript(run, connId);
  }
  return env;
}

async function connectorScript(run: JobRun, connId: string): Promise<string> {
  const realm = run.realm.realm;
  let spec;
  try {
    spec = await getConnectionSpec(run.ports, realm, connId);
  } catch (e) {
    throw new JobFailure((e as Error).message);
  }
  if (!spec.enabled) throw new JobFailure(`Connection ${connId}: Not enabled`);
  const load = connectorTypes[spec.type];
  const connector = load ? await load() : undefined;
  if (!connector?.cliScript) {
    throw new JobFailure(
      `Connection ${connId}: connector scripts (LAVA_CONN_*) for type "${spec.type}" are not yet supported`,
    );
  }
  return connector.cliScript(spec, run.runDir, { ports: run.ports, realm, config: run.config });
}
