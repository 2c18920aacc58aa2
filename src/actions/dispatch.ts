/**
 * `dispatch`: queues a run of another job in this realm, passing this job's globals with `lava.parent_*`
 * naming this job (times as ISO strings, as they travel through SQS).
 *
 * `parameters` has each string rendered on its own and rendered strings marked as data for the target's worker
 * (template-values.ts): the run's output, error text and globals must not become template text there.
 *
 * Divergence: the original writes `lava.parent_*` into this job's own globals as a side effect; we change a copy.
 */
import type { ActionKind } from "./types.ts";
import { childDispatchGlobals, dispatchJob } from "../core/dispatch.ts";
import { errorText } from "../core/error-text.ts";
import { ActionError, checkFields, delaySeconds, renderOr } from "./support.ts";
import { renderDispatchParameters } from "../core/template-values.ts";

export const dispatchAction: ActionKind = {
  name: "dispatch",
  async run(action) {
    checkFields(action, ["job_id"], null);
    const delay = delaySeconds(action);
    let parameters: Record<string, unknown> | undefined;
    if (action.spec.parameters) {
      try {
        parameters = (await renderDispatchParameters(action.spec.parameters, action.render)) as Record<string, unknown>;
      } catch (e) {
        throw new ActionError(`Cannot render parameters - ${errorText(e)}`);
      }
    }
    const jobId = await renderOr(action, action.spec.job_id, (r) => `Cannot render target job_id - ${r}`);
    const globals = childDispatchGlobals(action.run.job);
    await dispatchJob(action.run.ports, {
      realm: action.run.realm.realm,
      jobId,
      parameters,
      globals,
      delaySeconds: delay,
    });
  },
};
