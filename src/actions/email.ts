/**
 * `email`: sends a rendered subject and message to `to` (not rendered). With `email_conn` it goes through that
 * email connection (attachments allowed); otherwise straight through SES (the EmailPort).
 *
 * Divergence: without `from` and SES_FROM the original asks SES for its first verified domain and sends as
 * `lava.<realm>@<domain>`; the EmailPort cannot list identities, so we fail with a clear message instead.
 */
import type { ActionKind } from "./types.ts";
import { sendEmail } from "../connectors/email.ts";
import { ActionError, actionConnection, checkFields, optionalString, renderPlain, stringList } from "./support.ts";

const OPTIONAL = ["from", "region", "email_conn", "attachments"] as const;

export const emailAction: ActionKind = {
  name: "email",
  async run(action) {
    checkFields(action, ["action", "to", "subject", "message"], OPTIONAL);
    const spec = action.spec;
    const to = stringList(spec.to, "to");
    const subject = await renderPlain(action, spec.subject);
    const message = await renderPlain(action, spec.message);
    const config = action.run.config;
    if (spec.email_conn) {
      const attachments = spec.attachments === undefined ? [] : stringList(spec.attachments, "attachments");
      const { conn, ctx } = await actionConnection(action, "email_conn");
      await sendEmail(conn, ctx, {
        subject,
        message,
        to,
        sender: optionalString(action, "from"),
        attachments: await renderEach(action, attachments),
      });
      return;
    }
    if (spec.attachments && (!Array.isArray(spec.attachments) || spec.attachments.length)) {
      throw new ActionError("email_conn must be specified to enable attachments");
    }
    const region = spec.region === undefined ? config.str("SES_REGION") : String(spec.region);
    const sender = spec.from === undefined ? config.str("SES_FROM") : String(spec.from);
    if (!sender) throw new ActionError("No sender: give the action a `from` or set SES_FROM");
    const html = message.slice(0, 6).toUpperCase() === "<HTML>";
    await action.run.ports.email.send(
      { from: sender, to, subject, ...(html ? { html: message } : { text: message }) },
      { region },
    );
  },
};

/** Renders each entry in order (the first failure ends it, as a map would). */
async function renderEach(action: Parameters<ActionKind["run"]>[0], templates: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const t of templates) out.push(await renderPlain(action, t));
  return out;
}
