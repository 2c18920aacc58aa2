/**
 * Secret values this process has seen, so that they can be cut out of any text before it leaves: log
 * messages, event `info`, error text in results. Field-name redaction (log/redact.ts) catches a secret
 * that sits in a field called `password`; this catches the same value once it has been pasted into a
 * sentence ("login failed for s3cr3t@host"), which names cannot.
 *
 * Values are learnt where they enter: a decrypted SSM parameter or a Secrets Manager secret read through
 * the ports (`trackSecrets`), and the secret-named fields of a connection item (`rememberSecretFields`).
 */
import type { ParameterPort, Ports } from "../ports/index.ts";
import { isSecretName, MAX_REDACT_DEPTH, REDACTED, TOO_DEEP } from "./log/redact.ts";

/** Shorter values are not learnt: cutting every "abc" out of logs would hide more than it protects. */
const MIN_SECRET_LENGTH = 6;
/** A bound on what a long-running worker keeps; the oldest are forgotten first. */
const MAX_SECRETS = 4096;

const known = new Set<string>();
let pattern: RegExp | undefined;

/**
 * Learns `value` and, for a JSON object such as a Secrets Manager secret, each of its secret-named string
 * fields (`password`, not `host` or `dbname`, whose values are ordinary words that must stay readable).
 */
export function rememberSecret(value: unknown): void {
  if (typeof value !== "string") return;
  learn(value);
  if (value.trimStart().startsWith("{")) {
    try {
      const parsed = JSON.parse(value) as unknown;
      if (parsed && typeof parsed === "object") {
        for (const [k, v] of Object.entries(parsed)) if (typeof v === "string" && isSecretName(k)) learn(v);
      }
    } catch {
      // Not JSON: the whole string, learnt above, is the secret.
    }
  }
}

function learn(value: string): void {
  if (value.length < MIN_SECRET_LENGTH || known.has(value)) return;
  if (known.size >= MAX_SECRETS) known.delete(known.values().next().value!);
  known.add(value);
  pattern = undefined;
}

/**
 * Fields of a connection that name where a secret is kept (an SSM parameter, a Secrets Manager id), not the
 * secret itself: their values stay readable in errors ("cannot read parameter /x/y").
 */
const REFERENCE_FIELDS = new Set(["password", "secret_id", "access_keys", "ssh_key", "client_secret"]);

/** Learns the values of the secret-named fields of an item (a connection's `webhook_url`, ...). */
export function rememberSecretFields(item: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(item)) if (isSecretName(k) && !REFERENCE_FIELDS.has(k)) rememberSecret(v);
}

/** `text` with every known secret value replaced by REDACTED. */
export function scrubSecrets(text: string): string {
  if (known.size === 0 || text.length < MIN_SECRET_LENGTH) return text;
  pattern ??= new RegExp([...known].sort((a, b) => b.length - a.length).map(escapeRegExp).join("|"), "g");
  return text.replace(pattern, REDACTED);
}

/** A copy of `value` with known secret values cut from every string in it, at any depth. */
export function scrubDeep(value: unknown, depth = 0): unknown {
  if (known.size === 0) return value;
  if (typeof value === "string") return scrubSecrets(value);
  if (value === null || typeof value !== "object") return value;
  if (depth > MAX_REDACT_DEPTH) return TOO_DEEP;
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, depth + 1));
  if (value instanceof Date || value instanceof Uint8Array) return value;
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [k, scrubDeep(v, depth + 1)]));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubDeep(v, depth + 1);
  return out;
}

/** A `secure` state value is JSON text once decrypted: learn the text and, for a JSON string, the string. */
function rememberDecrypted(plain: Uint8Array): void {
  const text = new TextDecoder().decode(plain);
  rememberSecret(text);
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed === "string") rememberSecret(parsed);
  } catch {
    // Not JSON: learnt whole above.
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Tests: forget every learnt value. */
export function forgetSecrets(): void {
  known.clear();
  pattern = undefined;
}

const TRACKED = Symbol("lava.trackedSecrets");

/**
 * The same ports, with decrypted parameters and secrets learnt as they are read. Idempotent: wrapping
 * twice learns once.
 */
export function trackSecrets<P extends Ports>(ports: P): P {
  if ((ports as unknown as Record<symbol, unknown>)[TRACKED]) return ports;
  const params = ports.params;
  const tracked: ParameterPort = {
    getParameter: async (name, opts) => {
      const value = await params.getParameter(name, opts);
      if (opts?.decrypt) rememberSecret(value);
      return value;
    },
    getSecret: async (id) => {
      const value = await params.getSecret(id);
      rememberSecret(value);
      return value;
    },
    encrypt: (keyId, plaintext) => params.encrypt(keyId, plaintext),
    decrypt: async (ciphertext) => {
      const plain = await params.decrypt(ciphertext);
      rememberDecrypted(plain);
      return plain;
    },
  };
  return new Proxy(ports, {
    get(target, prop, receiver) {
      if (prop === TRACKED) return true;
      if (prop === "params") return tracked;
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
