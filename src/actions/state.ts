/** `state`: publishes a state item (`value` with each string rendered); ids starting `lava` are reserved. */
import type { ActionKind } from "./types.ts";
import { putState } from "../core/state.ts";
import { errorText } from "../core/error-text.ts";
import { ActionError, checkFields, optionalString, renderOr, renderStructure } from "./support.ts";

const OPTIONAL = ["type", "ttl", "publisher", "kms_key"] as const;

export const stateAction: ActionKind = {
  name: "state",
  async run(action) {
    checkFields(action, ["action", "state_id", "value"], OPTIONAL);
    const spec = action.spec;
    const stateId = await renderOr(action, spec.state_id, (r) => `Bad state_id: ${r}`);
    if (stateId.toLowerCase().startsWith("lava")) throw new ActionError('Bad state_id: Values beginning with "lava" are reserved');
    const publisher = await renderOr(action, spec.publisher ?? "{{ job.job_id }}", (r) => `Bad publisher: ${r}`);
    let value: unknown;
    try {
      value = await renderStructure(action, spec.value);
    } catch (e) {
      throw new ActionError(`Bad value: ${errorText(e)}`);
    }
    await putState(
      action.run.ports,
      action.run.realm.realm,
      {
        state_id: stateId,
        value,
        type: optionalString(action, "type"),
        ttl: spec.ttl as string | number | undefined,
        publisher,
        kms_key: optionalString(action, "kms_key"),
      },
      { config: action.run.config },
    );
  },
};
