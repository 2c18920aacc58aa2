/**
 * The `jinja` job parameter: whether a job's payload, `args` and `env` are rendered as templates, and what
 * a dispatch may do to it. Rendering runs template text in the worker, so the setting belongs to the job:
 * a dispatch may turn it off for one run but never on for a job that has it off (a deliberate difference
 * from the original, whose dispatch parameters simply override the job's; see docs/WORKER.md).
 */

/** Python truthiness of the `jinja` parameter (absent = on). */
export function jinjaEnabled(parameters: Record<string, unknown>): boolean {
  const v = parameters.jinja;
  if (v === undefined) return true;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "object" && v !== null && !(v instanceof Date)) return Object.keys(v).length > 0;
  return Boolean(v);
}

/** Dispatch parameters as they are laid over the job's: without a `jinja` that would switch rendering on. */
export function acceptedDispatchParameters(job: Record<string, unknown>, dispatch: Record<string, unknown>): Record<string, unknown> {
  if (!Object.hasOwn(dispatch, "jinja") || jinjaEnabled(job)) return dispatch;
  const { jinja: _refused, ...rest } = dispatch;
  return rest;
}
