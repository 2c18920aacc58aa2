/**
 * `sqli`: as `sql`, with the SQL inline: the payload is one string or a list of strings. Output of
 * statement `n` of payload item `m` goes to `<s3tmp>[/<output>]/<m>.<n>.out`; output keys are "0", "1", ...
 */
import { JobFailure, type JobType } from "../core/job-contract.ts";
import { runSqlJob, sqlParameters } from "./sql/run.ts";

export const sqliJob: JobType = {
  name: "sqli",
  async run(run) {
    const parameters = sqlParameters(run);
    return runSqlJob({
      run,
      parameters,
      texts: async () => {
        const payload = run.job.payload;
        const items = typeof payload === "string" ? [payload] : payload;
        if (!Array.isArray(items) || !items.every((s) => typeof s === "string")) {
          throw new JobFailure("Bad payload: must be string or list of strings");
        }
        return items.map((text, m) => ({ key: String(m), label: `payload ${m}`, text }));
      },
    });
  },
};
