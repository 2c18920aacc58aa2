/**
 * Key-value tables (DynamoDB in AWS, SQLite locally).
 *
 * Items are plain JSON-like values: string, number, boolean, null, arrays, maps, and Uint8Array for
 * binary. Adapters convert to and from their own typing (DynamoDB attribute values, JSON text) so the
 * domain never sees it. Numbers round-trip as JS numbers.
 */
export type AttributeValue =
  | string
  | number
  | boolean
  | null
  | Uint8Array
  | AttributeValue[]
  | { [name: string]: AttributeValue };

export type Item = Record<string, AttributeValue>;
export type Key = Record<string, string | number>;

/** A condition on the current item, checked atomically with a write. */
export type Condition =
  | { kind: "notExists" } // no item with this key yet
  | { kind: "exists" } // an item with this key exists
  | { kind: "attributeEquals"; attribute: string; value: AttributeValue }
  | { kind: "attributeNotExists"; attribute: string };

/** One atomic update of an item, created if absent (DynamoDB UpdateItem semantics). */
export interface ItemUpdate {
  /** SET name = value. A null value is stored as NULL (not removed). */
  set?: Record<string, AttributeValue>;
  /** SET name = list_append(if_not_exists(name, []), values). */
  append?: Record<string, AttributeValue[]>;
  /** ADD name :n on a number (missing counts as 0). */
  add?: Record<string, number>;
  /** REMOVE name. */
  remove?: string[];
}

/** Simple attribute filters, ANDed, evaluated after reading (like a DynamoDB FilterExpression). */
export type Filter =
  | { attribute: string; op: "eq" | "ne"; value: AttributeValue }
  | { attribute: string; op: "beginsWith" | "contains"; value: string }
  | { attribute: string; op: "exists" | "notExists" };

export interface Page {
  items: Item[];
  /** Present when more items may follow; pass back as `startKey`. */
  lastKey?: Key;
}

export interface QueryInput {
  /** Secondary index name (GSI or LSI); omitted = the table's primary key. */
  index?: string;
  hash: { name: string; value: string | number };
  range?: {
    name: string;
    op: "eq" | "lt" | "le" | "gt" | "ge" | "beginsWith" | "between";
    value: string | number;
    /** Upper bound for `between`. */
    value2?: string | number;
  };
  filter?: Filter[];
  limit?: number;
  startKey?: Key;
  /** Default true (ascending on the range key). */
  forward?: boolean;
  consistent?: boolean;
}

export interface ScanInput {
  filter?: Filter[];
  limit?: number;
  startKey?: Key;
  consistent?: boolean;
}

export interface IndexSpec {
  name: string;
  kind: "global" | "local";
  hash: string;
  range?: string;
  /** Projected non-key attributes; omitted = ALL. */
  include?: string[];
}

export interface TableSpec {
  name: string;
  hash: string;
  range?: string;
  indexes?: IndexSpec[];
  /** Attribute holding an epoch-seconds expiry time. */
  ttlAttribute?: string;
}

export interface TableStore {
  get(table: string, key: Key, opts?: { consistent?: boolean }): Promise<Item | undefined>;
  /**
   * Several `get`s in as few requests as the backend allows (DynamoDB BatchGetItem, 100 keys each;
   * duplicate keys are read once). Resolves with one entry per key, in order, undefined when absent.
   */
  batchGet(table: string, keys: Key[], opts?: { consistent?: boolean }): Promise<(Item | undefined)[]>;
  /** Throws ConditionFailedError when `condition` does not hold. */
  put(table: string, item: Item, opts?: { condition?: Condition }): Promise<void>;
  /** Returns the item after the update. Throws ConditionFailedError when `condition` does not hold. */
  update(table: string, key: Key, update: ItemUpdate, opts?: { condition?: Condition }): Promise<Item>;
  delete(table: string, key: Key, opts?: { condition?: Condition }): Promise<void>;
  /** One page; callers loop on `lastKey`. Pages stop at `limit` items or the backend's page size (1 MB in DynamoDB). */
  query(table: string, input: QueryInput): Promise<Page>;
  scan(table: string, input?: ScanInput): Promise<Page>;
  createTable(spec: TableSpec): Promise<void>;
  tableExists(table: string): Promise<boolean>;
}

/** Iterate every item of a query or scan, following pages. */
export async function* allPages(next: (startKey?: Key) => Promise<Page>): AsyncGenerator<Item> {
  let startKey: Key | undefined;
  do {
    const page = await next(startKey);
    yield* page.items;
    startKey = page.lastKey;
  } while (startKey);
}
