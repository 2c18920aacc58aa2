/** Key checks on spec maps, worded as the original words them (users grep their logs for these). */

/** Throws `Missing keys: …` / `Unexpected keys: …` as the original's checks word it. */
export function dictCheck(
  d: Record<string, unknown>,
  required: readonly string[] | null,
  optional: readonly string[] | null,
  /** Skip `X-*` / `x-*` keys (connection items and job specs allow them; job parameters do not). */
  ignoreXKeys = false,
): void {
  const keys = Object.keys(d).filter((k) => !(ignoreXKeys && /^[xX]-/.test(k)));
  if (required) {
    const missing = required.filter((k) => !keys.includes(k)).sort();
    if (missing.length) throw new Error(`Missing keys: ${missing.join(", ")}`);
  }
  if (optional) {
    const allowed = new Set([...(required ?? []), ...optional]);
    const unexpected = keys.filter((k) => !allowed.has(k)).sort();
    if (unexpected.length) throw new Error(`Unexpected keys: ${unexpected.join(", ")}`);
  }
}
