/** `log`: writes the augmented job spec to the worker log at INFO and succeeds. Payload and parameters are ignored. */
import type { JobType } from "./types.ts";
import { pyJsonDumps } from "../core/pyformat.ts";
import { redact } from "../core/log.ts";

export const logJob: JobType = {
  name: "log",
  async run(run) {
    // The dump is message text, which field redaction never sees: secret-named values are hidden first.
    run.log.info(pyJsonDumps(sortKeysDeep(redact(run.job)), 4), {
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
