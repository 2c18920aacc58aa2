/** `slack`: posts a rendered message through a slack connection; unset options fall back to the connection's. */
import type { ActionKind } from "./types.ts";
import { sendSlack } from "../connectors/slack.ts";
import { actionConnection, checkFields, optionalString, renderPlain } from "./support.ts";

const OPTIONAL = ["from", "subject", "colour", "style", "preamble"] as const;

export const slackAction: ActionKind = {
  name: "slack",
  async run(action) {
    checkFields(action, ["action", "slack_conn", "message"], OPTIONAL);
    const spec = action.spec;
    const optional = async (field: string) =>
      field in spec ? renderPlain(action, spec[field]) : undefined;
    const sender = await optional("from");
    const subject = await optional("subject");
    const message = await renderPlain(action, spec.message);
    const { conn, ctx } = await actionConnection(action, "slack_conn");
    await sendSlack(conn, ctx, {
      message,
      subject,
      sender,
      preamble: optionalString(action, "preamble"),
      style: optionalString(action, "style"),
      colour: optionalString(action, "colour"),
    });
  },
};
