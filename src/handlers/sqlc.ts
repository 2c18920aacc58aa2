/**
 * `sqlc`: runs the SQL files of the payload (a key, a prefix or a list, each at most SQLC_MAX_PAYLOAD_SIZE)
 * through the database's own command-line client: the `conn_id` connection's script (psql, mysql/mariadb,
 * sqlite3, sqlplus; `lava sql` for mssql), the same one `LAVA_CONN_*` gives exe jobs, with `args` after it
 * and the file as standard input. Each file is rendered whole first (autoescape for .html/.htm/.xml) and runs
 * with its own SQLC_TIMEOUT (`timeout`); its output goes to `<s3tmp>/<base>.stdout|.stderr`. The first
 * failure stops the job.
 *
 * The environment is the original's: the worker's own (JOB_CLEAN_ENV applies) plus `LAVA_REALM` and
 * `PGAPPNAME` only: no other LAVA_* variable and no job `env`.
 */
import { basename } from "node:path";
import type { JobType } from "../core/job-contract.ts";
import { JobFailure } from "../core/job-contract.ts";
import { applicationName } from "../connectors/appname.ts";
import { connectionScript } from "../connectors/cli.ts";
import {
  argsParameter,
  checkParameters,
  fetchPayload,
  fileStep,
  inheritedEnvironment,
  jinjaEnabled,
  renderPayloadFile,
  runStep,
  timeoutParameter,
  type StepsResult,
} from "./common.ts";

const OPTIONAL = ["args", "jinja", "timeout", "vars"] as const;

export const sqlcJob: JobType = {
  name: "sqlc",
  async run(run) {
    const parameters = checkParameters(run, ["conn_id"], OPTIONAL);
    const args = argsParameter(parameters);
    const timeoutSeconds = timeoutParameter(run, parameters, "SQLC_TIMEOUT");
    const connId = parameters.conn_id;
    if (typeof connId !== "string") throw new JobFailure("Bad job parameters: conn_id must be a string");
    const env = inheritedEnvironment(run.config.bool("JOB_CLEAN_ENV"));
    env.LAVA_REALM = run.job.realm;
    // Helps psql and does no harm to the other clients (the original's words).
    const appName = applicationName(run.config, connId, run.job.realm, run.job.job_id);
    if (appName === undefined) delete env.PGAPPNAME;
    else env.PGAPPNAME = appName;
    const render = jinjaEnabled(parameters);

    const client = await connectionScript(run, connId);
    const result: StepsResult = { exit_status: 0, output: [] };
    for (const file of await fetchPayload(run, run.job.payload, "SQLC_MAX_PAYLOAD_SIZE")) {
      if (render) await renderPayloadFile(run, file, result);
      const step = fileStep([client, ...args], run.runDir, basename(file), env, timeoutSeconds);
      await runStep(run, { ...step, stdin: file, interruptFirst: true }, result);
    }
    return result;
  },
};
