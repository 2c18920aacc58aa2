/**
 * Secrets never reach a log line. Field names that look like they hold secret material have their
 * values replaced, at any depth. The list errs on the side of hiding: a hidden harmless value costs
 * less than a leaked password.
 */
const SECRET_NAME =
  /(pass(word|wd|phrase)?$|^pwd$|secret|token|credential|private[_-]?key|access[_-]?key|api[_-]?key|session[_-]?key|client[_-]?key|sig(nature)?$|^authorization$|^cookie$|webhook|^url$|^dsn$|conn(ection)?[_-]?string)/i;

export const REDACTED = "********";
/** What stands for a structure nested deeper than redaction looks. */
export const TOO_DEEP = "[nested too deep]";
export const MAX_REDACT_DEPTH = 32;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** What a field shows instead of its value: REDACTED for a non-empty value under a secret name, else undefined. */
export function redactedValue(key: string, value: unknown): string | undefined {
  return isSecretName(key) && value !== undefined && value !== null && value !== "" ? REDACTED : undefined;
}

/** A copy of `value` with the values of secret-named fields replaced by REDACTED. */
export function redact(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== "object") return value;
  // Past this depth nothing is checked, so nothing is shown: a secret could sit further down.
  if (depth > MAX_REDACT_DEPTH) return TOO_DEEP;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value instanceof Date || value instanceof Uint8Array || value instanceof Error) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = redactedValue(k, v) ?? redact(v, depth + 1);
  }
  return out;
}
