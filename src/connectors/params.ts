/**
 * Reading the SSM parameters a connection names (passwords, keys, external ids). Values are decrypted and
 * cached per backend for PARAM_CACHE_TTL, at most PARAM_CACHE_SIZE of them, as the original caches them:
 * a worker running many jobs on one connection asks SSM once every few minutes, not once per job.
 */
import { rememberSecret } from "../core/secrets.ts";
import { errorText } from "../core/error-text.ts";
import { ownedCache, type TtlCache } from "./cache.ts";
import { ConnectionError, type ConnectionSpec, type ConnectorContext } from "./types.ts";

const caches = new WeakMap<object, TtlCache<string>>();

function cacheFor(ctx: ConnectorContext): TtlCache<string> {
  return ownedCache(caches, ctx.ports.params, ctx.config.int("PARAM_CACHE_SIZE"), ctx.config.seconds("PARAM_CACHE_TTL") * 1000);
}

/** The decrypted value of SSM parameter `name`; failures name the parameter, never a value. */
export async function connectionParameter(spec: ConnectionSpec, ctx: ConnectorContext, name: unknown, field: string): Promise<string> {
  if (typeof name !== "string" || !name) throw connectionError(spec, ctx, `${field} must be the name of an SSM parameter`);
  const cache = cacheFor(ctx);
  const hit = cache.get(name);
  if (hit !== undefined) return hit;
  let value: string;
  try {
    value = await ctx.ports.params.getParameter(name, { decrypt: true });
  } catch (e) {
    throw connectionError(spec, ctx, `SSM ${name}: ${errorText(e)}`, e);
  }
  rememberSecret(value);
  cache.set(name, value);
  return value;
}

/** Secrets Manager secret `id` as a JSON object. */
export async function connectionSecret(spec: ConnectionSpec, ctx: ConnectorContext, id: unknown): Promise<Record<string, unknown>> {
  if (typeof id !== "string" || !id) throw connectionError(spec, ctx, "secret_id must be the id of a secret");
  let text: string;
  try {
    text = await ctx.ports.params.getSecret(id);
  } catch (e) {
    throw connectionError(spec, ctx, `Secret ${id}: ${errorText(e)}`, e);
  }
  rememberSecret(text);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw connectionError(spec, ctx, `Secret ${id}: not a JSON object`);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw connectionError(spec, ctx, `Secret ${id}: not a JSON object`);
  return parsed as Record<string, unknown>;
}

export function connectionError(spec: Pick<ConnectionSpec, "conn_id">, ctx: Pick<ConnectorContext, "realm">, message: string, cause?: unknown): ConnectionError {
  return new ConnectionError(`Connection ${spec.conn_id}: ${message}`, { realm: ctx.realm, conn_id: spec.conn_id }, cause);
}

/** Forget cached parameter values (tests). */
export function clearParameterCache(ctx: ConnectorContext): void {
  caches.get(ctx.ports.params)?.clear();
}
