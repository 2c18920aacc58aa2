/** `sns`: publishes a rendered message (an object is JSON-encoded first) to a topic. */
import type { ActionKind } from "./types.ts";
import { checkFields, renderPlain, renderedMessage } from "./support.ts";

/** An SNS API limit. */
const SNS_MAX_SUBJECT_LEN = 100;

export const snsAction: ActionKind = {
  name: "sns",
  async run(action) {
    checkFields(action, ["topic", "message"], null);
    const message = await renderedMessage(action);
    const opts: { subject?: string } = {};
    if ("subject" in action.spec) {
      opts.subject = (await renderPlain(action, action.spec.subject)).slice(0, SNS_MAX_SUBJECT_LEN);
    }
    await action.run.ports.notifications.publish(String(action.spec.topic), message, opts);
  },
};
