/** `log`: writes the augmented job spec to the worker log at INFO and succeeds. Payload and parameters are ignored. */
import type { JobType } from "./types.ts";
import { pyJsonDumpsBounded } from "../core/pyformat.ts";
import { cutMarker, LOG_RECORD_MAX_CHARS } from "../core/log.ts";

export const logJob: JobType = {
  name: "log",
  async run(run) {
    // Serialised within the record bound, so a deeply nested job never builds the whole text first.
    const dump = pyJsonDumpsBounded(sortKeysDeep(run.job), 4, LOG_RECORD_MAX_CHARS);
    run.log.info(dump.cut ? dump.text + cutMarker(dump.cut) : dump.text, {
      event_type: "job",
      job_id: run.job.job_id,
      run_id: run.job.run_id,
    });
    return { exit_status: 0 };
  },
};

/** The original logs with `sort_keys=True`. */
function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = sortKeysDeep((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}
