/** Field checks and conversions every action kind shares. */
import { parseDuration } from "../core/config.ts";
import { pyJsonDumps } from "../core/pyformat.ts";
import { dictCheck } from "../core/dict-check.ts";
import { errorText } from "../core/error-text.ts";
import { getConnectionSpec } from "../connectors/spec.ts";
import type { ConnectionSpec, ConnectorContext } from "../connectors/types.ts";
import { renderEachString } from "../core/template-values.ts";
import type { ActionRun } from "./types.ts";

export class ActionError extends Error {
  override name = "ActionError";
}

export function checkFields(action: ActionRun, required: readonly string[], optional: readonly string[] | null): void {
  try {
    dictCheck(action.spec, required, optional);
  } catch (e) {
    throw new ActionError((e as Error).message);
  }
}

/** Renders, or throws `<what> - <reason>` / `<what>: <reason>` as the caller words it. */
export async function renderOr(action: ActionRun, template: unknown, fail: (reason: string) => string): Promise<string> {
  try {
    return await action.render(String(template));
  } catch (e) {
    throw new ActionError(fail(errorText(e)));
  }
}

/**
 * Renders; a failure carries only the Jinja reason, as the original's log, sqs, sns, email, slack and event
 * actions let the template error through unwrapped (only dispatch and state word their own prefix).
 */
export function renderPlain(action: ActionRun, template: unknown): Promise<string> {
  return renderOr(action, template, (reason) => reason);
}

/** `delay`: a duration of whole seconds within 0..SQS_MAX_DELAY_MINS minutes. */
export function delaySeconds(action: ActionRun): number {
  const raw = action.spec.delay ?? 0;
  const maxMinutes = action.run.config.int("SQS_MAX_DELAY_MINS");
  let seconds: number;
  try {
    seconds = Math.trunc(parseDuration(raw as string | number));
  } catch (e) {
    throw new ActionError(`Bad delay: ${String(raw)}: ${(e as Error).message}`);
  }
  if (!(seconds >= 0 && seconds <= maxMinutes * 60)) {
    throw new ActionError(`Bad delay: ${String(raw)}: Must be between 0 and ${maxMinutes} minutes`);
  }
  return seconds;
}

/**
 * A `message` field: a string is rendered; anything else has each of its strings rendered, then is
 * JSON-encoded (the original encoded first and rendered the JSON text, so an error message holding `"` could
 * add fields to the message).
 */
export async function renderedMessage(action: ActionRun): Promise<string> {
  const message = action.spec.message;
  if (typeof message === "string") return renderPlain(action, message);
  return pyJsonDumps(await renderEachString(message, (t) => renderPlain(action, t)));
}

/** A structured field (`value`) with each string rendered on its own (see template-values.ts). */
export function renderStructure(action: ActionRun, value: unknown): Promise<unknown> {
  return renderEachString(value, action.render);
}

/** The connection named by the field `connField` (`email_conn`, `slack_conn`) and the context to use it in. */
export async function actionConnection(
  action: ActionRun,
  connField: string,
): Promise<{ conn: ConnectionSpec; ctx: ConnectorContext }> {
  const ctx: ConnectorContext = { ports: action.run.ports, realm: action.run.realm.realm, config: action.run.config };
  return { conn: await getConnectionSpec(ctx.ports, ctx.realm, String(action.spec[connField])), ctx };
}

/** A free-form optional field as text; absent stays absent. */
export function optionalString(action: ActionRun, field: string): string | undefined {
  const value = action.spec[field];
  return value === undefined ? undefined : String(value);
}

export function stringList(value: unknown, field: string): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value;
  throw new ActionError(`${field} must be a string or a list of strings`);
}
