/**
 * Slack connections: a webhook URL plus display defaults. Message layouts (`block`, `attachment`, `plain`)
 * follow the original so channels look the same whichever implementation sent the message.
 */
import { checkConnection } from "./spec.ts";
import { ConnectionError, type ConnectionSpec, type Connector, type ConnectorContext } from "./types.ts";

const SLACK_REQUIRED_FIELDS = ["webhook_url"] as const;
const SLACK_OPTIONAL_FIELDS = ["from", "style", "colour", "preamble"] as const;
const STYLES = ["block", "attachment", "plain"] as const;
type SlackStyle = (typeof STYLES)[number];

export const DEFAULT_COLOUR = "#bbbbbb";
export const MAX_SUBJECT_LEN = 250;
export const MAX_MESSAGE_LEN = 3000;
const REQUEST_TIMEOUT_MS = 10_000;

export const slackConnector: Connector = { types: ["slack"] };

export interface SlackRequest {
  message: string;
  subject?: string;
  preamble?: string;
  sender?: string;
  style?: string;
  colour?: string;
}

export async function sendSlack(spec: ConnectionSpec, ctx: ConnectorContext, req: SlackRequest, now = new Date()): Promise<void> {
  checkConnection(spec, ctx.realm, slackConnector.types, SLACK_REQUIRED_FIELDS, SLACK_OPTIONAL_FIELDS);
  const body = slackMessage(spec, ctx.realm, req, Math.trunc(now.getTime() / 1000));
  const url = String(spec.webhook_url);
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (e) {
    // The webhook URL is a credential: it is never part of an error.
    throw new ConnectionError(`Connection ${spec.conn_id}: Slack request failed: ${(e as Error).name}`, { realm: ctx.realm, conn_id: spec.conn_id });
  }
  if (!response.ok) {
    const text = (await response.text()).slice(0, 200);
    throw new ConnectionError(`Slack response ${response.status} - ${text}`, { realm: ctx.realm, conn_id: spec.conn_id });
  }
}

/** The webhook payload. Options fall back to the connection's, then to lava's defaults. */
export function slackMessage(spec: ConnectionSpec, realm: string, req: SlackRequest, ts: number): Record<string, unknown> {
  if (!req.message) throw new ConnectionError("Cannot send slack message: message must be specified", { realm, conn_id: spec.conn_id });
  const sender = req.sender || str(spec.from) || `lava@${realm}`;
  const style = (req.style || str(spec.style) || "block") as SlackStyle;
  if (!STYLES.includes(style)) throw new ConnectionError(`Bad slack message style: ${style}`, { realm, conn_id: spec.conn_id });
  const preamble = req.preamble || str(spec.preamble);
  let colour = req.colour || str(spec.colour) || DEFAULT_COLOUR;
  if (!colour.startsWith("#")) colour = `#${colour}`;
  const subject = req.subject ? req.subject.slice(0, MAX_SUBJECT_LEN) : "";
  const message = req.message.slice(0, MAX_MESSAGE_LEN);
  const plain = [preamble, sender && `*${sender}*:`, subject && `*${subject}*:`, message].filter(Boolean).join(" ");
  if (style === "plain") return { text: plain };
  if (style === "attachment") {
    const attachment: Record<string, unknown> = {
      fallback: message,
      author_name: sender,
      color: colour,
      text: message,
      footer: "Event time",
      ts,
    };
    if (subject) attachment.title = subject;
    const msg: Record<string, unknown> = { attachments: [attachment] };
    if (preamble) msg.text = preamble;
    return msg;
  }
  const header = [preamble, sender && `*From*: ${sender}`, subject && `*Subject*: ${subject}`].filter(Boolean).join("\n");
  return {
    text: plain,
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: header } },
      { type: "divider" },
      { type: "section", text: { type: "mrkdwn", text: message } },
      { type: "context", elements: [{ type: "mrkdwn", text: `Event time: <!date^${ts}^{date_short_pretty} at {time}| >` }] },
    ],
  };
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}
