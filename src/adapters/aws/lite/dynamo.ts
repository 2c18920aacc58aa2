/**
 * DynamoDB GetItem, BatchGetItem and UpdateItem (a worker's whole table traffic) over the lite client;
 * every other table operation stays on the SDK document client.
 */
import type { AttributeValue, Condition, Item, ItemUpdate, Key } from "../../../ports/tables.ts";
import { awsCall } from "../errors.ts";
import { batchGetInChunks, conditionExpression, DynamoTableStore, Expr, updateExpression, type DynamoClients } from "../tables.ts";
import type { LiteService } from "./client.ts";

type Wire = Record<string, unknown>;

/** A key as DynamoDB attribute values (keys are strings or numbers only). */
export function marshalKey(key: Key): Record<string, Wire> {
  const out: Record<string, Wire> = {};
  for (const [name, value] of Object.entries(key)) out[name] = typeof value === "number" ? { N: String(value) } : { S: value };
  return out;
}

/** A plain value as a DynamoDB attribute value, as lib-dynamodb marshals it (lists stay lists; undefined map entries vanish). */
export function marshalValue(value: unknown): Wire {
  if (value === null || value === undefined) return { NULL: true };
  switch (typeof value) {
    case "string":
      return { S: value };
    case "boolean":
      return { BOOL: value };
    case "bigint":
      return { N: value.toString() };
    case "number":
      if (!Number.isFinite(value)) throw new Error(`Special numeric value ${value} is not allowed`);
      return { N: String(value) };
  }
  if (value instanceof Uint8Array) return { B: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64") };
  if (Array.isArray(value)) return { L: value.filter((v) => v !== undefined).map(marshalValue) };
  if (value instanceof Set) {
    const members = [...value];
    if (members.every((m) => typeof m === "number" || typeof m === "bigint")) return { NS: members.map(String) };
    return { SS: members.map(String) };
  }
  if (typeof value === "object") return { M: marshalMap(value as Record<string, unknown>) };
  throw new Error(`Unsupported value type: ${typeof value}`);
}

export function marshalMap(record: Record<string, unknown>): Record<string, Wire> {
  const out: Record<string, Wire> = {};
  for (const [name, v] of Object.entries(record)) if (v !== undefined) out[name] = marshalValue(v);
  return out;
}

/**
 * As lib-dynamodb's default unmarshalling, except that sets come out as arrays (the ports have no sets):
 * numbers beyond the safe integer range become BigInt, binary becomes bytes.
 */
export function unmarshalValue(wire: Wire): AttributeValue {
  for (const [type, value] of Object.entries(wire)) {
    if (value === undefined) continue;
    switch (type) {
      case "NULL":
        return null;
      case "BOOL":
        return Boolean(value);
      case "S":
        return value as string;
      case "N":
        return number(value as string);
      case "B":
        return bytes(value as string);
      case "L":
        return (value as Wire[]).map(unmarshalValue);
      case "M":
        return unmarshalItem(value as Record<string, Wire>);
      case "SS":
        return [...(value as string[])];
      case "NS":
        return (value as string[]).map(number);
      case "BS":
        return (value as string[]).map(bytes);
      default:
        throw new Error(`Unsupported type passed: ${type}`);
    }
  }
  // The attribute itself is never quoted: it is item data and may be a secret.
  throw new Error(`No value defined in an attribute with keys: ${Object.keys(wire ?? {}).join(", ") || "(none)"}`);
}

export function unmarshalItem(wire: Record<string, Wire>): Item {
  const out: Item = {};
  for (const [name, value] of Object.entries(wire)) out[name] = unmarshalValue(value);
  return out;
}

function number(text: string): AttributeValue {
  const n = Number(text);
  if ((n > Number.MAX_SAFE_INTEGER || n < Number.MIN_SAFE_INTEGER) && Number.isFinite(n)) {
    try {
      // The port type has no bigint, but lib-dynamodb hands these out and we keep its behaviour.
      return BigInt(text) as unknown as AttributeValue;
    } catch {
      throw new Error(`${text} can't be converted to BigInt. Set options.wrapNumbers to get string value.`);
    }
  }
  return n;
}

function bytes(base64: string): Uint8Array {
  return new Uint8Array(Buffer.from(base64, "base64"));
}

export class LiteDynamoTableStore extends DynamoTableStore {
  constructor(
    clients: () => Promise<DynamoClients>,
    private readonly lite: LiteService,
  ) {
    super(clients);
  }

  override async get(table: string, key: Key, opts?: { consistent?: boolean }): Promise<Item | undefined> {
    const route = await this.lite.route();
    if (!route) return super.get(table, key, opts);
    const input: Record<string, unknown> = { TableName: table, Key: marshalKey(key) };
    if (opts?.consistent !== undefined) input.ConsistentRead = opts.consistent;
    const out = await awsCall(`get ${table}`, () => this.lite.call(route, "GetItem", input), { kind: "table", name: table });
    const item = out.Item as Record<string, Wire> | undefined;
    return item ? unmarshalItem(item) : undefined;
  }

  override async batchGet(table: string, keys: Key[], opts?: { consistent?: boolean }): Promise<(Item | undefined)[]> {
    const route = await this.lite.route();
    if (!route) return super.batchGet(table, keys, opts);
    return batchGetInChunks(table, keys, async (chunk) => {
      const request: Record<string, unknown> = { Keys: chunk.map(marshalKey) };
      if (opts?.consistent !== undefined) request.ConsistentRead = opts.consistent;
      const out = await awsCall(`batch get ${table}`, () => this.lite.call(route, "BatchGetItem", { RequestItems: { [table]: request } }), { kind: "table", name: table });
      const responses = (out.Responses as Record<string, Record<string, Wire>[]> | undefined)?.[table] ?? [];
      const unprocessed = (out.UnprocessedKeys as Record<string, { Keys?: Record<string, Wire>[] }> | undefined)?.[table]?.Keys ?? [];
      return { items: responses.map(unmarshalItem), unprocessed: unprocessed.map((k) => unmarshalItem(k) as Key) };
    });
  }

  override async update(table: string, key: Key, update: ItemUpdate, opts?: { condition?: Condition }): Promise<Item> {
    const route = await this.lite.route();
    if (!route) return super.update(table, key, update, opts);
    const expr = new Expr();
    const updateExpr = updateExpression(expr, update);
    const condition = opts?.condition ? conditionExpression(expr, opts.condition, Object.keys(key)) : undefined;
    const input: Record<string, unknown> = { TableName: table, Key: marshalKey(key), ReturnValues: "ALL_NEW" };
    // An empty update still creates the item from its key, as UpdateItem does.
    if (updateExpr) input.UpdateExpression = updateExpr;
    if (condition) input.ConditionExpression = condition;
    const attrs = expr.attributes();
    if (attrs.ExpressionAttributeNames) input.ExpressionAttributeNames = attrs.ExpressionAttributeNames;
    if (attrs.ExpressionAttributeValues) input.ExpressionAttributeValues = marshalMap(attrs.ExpressionAttributeValues);
    const out = await awsCall(`update ${table}`, () => this.lite.call(route, "UpdateItem", input), { kind: "table", name: table });
    const item = out.Attributes as Record<string, Wire> | undefined;
    return item ? unmarshalItem(item) : { ...key };
  }
}
