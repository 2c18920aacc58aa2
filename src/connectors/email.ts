/**
 * Email connections (`type: email`, or the deprecated `ses`). `subtype` picks the sender: `ses` (default),
 * through the EmailPort, or `smtp`, straight to a mail server. Messages are built as MIME once (nodemailer's
 * composer) so attachments and HTML bodies look the same through either path.
 *
 * Divergence from the original: with `tls: true` and port 465 we speak implicit TLS (SMTPS); the original
 * always tries STARTTLS on a plain connection, which cannot work on 465. Other ports with `tls` use STARTTLS.
 * A `user` without `tls` is refused unless SMTP_ALLOW_PLAIN_AUTH is set: the original would send the
 * password in clear over the network.
 */
import { basename } from "node:path";
import nodemailer from "nodemailer";
import MailComposer from "nodemailer/lib/mail-composer";
import type Mail from "nodemailer/lib/mailer";
import { checkConnection } from "./spec.ts";
import { ConnectionError, type ConnectionSpec, type Connector, type ConnectorContext } from "./types.ts";

const EMAIL_OPTIONAL_FIELDS = [
  "from",
  "region",
  "return_path",
  "reply_to",
  "subtype",
  "user",
  "host",
  "password",
  "port",
  "tls",
  "configuration_set",
] as const;

const SMTP_TIMEOUT_MS = 10_000;
const SMTP_PORT = 25;
const SMTPS_PORT = 465;

export const emailConnector: Connector = { types: ["email", "ses"] };

export interface EmailRequest {
  subject: string;
  message: string;
  to?: string | string[];
  cc?: string | string[];
  bcc?: string | string[];
  sender?: string;
  replyTo?: string | string[];
  /** Local paths or `s3://` URIs. */
  attachments?: string[];
}

/** How the original tells an HTML body from text (connector path). */
export function isHtml(text: string): boolean {
  return /^\s*(<html|<!DOCTYPE\s+html)/i.test(text);
}

export function listify(v: string | string[] | undefined): string[] {
  if (v === undefined || v === "") return [];
  return Array.isArray(v) ? v : [v];
}

/** Sends through the connection; throws ConnectionError naming the connection on any failure. */
export async function sendEmail(spec: ConnectionSpec, ctx: ConnectorContext, req: EmailRequest): Promise<void> {
  checkConnection(spec, ctx.realm, emailConnector.types, [], EMAIL_OPTIONAL_FIELDS);
  const subtype = spec.type === "ses" ? "ses" : String(spec.subtype ?? "ses");
  if (subtype !== "ses" && subtype !== "smtp") {
    throw new ConnectionError(`No email handler for type/subtype ${spec.type}/${subtype}`, { realm: ctx.realm, conn_id: spec.conn_id });
  }
  const mail = await composeMail(spec, ctx, req);
  if (subtype === "smtp") await sendSmtp(spec, ctx, mail);
  else await sendSes(spec, ctx, mail, req);
}

async function composeMail(spec: ConnectionSpec, ctx: ConnectorContext, req: EmailRequest): Promise<Mail.Options> {
  const fail = (msg: string) => new ConnectionError(msg, { realm: ctx.realm, conn_id: spec.conn_id });
  const sender = req.sender || stringField(spec.from) || (spec.type === "ses" || spec.subtype !== "smtp" ? ctx.config.str("SES_FROM") : "");
  if (!sender) throw fail("Email sender must be specified");
  const to = listify(req.to);
  const cc = listify(req.cc);
  if (to.length + cc.length === 0) throw fail("No recipients specified for email");
  if (!req.subject || !req.message) throw fail("Cannot send email: subject and message must be specified");
  const replyTo = listify(req.replyTo ?? (spec.reply_to as string | string[] | undefined));
  const mail: Mail.Options = { from: sender, to, cc, bcc: listify(req.bcc), subject: req.subject };
  if (replyTo.length) mail.replyTo = replyTo;
  if (isHtml(req.message)) mail.html = req.message;
  else mail.text = req.message;
  mail.attachments = await loadAttachments(spec, ctx, req.attachments ?? []);
  const size = (await buildMime(mail)).length;
  const max = ctx.config.bytes("EMAIL_MAX_SIZE");
  if (size > max) throw fail(`Email size ${size} bytes exceeds maximum allowed size of ${max} bytes`);
  return mail;
}

async function loadAttachments(spec: ConnectionSpec, ctx: ConnectorContext, names: string[]): Promise<Mail.Attachment[]> {
  const fail = (msg: string) => new ConnectionError(msg, { realm: ctx.realm, conn_id: spec.conn_id });
  const maxCount = ctx.config.int("EMAIL_MAX_ATTACHMENTS");
  if (names.length > maxCount) throw fail(`Too many email attachments (max ${maxCount})`);
  const maxSize = ctx.config.bytes("EMAIL_MAX_ATTACHMENT_SIZE");
  const out: Mail.Attachment[] = [];
  for (const name of names) {
    let content: Uint8Array;
    if (name.startsWith("s3://")) {
      const info = await ctx.ports.objects.head(name);
      if (!info) throw fail(`Attachment ${name} does not exist`);
      if (info.size > maxSize) throw fail(`Attachment ${name} exceeds ${maxSize} bytes`);
      content = new Uint8Array(await new Response(await ctx.ports.objects.get(name)).arrayBuffer());
    } else {
      const file = Bun.file(name);
      if (!(await file.exists())) throw fail(`Attachment ${name} does not exist`);
      if (file.size > maxSize) throw fail(`Attachment ${name} exceeds ${maxSize} bytes`);
      content = new Uint8Array(await file.arrayBuffer());
    }
    out.push({ filename: basename(name), content: Buffer.from(content) });
  }
  return out;
}

function buildMime(mail: Mail.Options): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    new MailComposer(mail).compile().build((err, message) => (err ? reject(err) : resolve(message))),
  );
}

async function sendSes(spec: ConnectionSpec, ctx: ConnectorContext, mail: Mail.Options, req: EmailRequest): Promise<void> {
  const raw = await buildMime(mail);
  const html = typeof mail.html === "string" ? mail.html : undefined;
  const text = typeof mail.text === "string" ? mail.text : undefined;
  const configurationSet = stringField(spec.configuration_set) || ctx.config.str("SES_CONFIGURATION_SET") || undefined;
  try {
    await ctx.ports.email.send(
      {
        from: String(mail.from),
        to: listify(req.to),
        cc: listify(req.cc),
        bcc: listify(req.bcc),
        subject: req.subject,
        text,
        html,
        raw: new Uint8Array(raw),
      },
      { region: stringField(spec.region) || ctx.config.str("SES_REGION"), configurationSet },
    );
  } catch (e) {
    throw new ConnectionError(`${spec.conn_id}: ${(e as Error).message}`, { realm: ctx.realm, conn_id: spec.conn_id });
  }
}

async function sendSmtp(spec: ConnectionSpec, ctx: ConnectorContext, mail: Mail.Options): Promise<void> {
  const context = { realm: ctx.realm, conn_id: spec.conn_id };
  const host = stringField(spec.host);
  if (!host) throw new ConnectionError(`${spec.conn_id}: Bad connection record: Missing keys: host`, context);
  const tls = spec.tls === true || String(spec.tls).toLowerCase() === "true";
  const port = spec.port !== undefined ? Number(spec.port) : tls ? SMTPS_PORT : SMTP_PORT;
  const user = stringField(spec.user);
  if (user && !tls && !ctx.config.bool("SMTP_ALLOW_PLAIN_AUTH")) {
    throw new ConnectionError(
      `${spec.conn_id}: refusing to send SMTP credentials without TLS: set tls: true on the connection (or SMTP_ALLOW_PLAIN_AUTH to allow it)`,
      context,
    );
  }
  let pass: string | undefined;
  if (user) {
    const paramName = stringField(spec.password);
    if (!paramName) throw new ConnectionError(`${spec.conn_id}: password is required if user is specified`, context);
    try {
      pass = await ctx.ports.params.getParameter(paramName, { decrypt: true });
    } catch (e) {
      // The parameter's name may appear; its value never does.
      throw new ConnectionError(`${spec.conn_id}: Cannot get password parameter ${paramName}: ${(e as Error).name}`, context);
    }
  }
  const transport = nodemailer.createTransport({
    host,
    port,
    secure: tls && port === SMTPS_PORT,
    requireTLS: tls && port !== SMTPS_PORT,
    ignoreTLS: !tls,
    auth: user ? { user, pass } : undefined,
    connectionTimeout: SMTP_TIMEOUT_MS,
    greetingTimeout: SMTP_TIMEOUT_MS,
    socketTimeout: SMTP_TIMEOUT_MS,
  });
  try {
    await transport.sendMail(mail);
  } catch (e) {
    throw new ConnectionError(`${spec.conn_id}: ${(e as Error).message}`, context);
  } finally {
    transport.close();
  }
}

function stringField(v: unknown): string {
  return typeof v === "string" ? v : "";
}
