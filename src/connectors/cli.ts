/**
 * The `connections` parameter of cmd, exe and pkg jobs: for each `label: conn_id`, the job's process gets
 * `LAVA_CONNID_<LABEL>` (the id) and `LAVA_CONN_<LABEL>` (the path of an executable giving that connection,
 * written into a `conn.*` directory of the run directory, so it is removed with it).
 */
import { JobFailure, type JobRun } from "../core/job-contract.ts";
import { connectorTypes } from "./registry.ts";
import { getConnectionSpec } from "./spec.ts";
import { ConnectionError } from "./types.ts";
import { errorText } from "../core/error-text.ts";

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
    env[`LAVA_CONN_${label.toUpperCase()}`] = await connectionScript(run, connId);
  }
  return env;
}

/**
 * The executable giving a run connection `connId` (the original's get_cli_connection): also sqlc's client.
 * Failures are JobFailures worded as the original's.
 */
export async function connectionScript(run: JobRun, connId: string): Promise<string> {
  const realm = run.realm.realm;
  try {
    const spec = await getConnectionSpec(run.ports, realm, connId);
    if (!spec.enabled) throw new JobFailure(`Connection ${connId}: Not enabled`);
    const load = connectorTypes[spec.type];
    if (!load) throw new JobFailure(`${connId}: Unsupported connection type - ${spec.type}`);
    const connector = await load();
    if (!connector.cliScript) {
      throw new JobFailure(`Connection ${connId}: connector scripts (LAVA_CONN_*) for type "${spec.type}" are not yet supported`);
    }
    return await connector.cliScript(spec, run.runDir, { ports: run.ports, realm, config: run.config, jobId: run.job.job_id });
  } catch (e) {
    if (e instanceof JobFailure) throw e;
    if (e instanceof ConnectionError) throw new JobFailure(e.message);
    throw new JobFailure(`Connection ${connId}: ${errorText(e)}`);
  }
}
