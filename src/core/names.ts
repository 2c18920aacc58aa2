/** Resource names shared with the original lava; both implementations must agree on every one. */

export const REALMS_TABLE = "lava.realms";

export type RealmTable = "jobs" | "connections" | "s3triggers" | "events" | "state";

export function realmTable(realm: string, table: RealmTable): string {
  return `lava.${realm}.${table}`;
}

export function workerQueueName(realm: string, worker: string): string {
  return `lava-${realm}-${worker}`;
}
