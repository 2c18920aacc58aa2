/**
 * DynamoDB's filter semantics on items held in memory, for any adapter: the local store filters every page
 * with them, and the DynamoDB store applies the filters DynamoDB refuses (on the queried key) to the page
 * it gets back.
 */
import type { AttributeValue, Filter, Item } from "../../ports/tables.ts";

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
