/** `log`: writes the augmented job spec to the worker log at INFO and succeeds. Payload and parameters are ignored. */
import type { JobType } from "../core/job-contract.ts";
import { pyJsonDumpsBounded } from "../core/pyformat.ts";
import { cutMarker, LOG_RECORD_MAX_CHARS, redactedValue } from "../core/log.ts";

export const logJob: JobType = {
  name: "log",
  async run(run) {
    // Keys sorted as the original's sort_keys=True; serialised within the record bound, so a deeply nested
    // job never builds the whole text first. The dump is message text, which field redaction never sees:
    // secret-named values are hidden first.
    const dump = pyJsonDumpsBounded(run.job, 4, LOG_RECORD_MAX_CHARS, { sortKeys: true, hide: redactedValue });
    run.log.info(dump.cut ? dump.text + cutMarker(dump.cut) : dump.text, {
      event_type: "job",
      job_id: run.job.job_id,
      run_id: run.job.run_id,
    });
    return { exit_status: 0 };
  },
};

