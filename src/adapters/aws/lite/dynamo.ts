/** DynamoDB GetItem over the lite client; every other table operation stays on the SDK document client. */
import type { AttributeValue, Item, Key } from "../../../ports/tables.ts";
import { awsCall } from "../errors.ts";
import { DynamoTableStore, type DynamoClients } from "../tables.ts";
import type { LiteService } from "./client.ts";

type Wire = Record<string, unknown>;

/** A key as DynamoDB attribute values (keys are strings or numbers only). */
export function marshalKey(key: Key): Record<string, Wire> {
  const out: Record<string, Wire> = {};
  for (const [name, value] of Object.entries(key)) out[name] = typeof value === "number" ? { N: String(value) } : { S: value };
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
  throw new Error(`No value defined: ${JSON.stringify(wire)}`);
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
    const out = await awsCall(`get ${table}`, () => this.lite.call(route, "GetItem", input));
    const item = out.Item as Record<string, Wire> | undefined;
    return item ? unmarshalItem(item) : undefined;
  }
}
