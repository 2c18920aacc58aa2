/** `slack`: posts a rendered message through a slack connection; unset options fall back to the connection's. */
import type { ActionKind } from "./types.ts";
import { sendSlack } from "../connectors/slack.ts";
import { getConnectionSpec } from "../connectors/spec.ts";
import { checkFields, connectorContext, renderPlain } from "./support.ts";

const OPTIONAL = ["from", "subject", "colour", "style", "preamble"] as const;

export const slackAction: ActionKind = {
  name: "slack",
  async run(action) {
    checkFields(action, ["action", "slack_conn", "message"], OPTIONAL);
    const spec = action.spec;
    const optional = (field: string) =>
      field in spec ? renderPlain(action, spec[field]) : undefined;
    const sender = optional("from");
    const subject = optional("subject");
    const message = renderPlain(action, spec.message);
    const ctx = connectorContext(action);
    const conn = await getConnectionSpec(ctx.ports, ctx.realm, String(spec.slack_conn));
    await sendSlack(conn, ctx, {
      message,
      subject,
      sender,
      preamble: spec.preamble === undefined ? undefined : String(spec.preamble),
      style: spec.style === undefined ? undefined : String(spec.style),
      colour: spec.colour === undefined ? undefined : String(spec.colour),
    });
  },
};
