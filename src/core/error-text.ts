/** Error text for events and results, worded as the original words it. */
// From the engine's errors module, not its index: a worker that renders nothing starts without the engine.
import { TemplateError } from "../jinja/errors.ts";
import { scrubSecrets } from "./secrets.ts";

/**
 * A template error reads as Python's `str(e)` of the Jinja exception: the bare reason, without our class
 * name and position prefix/suffix, so a job's `error` is the same text whichever worker ran it.
 */
export function errorText(e: unknown): string {
  if (e instanceof TemplateError) return scrubSecrets(e.detail);
  return scrubSecrets(e instanceof Error ? e.message : String(e));
}
