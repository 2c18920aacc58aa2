/** `log`: one INFO line in the worker log. */
import type { ActionKind } from "./types.ts";
import { ActionError, checkFields, renderPlain } from "./support.ts";

export const logAction: ActionKind = {
  name: "log",
  async run(action) {
    checkFields(action, ["message"], null);
    if (typeof action.spec.message !== "string") throw new ActionError("message must be a string");
    const job = action.run.job;
    const text = await renderPlain(action, action.spec.message);
    action.run.log.info(text, { event_type: "job", job_id: job.job_id, run_id: job.run_id });
  },
};
