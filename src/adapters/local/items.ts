/**
 * Items as stored by the local TableStore: JSON text, with binary values tagged so Uint8Array round-trips.
 * The tag key starts with a NUL character, which no lava attribute name contains, so it cannot be
 * mistaken for a map the caller wrote.
 */
import type { AttributeValue, Condition, Filter, Item, ItemUpdate } from "../../ports/tables.ts";
import { ConditionFailedError, PortError } from "../../ports/errors.ts";

const BINARY_TAG = "\u0000bin";

export function encodeItem(item: Item): string {
  return JSON.stringify(item, function (this: Record<string, unknown>, key, value: unknown) {
    // JSON.stringify hands a Buffer to the replacer already converted by its toJSON; the holder has the original.
    const raw = this[key];
    return raw instanceof Uint8Array ? { [BINARY_TAG]: Buffer.from(raw).toString("base64") } : value;
  });
}

export function decodeItem(text: string): Item {
  return JSON.parse(text, (_key, value: unknown) => {
    if (value && typeof value === "object" && !Array.isArray(value)) {
      const tagged = (value as Record<string, unknown>)[BINARY_TAG];
      if (typeof tagged === "string") return new Uint8Array(Buffer.from(tagged, "base64"));
    }
    return value;
  }) as Item;
}

/** Deep equality with DynamoDB's typing: 1 and "1" differ, lists compare in order, maps by keys. */
export function valuesEqual(a: AttributeValue | undefined, b: AttributeValue | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && Buffer.from(a).equals(Buffer.from(b));
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => valuesEqual(v, b[i]));
  }
  if (typeof a === "object" && typeof b === "object") {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && valuesEqual(a[k], b[k]));
  }
  return false;
}

export function conditionHolds(current: Item | undefined, condition: Condition | undefined): boolean {
  if (!condition) return true;
  switch (condition.kind) {
    case "notExists":
      return current === undefined;
    case "exists":
      return current !== undefined;
    case "attributeEquals":
      return current !== undefined && valuesEqual(current[condition.attribute], condition.value);
    case "attributeNotExists":
      return current === undefined || !Object.hasOwn(current, condition.attribute);
  }
}

export function checkCondition(table: string, current: Item | undefined, condition: Condition | undefined): void {
  if (!conditionHolds(current, condition)) {
    throw new ConditionFailedError(`${table}: condition ${condition?.kind} did not hold`);
  }
}

/** Filters are ANDed. A comparison against a missing attribute is false, except `ne`, which is true. */
export function matchesFilters(item: Item, filters: Filter[] | undefined): boolean {
  return (filters ?? []).every((f) => matchesFilter(item, f));
}

function matchesFilter(item: Item, f: Filter): boolean {
  const present = Object.hasOwn(item, f.attribute);
  const value = item[f.attribute];
  switch (f.op) {
    case "exists":
      return present;
    case "notExists":
      return !present;
    case "eq":
      return present && valuesEqual(value, f.value);
    case "ne":
      return !present || !valuesEqual(value, f.value);
    case "beginsWith":
      if (typeof value === "string") return value.startsWith(f.value);
      if (value instanceof Uint8Array) return Buffer.from(value).toString("utf8").startsWith(f.value);
      return false;
    case "contains":
      if (typeof value === "string") return value.includes(f.value);
      if (Array.isArray(value)) return value.some((v) => valuesEqual(v, f.value));
      return false;
  }
}

/** Applies an update to a copy of `current` (or of the bare key when absent), DynamoDB UpdateItem style. */
export function applyUpdate(table: string, base: Item, update: ItemUpdate, keyNames: string[]): Item {
  const touched = [
    ...Object.keys(update.set ?? {}),
    ...Object.keys(update.append ?? {}),
    ...Object.keys(update.add ?? {}),
    ...(update.remove ?? []),
  ];
  const keyTouched = touched.find((name) => keyNames.includes(name));
  if (keyTouched) throw new PortError(`${table}: an update cannot change key attribute "${keyTouched}"`);
  const next: Item = { ...base };
  for (const [name, value] of Object.entries(update.set ?? {})) next[name] = value;
  for (const [name, values] of Object.entries(update.append ?? {})) {
    const existing = next[name] ?? [];
    if (!Array.isArray(existing)) throw new PortError(`${table}: cannot append to non-list attribute "${name}"`);
    next[name] = [...existing, ...values];
  }
  for (const [name, amount] of Object.entries(update.add ?? {})) {
    const existing = next[name] ?? 0;
    if (typeof existing !== "number") throw new PortError(`${table}: cannot add to non-number attribute "${name}"`);
    next[name] = existing + amount;
  }
  for (const name of update.remove ?? []) delete next[name];
  return next;
}
