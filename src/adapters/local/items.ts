/**
 * Items as stored by the local TableStore: JSON text, with binary values tagged so Uint8Array round-trips.
 * The tag key starts with a NUL character, which no lava attribute name contains, so it cannot be
 * mistaken for a map the caller wrote.
 */
import type { Condition, Item, ItemUpdate } from "../../ports/tables.ts";
import { ConditionFailedError, ValidationError } from "../../ports/errors.ts";
import { valuesEqual } from "../common/filters.ts";

const BINARY_TAG = "\u0000bin";

export function encodeItem(item: Item): string {
  // A replacer costs a call per value (the worker writes an events item per job); a tree of plain objects,
  // arrays and scalars with no binary in it is written the same without one.
  if (plainWithoutBinary(item, 0)) return JSON.stringify(item);
  return JSON.stringify(item, function (this: Record<string, unknown>, key, value: unknown) {
    // JSON.stringify hands a Buffer to the replacer already converted by its toJSON; the holder has the original.
    const raw = this[key];
    return raw instanceof Uint8Array ? { [BINARY_TAG]: Buffer.from(raw).toString("base64") } : value;
  });
}

/** True when `value` holds only scalars, arrays and plain objects, and no Uint8Array; false also when unsure. */
function plainWithoutBinary(value: unknown, depth: number): boolean {
  // A function may be a toJSON, whose result the replacer would see: left to the replacer path.
  if (typeof value === "function") return false;
  if (value === null || typeof value !== "object") return true;
  if (depth > 32) return false;
  if (Array.isArray(value)) {
    for (const v of value) if (!plainWithoutBinary(v, depth + 1)) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const v of Object.values(value)) if (!plainWithoutBinary(v, depth + 1)) return false;
  return true;
}

export function decodeItem(text: string): Item {
  // A reviver costs a call per value (measured: the dispatcher reading 1,000 jobs); only text holding a
  // NUL escape can hold the tag (JSON.stringify always writes NUL as \u0000), so the rest skips it.
  if (!text.includes("\\u0000")) return JSON.parse(text) as Item;
  return JSON.parse(text, (_key, value: unknown) => {
    if (value && typeof value === "object" && !Array.isArray(value)) {
      const tagged = (value as Record<string, unknown>)[BINARY_TAG];
      if (typeof tagged === "string") return new Uint8Array(Buffer.from(tagged, "base64"));
    }
    return value;
  }) as Item;
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

/** Applies an update to a copy of `current` (or of the bare key when absent), DynamoDB UpdateItem style. */
export function applyUpdate(table: string, base: Item, update: ItemUpdate, keyNames: string[]): Item {
  const touched = [
    ...Object.keys(update.set ?? {}),
    ...Object.keys(update.append ?? {}),
    ...Object.keys(update.add ?? {}),
    ...(update.remove ?? []),
  ];
  const keyTouched = touched.find((name) => keyNames.includes(name));
  if (keyTouched) throw new ValidationError(`${table}: an update cannot change key attribute "${keyTouched}"`);
  const next: Item = { ...base };
  for (const [name, value] of Object.entries(update.set ?? {})) next[name] = value;
  for (const [name, values] of Object.entries(update.append ?? {})) {
    const existing = next[name] ?? [];
    if (!Array.isArray(existing)) throw new ValidationError(`${table}: cannot append to non-list attribute "${name}"`);
    next[name] = [...existing, ...values];
  }
  for (const [name, amount] of Object.entries(update.add ?? {})) {
    const existing = next[name] ?? 0;
    if (typeof existing !== "number") throw new ValidationError(`${table}: cannot add to non-number attribute "${name}"`);
    next[name] = existing + amount;
  }
  for (const name of update.remove ?? []) delete next[name];
  return next;
}
