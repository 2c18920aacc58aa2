/** TableStore on DynamoDB, through the lib-dynamodb document client (it marshals plain values). */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type {
  AttributeValue,
  Condition,
  Filter,
  Item,
  ItemUpdate,
  Key,
  Page,
  QueryInput,
  ScanInput,
  TableSpec,
  TableStore,
} from "../../ports/tables.ts";
import { ThrottledError } from "../../ports/errors.ts";
import { matchesFilters } from "../common/filters.ts";
import { awsCall, isAwsError } from "./errors.ts";

export interface DynamoClients {
  raw: DynamoDBClient;
  doc: DynamoDBDocumentClient;
}

/**
 * Accumulates `#n` / `:v` placeholders. Every attribute name goes through a placeholder because lava's
 * field names (`ttl`, `status`, `log`, ...) include DynamoDB reserved words.
 */
export class Expr {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, unknown> = {};
  private readonly nameIds = new Map<string, string>();
  private valueCount = 0;

  name(attribute: string): string {
    let id = this.nameIds.get(attribute);
    if (!id) {
      id = `#n${this.nameIds.size}`;
      this.nameIds.set(attribute, id);
      this.names[id] = attribute;
    }
    return id;
  }

  value(v: unknown): string {
    const id = `:v${this.valueCount++}`;
    this.values[id] = v;
    return id;
  }

  /** Spread into a command input; omits empty maps, which DynamoDB rejects. */
  attributes(): { ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Record<string, unknown> } {
    return {
      ...(Object.keys(this.names).length ? { ExpressionAttributeNames: this.names } : {}),
      ...(this.valueCount ? { ExpressionAttributeValues: this.values } : {}),
    };
  }
}

/**
 * `notExists` / `exists` on a put are written over every attribute of the item: the key attributes are
 * among them, so "no item with this key" is "none of these attributes exists". This avoids a DescribeTable
 * call (and the IAM permission it needs) just to learn the key names.
 */
export function conditionExpression(expr: Expr, condition: Condition, keyNames: string[]): string {
  switch (condition.kind) {
    case "notExists":
      return keyNames.map((k) => `attribute_not_exists(${expr.name(k)})`).join(" AND ");
    case "exists":
      return keyNames.map((k) => `attribute_exists(${expr.name(k)})`).join(" OR ");
    case "attributeEquals":
      return `${expr.name(condition.attribute)} = ${expr.value(condition.value)}`;
    case "attributeNotExists":
      return `attribute_not_exists(${expr.name(condition.attribute)})`;
  }
}

function filterExpression(expr: Expr, filters: Filter[]): string {
  return filters
    .map((f) => {
      const n = expr.name(f.attribute);
      switch (f.op) {
        case "eq":
          return `${n} = ${expr.value(f.value)}`;
        case "ne":
          return `${n} <> ${expr.value(f.value)}`;
        case "beginsWith":
          return `begins_with(${n}, ${expr.value(f.value)})`;
        case "contains":
          return `contains(${n}, ${expr.value(f.value)})`;
        case "exists":
          return `attribute_exists(${n})`;
        case "notExists":
          return `attribute_not_exists(${n})`;
      }
    })
    .map((clause) => `(${clause})`)
    .join(" AND ");
}

function keyCondition(expr: Expr, input: QueryInput): string {
  const hash = `${expr.name(input.hash.name)} = ${expr.value(input.hash.value)}`;
  const range = input.range;
  if (!range) return hash;
  const n = expr.name(range.name);
  const ops = { eq: "=", lt: "<", le: "<=", gt: ">", ge: ">=" } as const;
  let clause: string;
  if (range.op === "beginsWith") clause = `begins_with(${n}, ${expr.value(range.value)})`;
  else if (range.op === "between") {
    if (range.value2 === undefined) throw new Error(`query on ${range.name}: "between" needs value2`);
    clause = `${n} BETWEEN ${expr.value(range.value)} AND ${expr.value(range.value2)}`;
  } else clause = `${n} ${ops[range.op]} ${expr.value(range.value)}`;
  return `${hash} AND ${clause}`;
}

export function updateExpression(expr: Expr, update: ItemUpdate): string {
  const sets: string[] = [];
  for (const [attr, value] of Object.entries(update.set ?? {})) sets.push(`${expr.name(attr)} = ${expr.value(value)}`);
  const appends = Object.entries(update.append ?? {});
  if (appends.length) {
    const empty = expr.value([]);
    for (const [attr, values] of appends) {
      const n = expr.name(attr);
      sets.push(`${n} = list_append(if_not_exists(${n}, ${empty}), ${expr.value(values)})`);
    }
  }
  const adds = Object.entries(update.add ?? {}).map(([attr, n]) => `${expr.name(attr)} ${expr.value(n)}`);
  const removes = (update.remove ?? []).map((attr) => expr.name(attr));
  return [
    sets.length ? `SET ${sets.join(", ")}` : "",
    adds.length ? `ADD ${adds.join(", ")}` : "",
    removes.length ? `REMOVE ${removes.join(", ")}` : "",
  ]
    .filter(Boolean)
    .join(" ");
}

/** lib-dynamodb returns string/number/binary sets as `Set`; the ports speak arrays only. */
function toPortValue(value: unknown): AttributeValue {
  if (value instanceof Set) return [...value].map(toPortValue);
  if (Array.isArray(value)) return value.map(toPortValue);
  if (value instanceof Uint8Array || value === null || typeof value !== "object") return value as AttributeValue;
  const out: Record<string, AttributeValue> = {};
  for (const [k, v] of Object.entries(value)) out[k] = toPortValue(v);
  return out;
}

function keyAttributesOf(hash: string, range?: string): Set<string> {
  return new Set(range ? [hash, range] : [hash]);
}

function toItem(record: Record<string, unknown> | undefined): Item | undefined {
  return record ? (toPortValue(record) as Item) : undefined;
}

function toKey(record: Record<string, unknown> | undefined): Key | undefined {
  return record ? (record as Key) : undefined;
}

/** BatchGetItem takes at most 100 keys. */
const BATCH_GET_KEYS = 100;

/** One BatchGetItem request: the items found and the keys DynamoDB left for later (UnprocessedKeys). */
export type BatchGetChunk = (keys: Key[]) => Promise<{ items: Item[]; unprocessed: Key[] }>;

/**
 * BatchGetItem's rules around one request function: duplicate keys are sent once (DynamoDB refuses them),
 * at most 100 keys per request, answers put back in key order. Keys DynamoDB leaves unprocessed (it does
 * so when throttling) make the whole read a `ThrottledError`: the caller's retry policy decides whether
 * and when to read again (src/core/retry.ts), so no second retry loop hides here.
 */
export async function batchGetInChunks(table: string, keys: Key[], request: BatchGetChunk): Promise<(Item | undefined)[]> {
  if (keys.length === 0) return [];
  const names = Object.keys(keys[0]!).sort();
  const idOf = (record: Record<string, unknown>) => JSON.stringify(names.map((n) => record[n]));
  const unique = new Map<string, Key>();
  for (const key of keys) unique.set(idOf(key), key);
  const found = new Map<string, Item>();
  const pending = [...unique.values()];
  let unprocessed = 0;
  for (let start = 0; start < pending.length; start += BATCH_GET_KEYS) {
    const out = await request(pending.slice(start, start + BATCH_GET_KEYS));
    for (const item of out.items) found.set(idOf(item), item);
    unprocessed += out.unprocessed.length;
  }
  if (unprocessed > 0) throw new ThrottledError(`batch get ${table}: ${unprocessed} keys left unprocessed (throttled)`);
  return keys.map((key) => found.get(idOf(key)));
}

export class DynamoTableStore implements TableStore {
  /** Key attribute names per `table` or `table/index`, learnt from createTable or DescribeTable. */
  private readonly keyNames = new Map<string, Promise<Set<string>>>();

  constructor(private readonly clients: () => Promise<DynamoClients>) {}

  /** Only queries with filters need this, so most processes never send a DescribeTable. */
  private keysOf(table: string, index?: string): Promise<Set<string>> {
    const id = index ? `${table}/${index}` : table;
    let keys = this.keyNames.get(id);
    if (!keys) {
      keys = this.describeKeys(table, index);
      this.keyNames.set(id, keys);
      keys.catch(() => this.keyNames.delete(id));
    }
    return keys;
  }

  private async describeKeys(table: string, index?: string): Promise<Set<string>> {
    const { DescribeTableCommand } = await import("@aws-sdk/client-dynamodb");
    const { raw } = await this.clients();
    const out = await awsCall(`describe ${table}`, () => raw.send(new DescribeTableCommand({ TableName: table })), { kind: "table", name: table });
    const t = out.Table;
    const schema = index
      ? [...(t?.GlobalSecondaryIndexes ?? []), ...(t?.LocalSecondaryIndexes ?? [])].find((ix) => ix.IndexName === index)
          ?.KeySchema
      : t?.KeySchema;
    return new Set((schema ?? []).flatMap((k) => (k.AttributeName ? [k.AttributeName] : [])));
  }

  async get(table: string, key: Key, opts?: { consistent?: boolean }): Promise<Item | undefined> {
    const { GetCommand } = await import("@aws-sdk/lib-dynamodb");
    const { doc } = await this.clients();
    const out = await awsCall(`get ${table}`, () =>
      doc.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: opts?.consistent })),
      { kind: "table", name: table },
    );
    return toItem(out.Item);
  }

  async batchGet(table: string, keys: Key[], opts?: { consistent?: boolean }): Promise<(Item | undefined)[]> {
    const { BatchGetCommand } = await import("@aws-sdk/lib-dynamodb");
    const { doc } = await this.clients();
    return batchGetInChunks(table, keys, async (chunk) => {
      const out = await awsCall(`batch get ${table}`, () =>
        doc.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: chunk, ConsistentRead: opts?.consistent } } })),
        { kind: "table", name: table },
      );
      return {
        items: (out.Responses?.[table] ?? []).map((i) => toItem(i)!),
        unprocessed: (out.UnprocessedKeys?.[table]?.Keys ?? []) as Key[],
      };
    });
  }

  async put(table: string, item: Item, opts?: { condition?: Condition }): Promise<void> {
    const { PutCommand } = await import("@aws-sdk/lib-dynamodb");
    const { doc } = await this.clients();
    const expr = new Expr();
    const condition = opts?.condition ? conditionExpression(expr, opts.condition, Object.keys(item)) : undefined;
    await awsCall(`put ${table}`, () =>
      doc.send(
        new PutCommand({ TableName: table, Item: item, ConditionExpression: condition, ...expr.attributes() }),
      ),
      { kind: "table", name: table },
    );
  }

  async update(table: string, key: Key, update: ItemUpdate, opts?: { condition?: Condition }): Promise<Item> {
    const { UpdateCommand } = await import("@aws-sdk/lib-dynamodb");
    const { doc } = await this.clients();
    const expr = new Expr();
    const updateExpr = updateExpression(expr, update);
    const condition = opts?.condition ? conditionExpression(expr, opts.condition, Object.keys(key)) : undefined;
    const out = await awsCall(`update ${table}`, () =>
      doc.send(
        new UpdateCommand({
          TableName: table,
          Key: key,
          // An empty update still creates the item from its key, as UpdateItem does.
          UpdateExpression: updateExpr || undefined,
          ConditionExpression: condition,
          ReturnValues: "ALL_NEW",
          ...expr.attributes(),
        }),
      ),
      { kind: "table", name: table },
    );
    return toItem(out.Attributes) ?? { ...key };
  }

  async delete(table: string, key: Key, opts?: { condition?: Condition }): Promise<void> {
    const { DeleteCommand } = await import("@aws-sdk/lib-dynamodb");
    const { doc } = await this.clients();
    const expr = new Expr();
    const condition = opts?.condition ? conditionExpression(expr, opts.condition, Object.keys(key)) : undefined;
    await awsCall(`delete ${table}`, () =>
      doc.send(new DeleteCommand({ TableName: table, Key: key, ConditionExpression: condition, ...expr.attributes() })),
      { kind: "table", name: table },
    );
  }

  async query(table: string, input: QueryInput): Promise<Page> {
    const { QueryCommand } = await import("@aws-sdk/lib-dynamodb");
    const { doc } = await this.clients();
    const expr = new Expr();
    const keyExpr = keyCondition(expr, input);
    const keys = input.filter?.length ? await this.keysOf(table, input.index) : new Set<string>();
    // DynamoDB refuses a Query filter on the queried key's own attributes: those apply here, to the page it returns.
    const localFilters = (input.filter ?? []).filter((f) => keys.has(f.attribute));
    const serverFilters = (input.filter ?? []).filter((f) => !keys.has(f.attribute));
    const filter = serverFilters.length ? filterExpression(expr, serverFilters) : undefined;
    const out = await awsCall(`query ${table}${input.index ? `/${input.index}` : ""}`, () =>
      doc.send(
        new QueryCommand({
          TableName: table,
          IndexName: input.index,
          KeyConditionExpression: keyExpr,
          FilterExpression: filter,
          Limit: input.limit,
          ExclusiveStartKey: input.startKey,
          ScanIndexForward: input.forward ?? true,
          ConsistentRead: input.consistent,
          ...expr.attributes(),
        }),
      ),
      { kind: "table", name: table },
    );
    const items = (out.Items ?? []).map((i) => toItem(i)!);
    return {
      items: items.filter((item) => matchesFilters(item, localFilters)),
      lastKey: toKey(out.LastEvaluatedKey),
    };
  }

  async scan(table: string, input: ScanInput = {}): Promise<Page> {
    const { ScanCommand } = await import("@aws-sdk/lib-dynamodb");
    const { doc } = await this.clients();
    const expr = new Expr();
    const filter = input.filter?.length ? filterExpression(expr, input.filter) : undefined;
    const out = await awsCall(`scan ${table}`, () =>
      doc.send(
        new ScanCommand({
          TableName: table,
          FilterExpression: filter,
          Limit: input.limit,
          ExclusiveStartKey: input.startKey,
          ConsistentRead: input.consistent,
          ...expr.attributes(),
        }),
      ),
      { kind: "table", name: table },
    );
    return { items: (out.Items ?? []).map((i) => toItem(i)!), lastKey: toKey(out.LastEvaluatedKey) };
  }

  /**
   * On-demand billing; key attributes are strings (every lava table's keys are). Waits until ACTIVE.
   * An existing table is left as it is.
   */
  async createTable(spec: TableSpec): Promise<void> {
    const ddb = await import("@aws-sdk/client-dynamodb");
    const { raw } = await this.clients();
    const keySchema = (hash: string, range?: string) => [
      { AttributeName: hash, KeyType: "HASH" as const },
      ...(range ? [{ AttributeName: range, KeyType: "RANGE" as const }] : []),
    ];
    const keyAttributes = new Set([spec.hash, ...(spec.range ? [spec.range] : [])]);
    for (const ix of spec.indexes ?? []) {
      keyAttributes.add(ix.hash);
      if (ix.range) keyAttributes.add(ix.range);
    }
    const index = (ix: NonNullable<TableSpec["indexes"]>[number]) => ({
      IndexName: ix.name,
      KeySchema: keySchema(ix.hash, ix.range),
      Projection: ix.include
        ? { ProjectionType: "INCLUDE" as const, NonKeyAttributes: ix.include }
        : { ProjectionType: "ALL" as const },
    });
    const globals = (spec.indexes ?? []).filter((ix) => ix.kind === "global").map(index);
    const locals = (spec.indexes ?? []).filter((ix) => ix.kind === "local").map(index);
    try {
      await raw.send(
        new ddb.CreateTableCommand({
          TableName: spec.name,
          BillingMode: "PAY_PER_REQUEST",
          AttributeDefinitions: [...keyAttributes].map((name) => ({ AttributeName: name, AttributeType: "S" as const })),
          KeySchema: keySchema(spec.hash, spec.range),
          ...(globals.length ? { GlobalSecondaryIndexes: globals } : {}),
          ...(locals.length ? { LocalSecondaryIndexes: locals } : {}),
        }),
      );
    } catch (err) {
      if (!isAwsError(err, "ResourceInUseException")) throw err;
    }
    await awsCall(
      `wait for table ${spec.name}`,
      () => ddb.waitUntilTableExists({ client: raw, maxWaitTime: 120, minDelay: 1, maxDelay: 2 }, { TableName: spec.name }),
      { kind: "table", name: spec.name },
    );
    this.keyNames.set(spec.name, Promise.resolve(keyAttributesOf(spec.hash, spec.range)));
    for (const ix of spec.indexes ?? []) {
      this.keyNames.set(`${spec.name}/${ix.name}`, Promise.resolve(keyAttributesOf(ix.hash, ix.range)));
    }
    if (spec.ttlAttribute) await this.enableTtl(raw, spec.name, spec.ttlAttribute);
  }

  private async enableTtl(raw: DynamoDBClient, table: string, attribute: string): Promise<void> {
    const { DescribeTimeToLiveCommand, UpdateTimeToLiveCommand } = await import("@aws-sdk/client-dynamodb");
    try {
      // A table has one TTL attribute; asking first spares the error an update of an enabled TTL gets.
      const current = await raw.send(new DescribeTimeToLiveCommand({ TableName: table }));
      const status = current.TimeToLiveDescription?.TimeToLiveStatus;
      if (status === "ENABLED" || status === "ENABLING") return;
      await raw.send(
        new UpdateTimeToLiveCommand({
          TableName: table,
          TimeToLiveSpecification: { AttributeName: attribute, Enabled: true },
        }),
      );
    } catch (err) {
      // Emulators without TTL support only lose expiry, which tests do not rely on.
      const code = err instanceof Error ? err.name : String(err);
      console.warn(`lava: could not enable TTL on ${attribute} for table ${table} (${code}); items will not expire`);
    }
  }

  async tableExists(table: string): Promise<boolean> {
    const { DescribeTableCommand } = await import("@aws-sdk/client-dynamodb");
    const { raw } = await this.clients();
    try {
      await raw.send(new DescribeTableCommand({ TableName: table }));
      return true;
    } catch (err) {
      if (isAwsError(err, "ResourceNotFoundException")) return false;
      throw err;
    }
  }
}
