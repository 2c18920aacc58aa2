/** Reads a connection item and checks the fields every connection has. */
import { realmTable } from "../core/names.ts";
import type { Ports } from "../ports/index.ts";
import { dictCheck } from "../core/dict-check.ts";
import { ConnectionError, type ConnectionSpec } from "./types.ts";
import { rememberSecretFields } from "../core/secrets.ts";
import { ItemError, parseConnectionItem, type ConnectionItem } from "../core/items.ts";

export const CONNECTION_REQUIRED_FIELDS = ["conn_id", "type", "enabled"] as const;
export const CONNECTION_OPTIONAL_FIELDS = ["description", "owner", "secret_id"] as const;

/** The connection item; `enabled` defaults to false. Throws when absent or malformed (not when disabled). */
export async function getConnectionSpec(ports: Ports, realm: string, connId: string): Promise<ConnectionSpec> {
  const context = { realm, conn_id: connId };
  const item = await ports.tables.get(realmTable(realm, "connections"), { conn_id: connId });
  if (!item) throw new ConnectionError(`${connId}: No such connection`, context);
  const spec: Record<string, unknown> = { enabled: false, ...item };
  rememberSecretFields(spec);
  try {
    dictCheck(spec, [...CONNECTION_REQUIRED_FIELDS], null, true);
  } catch (e) {
    throw new ConnectionError(`${connId}: Bad connection record: ${(e as Error).message}`, context);
  }
  let parsed: ConnectionItem;
  try {
    // The one validator of connection items, the one `lava put` uses: conn_id and type strings, enabled a boolean.
    parsed = parseConnectionItem(spec);
  } catch (e) {
    if (e instanceof ItemError) throw new ConnectionError(`${connId}: Bad connection record: ${e.field} ${e.reason}`, context);
    throw e;
  }
  return { ...parsed, conn_id: connId, type: parsed.type.toLowerCase() } as ConnectionSpec;
}

/** Checks the type-specific fields and that the connection is enabled. */
export function checkConnection(
  spec: ConnectionSpec,
  realm: string,
  types: readonly string[],
  required: readonly string[],
  /** Null: any other field is allowed. */
  optional: readonly string[] | null,
): void {
  const context = { realm, conn_id: spec.conn_id };
  try {
    dictCheck(spec, [...CONNECTION_REQUIRED_FIELDS, ...required], optional && [...CONNECTION_OPTIONAL_FIELDS, ...optional], true);
  } catch (e) {
    throw new ConnectionError(`Connection ${spec.conn_id}: ${(e as Error).message}`, context);
  }
  if (!types.includes(spec.type)) {
    const wanted = types.map((t) => `"${t}"`).join(" or ");
    throw new ConnectionError(`Connection ${spec.conn_id}: Must be of type ${wanted} not "${spec.type}"`, context);
  }
  if (!spec.enabled) throw new ConnectionError(`Connection ${spec.conn_id}: Not enabled`, context);
}

/** Refuses a disabled connection. */
export function checkEnabled(spec: ConnectionSpec, realm: string): void {
  if (!spec.enabled) throw new ConnectionError(`Connection ${spec.conn_id}: Not enabled`, { realm, conn_id: spec.conn_id });
}
