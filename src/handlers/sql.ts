/**
 * `sql`: runs the SQL files of the payload (a key, a prefix or a list, fetched as exe/pkg fetch theirs, each
 * file at most SQL_MAX_PAYLOAD_SIZE) through the `conn_id` database connection, file by file in payload
 * order. Output of statement `n` of file `<base>` goes to `<s3tmp>[/<output>]/<base>.<n>.out`; the result is
 * `{exit_status: 0, output: {<base>: [uris]}}`. The shared machinery is in ./sql/run.ts.
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import type { JobType } from "../core/job-contract.ts";
import { fetchPayload } from "./common.ts";
import { runSqlJob, sqlParameters } from "./sql/run.ts";

export const sqlJob: JobType = {
  name: "sql",
  async run(run) {
    const parameters = sqlParameters(run);
    return runSqlJob({
      run,
      parameters,
      texts: async () =>
        (await fetchPayload(run, run.job.payload, "SQL_MAX_PAYLOAD_SIZE")).map((file) => ({
          key: basename(file),
          label: basename(file),
          text: readFileSync(file, "utf8"),
        })),
    });
  },
};
