/**
 * TableStore over SQLite: every lava table shares `local_items`, keyed by (table, hash, range), with the
 * item as JSON text. Secondary indexes are materialised in `local_index_entries` on every write, so
 * index queries read in index order and page exactly like the primary key.
 *
 * Paging follows DynamoDB: a page stops after `limit` items have been read or after about 1 MB of item
 * data, whichever comes first, and both are counted before the filter is applied (so a filtered page
 * may hold fewer items, or none, and still carry a `lastKey`).
 */
import type { Database } from "bun:sqlite";
import type {
  AttributeValue,
  Condition,
  IndexSpec,
  Item,
  ItemUpdate,
  Key,
  Page,
  QueryInput,
  ScanInput,
  TableSpec,
  TableStore,
} from "../../ports/tables.ts";
import { NotFoundError, ValidationError } from "../../ports/errors.ts";
import { groupWrite, writeTransaction, type Clock } from "./db.ts";
import { matchesFilters } from "../common/filters.ts";
import { applyUpdate, checkCondition, decodeItem, encodeItem } from "./items.ts";

/** DynamoDB's page size: reading stops once this much item data has been read. */
export const PAGE_BYTES = 1024 * 1024;
/** DynamoDB's item size limit; larger puts are refused as they would be in AWS. */
export const MAX_ITEM_BYTES = 400 * 1024;

type KeyValue = string | number;
/** `rk` / `irk` value when the table or index has no range key. */
const NO_RANGE = "";

interface Row {
  hk: KeyValue;
  rk: KeyValue;
  item: string;
  size: number;
}

interface IndexRow extends Row {
  irk: KeyValue;
}

export class LocalTableStore implements TableStore {
  private readonly specs = new Map<string, TableSpec>();
  private lastTtlSweep = 0;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  async createTable(spec: TableSpec): Promise<void> {
    validateSpec(spec);
    // Idempotent, like the AWS adapter: an existing table keeps its original definition.
    this.db.query("INSERT OR IGNORE INTO local_tables (name, spec, created_at) VALUES (?, ?, ?)").run(
      spec.name,
      JSON.stringify(spec),
      this.clock.now(),
    );
  }

  async tableExists(table: string): Promise<boolean> {
    return this.db.query("SELECT 1 FROM local_tables WHERE name = ?").get(table) !== null;
  }

  async get(table: string, key: Key): Promise<Item | undefined> {
    const spec = this.spec(table);
    const [hk, rk] = keyValues(spec, key);
    return this.readItem(table, hk, rk);
  }

  async batchGet(table: string, keys: Key[]): Promise<(Item | undefined)[]> {
    const spec = this.spec(table);
    // A key asked for twice is read once and both get the same item, as the AWS adapter's batchGetInChunks does.
    const read = new Map<string, Item | undefined>();
    return keys.map((key) => {
      const [hk, rk] = keyValues(spec, key);
      const id = JSON.stringify([hk, rk]);
      if (read.has(id)) return read.get(id);
      const item = this.readItem(table, hk, rk);
      read.set(id, item);
      return item;
    });
  }

  async put(table: string, item: Item, opts?: { condition?: Condition }): Promise<void> {
    const spec = this.spec(table);
    const [hk, rk] = keyValues(spec, item);
    this.maybeSweepTtl();
    await groupWrite(this.db, () => {
      checkCondition(table, this.readItem(table, hk, rk), opts?.condition);
      this.writeItem(spec, item);
    });
  }

  async update(table: string, key: Key, update: ItemUpdate, opts?: { condition?: Condition }): Promise<Item> {
    const spec = this.spec(table);
    const [hk, rk] = keyValues(spec, key);
    const keyNames = spec.range ? [spec.hash, spec.range] : [spec.hash];
    const bareKey: Item = spec.range ? { [spec.hash]: hk, [spec.range]: rk } : { [spec.hash]: hk };
    this.maybeSweepTtl();
    const result = await groupWrite(this.db, () => {
      const current = this.readItem(table, hk, rk);
      checkCondition(table, current, opts?.condition);
      const next = applyUpdate(table, current ?? bareKey, update, keyNames);
      this.writeItem(spec, next);
      return next;
    });
    return result;
  }

  async delete(table: string, key: Key, opts?: { condition?: Condition }): Promise<void> {
    const spec = this.spec(table);
    const [hk, rk] = keyValues(spec, key);
    await groupWrite(this.db, () => {
      checkCondition(table, this.readItem(table, hk, rk), opts?.condition);
      this.db.query("DELETE FROM local_items WHERE tbl = ? AND hk = ? AND rk = ?").run(table, hk, rk);
    });
  }

  async query(table: string, input: QueryInput): Promise<Page> {
    const spec = this.spec(table);
    if (input.index) return this.queryIndex(spec, findIndex(spec, input.index), input);
    if (input.hash.name !== spec.hash) throw new ValidationError(`${table}: query hash "${input.hash.name}" is not the table hash key`);
    const forward = input.forward ?? true;
    const where = ["tbl = ?", "hk = ?"];
    const params: (KeyValue | string)[] = [table, input.hash.value];
    if (input.range) {
      if (input.range.name !== spec.range) throw new ValidationError(`${table}: "${input.range.name}" is not the table range key`);
      addRangeCondition(where, params, "rk", input.range);
    }
    if (input.startKey) {
      where.push(forward ? "rk > ?" : "rk < ?");
      params.push(spec.range ? keyAttr(input.startKey, spec.range) : NO_RANGE);
    }
    const sql = `SELECT hk, rk, item, size FROM local_items WHERE ${where.join(" AND ")} ORDER BY rk ${forward ? "ASC" : "DESC"}`;
    const rows = this.db.query<Row, (KeyValue | string)[]>(sql).iterate(...params);
    return readPage(rows, input.limit, (row) => primaryKey(spec, row), input.filter);
  }

  async scan(table: string, input: ScanInput = {}): Promise<Page> {
    const spec = this.spec(table);
    const where = ["tbl = ?"];
    const params: KeyValue[] = [table];
    if (input.startKey) {
      where.push("(hk, rk) > (?, ?)");
      params.push(keyAttr(input.startKey, spec.hash), spec.range ? keyAttr(input.startKey, spec.range) : NO_RANGE);
    }
    const sql = `SELECT hk, rk, item, size FROM local_items WHERE ${where.join(" AND ")} ORDER BY hk, rk`;
    const rows = this.db.query<Row, KeyValue[]>(sql).iterate(...params);
    return readPage(rows, input.limit, (row) => primaryKey(spec, row), input.filter);
  }

  /** Deletes items whose TTL attribute (epoch seconds) has passed. DynamoDB does this lazily too. */
  sweepExpired(): number {
    const nowSeconds = this.clock.now() / 1000;
    let deleted = 0;
    const specs = this.db.query<{ spec: string }, []>("SELECT spec FROM local_tables").all();
    for (const { spec: text } of specs) {
      const spec = JSON.parse(text) as TableSpec;
      if (!spec.ttlAttribute) continue;
      const path = `$."${spec.ttlAttribute}"`;
      deleted += writeTransaction(this.db, () =>
        this.db
          .query("DELETE FROM local_items WHERE tbl = ? AND json_type(item, ?) IN ('integer', 'real') AND json_extract(item, ?) < ?")
          .run(spec.name, path, path, nowSeconds).changes,
      );
    }
    this.lastTtlSweep = this.clock.now();
    return deleted;
  }

  /**
   * Before a write, so that a process's first sweep (none is made at open) runs before anything it writes:
   * an item it writes is swept at the earliest by a later sweep, as when the sweep ran at open.
   */
  private maybeSweepTtl(): void {
    if (this.clock.now() - this.lastTtlSweep > 10 * 60_000) this.sweepExpired();
  }

  private queryIndex(spec: TableSpec, index: IndexSpec, input: QueryInput): Page {
    if (input.hash.name !== index.hash) throw new ValidationError(`${spec.name}: "${input.hash.name}" is not the hash key of index ${index.name}`);
    const forward = input.forward ?? true;
    const where = ["e.tbl = ?", "e.idx = ?", "e.ihk = ?"];
    const params: KeyValue[] = [spec.name, index.name, input.hash.value];
    if (input.range) {
      if (input.range.name !== index.range) throw new ValidationError(`${spec.name}: "${input.range.name}" is not the range key of index ${index.name}`);
      addRangeCondition(where, params, "e.irk", input.range);
    }
    if (input.startKey) {
      where.push(`(e.irk, e.hk, e.rk) ${forward ? ">" : "<"} (?, ?, ?)`);
      params.push(
        index.range ? keyAttr(input.startKey, index.range) : NO_RANGE,
        keyAttr(input.startKey, spec.hash),
        spec.range ? keyAttr(input.startKey, spec.range) : NO_RANGE,
      );
    }
    const dir = forward ? "ASC" : "DESC";
    const sql =
      `SELECT e.hk AS hk, e.rk AS rk, e.irk AS irk, i.item AS item, i.size AS size FROM local_index_entries e ` +
      `JOIN local_items i ON i.tbl = e.tbl AND i.hk = e.hk AND i.rk = e.rk ` +
      `WHERE ${where.join(" AND ")} ORDER BY e.irk ${dir}, e.hk ${dir}, e.rk ${dir}`;
    const rows = this.db.query<IndexRow, KeyValue[]>(sql).iterate(...params);
    const lastKey = (row: IndexRow): Key => ({
      ...primaryKey(spec, row),
      [index.hash]: input.hash.value,
      ...(index.range ? { [index.range]: row.irk } : {}),
    });
    const page = readPage(rows, input.limit, lastKey, input.filter);
    if (index.include) page.items = page.items.map((item) => project(item, spec, index));
    return page;
  }

  private spec(table: string): TableSpec {
    const cached = this.specs.get(table);
    if (cached) return cached;
    const row = this.db.query<{ spec: string }, [string]>("SELECT spec FROM local_tables WHERE name = ?").get(table);
    if (!row) throw new NotFoundError(`table ${table} does not exist`, { kind: "table", name: table });
    const spec = JSON.parse(row.spec) as TableSpec;
    this.specs.set(table, spec);
    return spec;
  }

  private readItem(table: string, hk: KeyValue, rk: KeyValue): Item | undefined {
    const row = this.db
      .query<{ item: string }, [string, KeyValue, KeyValue]>("SELECT item FROM local_items WHERE tbl = ? AND hk = ? AND rk = ?")
      .get(table, hk, rk);
    return row ? decodeItem(row.item) : undefined;
  }

  /** Replaces the item and its index entries. Callers hold a write transaction. */
  private writeItem(spec: TableSpec, item: Item): void {
    const [hk, rk] = keyValues(spec, item);
    const text = encodeItem(item);
    const size = Buffer.byteLength(text);
    if (size > MAX_ITEM_BYTES) throw new ValidationError(`${spec.name}: item of ${size} bytes exceeds the 400 KB item limit`);
    this.db.query("INSERT OR REPLACE INTO local_items (tbl, hk, rk, item, size) VALUES (?, ?, ?, ?, ?)").run(spec.name, hk, rk, text, size);
    this.db.query("DELETE FROM local_index_entries WHERE tbl = ? AND hk = ? AND rk = ?").run(spec.name, hk, rk);
    for (const index of spec.indexes ?? []) {
      const ihk = item[index.hash];
      const irk = index.range ? item[index.range] : NO_RANGE;
      // Sparse index: an item without the index's key attributes (of a key type) is not in the index.
      if (!isKeyValue(ihk) || !isKeyValue(irk)) continue;
      this.db
        .query("INSERT INTO local_index_entries (tbl, idx, ihk, irk, hk, rk) VALUES (?, ?, ?, ?, ?, ?)")
        .run(spec.name, index.name, ihk, irk, hk, rk);
    }
  }
}

function validateSpec(spec: TableSpec): void {
  const names = new Set<string>();
  for (const index of spec.indexes ?? []) {
    if (names.has(index.name)) throw new ValidationError(`${spec.name}: duplicate index name ${index.name}`);
    names.add(index.name);
    if (index.kind === "local" && index.hash !== spec.hash) {
      throw new ValidationError(`${spec.name}: local index ${index.name} must share the table hash key ${spec.hash}`);
    }
  }
}

function findIndex(spec: TableSpec, name: string): IndexSpec {
  const index = spec.indexes?.find((ix) => ix.name === name);
  if (!index) throw new NotFoundError(`${spec.name}: no index named ${name}`, { kind: "index", name: `${spec.name}/${name}` });
  return index;
}

function isKeyValue(v: AttributeValue | undefined): v is KeyValue {
  return typeof v === "string" || typeof v === "number";
}

/** DynamoDB's key size limits, enforced here so a key AWS refuses is refused locally too. */
const MAX_HASH_KEY_BYTES = 2048;
const MAX_RANGE_KEY_BYTES = 1024;

function keyAttr(source: Item | Key, name: string, maxBytes = Infinity): KeyValue {
  const v = source[name];
  if (!isKeyValue(v)) throw new ValidationError(`key attribute "${name}" must be a string or number`);
  if (typeof v === "string" && Buffer.byteLength(v) > maxBytes) {
    throw new ValidationError(`key attribute "${name}" is ${Buffer.byteLength(v)} bytes, over the ${maxBytes}-byte key limit`);
  }
  return v;
}

function keyValues(spec: TableSpec, source: Item | Key): [KeyValue, KeyValue] {
  return [keyAttr(source, spec.hash, MAX_HASH_KEY_BYTES), spec.range ? keyAttr(source, spec.range, MAX_RANGE_KEY_BYTES) : NO_RANGE];
}

function primaryKey(spec: TableSpec, row: { hk: KeyValue; rk: KeyValue }): Key {
  return spec.range ? { [spec.hash]: row.hk, [spec.range]: row.rk } : { [spec.hash]: row.hk };
}

function addRangeCondition(where: string[], params: KeyValue[], column: string, range: NonNullable<QueryInput["range"]>): void {
  const ops = { eq: "=", lt: "<", le: "<=", gt: ">", ge: ">=" } as const;
  switch (range.op) {
    case "beginsWith":
      where.push(`typeof(${column}) = 'text' AND substr(${column}, 1, length(?)) = ?`);
      params.push(range.value, range.value);
      return;
    case "between":
      if (range.value2 === undefined) throw new ValidationError(`"between" on ${range.name} needs value2`);
      where.push(`${column} BETWEEN ? AND ?`);
      params.push(range.value, range.value2);
      return;
    default:
      where.push(`${column} ${ops[range.op]} ?`);
      params.push(range.value);
  }
}

/** Reads one page from `rows` (already in order), stopping at `limit` items or PAGE_BYTES. */
function readPage<R extends Row>(
  rows: IterableIterator<R>,
  limit: number | undefined,
  keyOf: (row: R) => Key,
  filter: QueryInput["filter"],
): Page {
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) throw new ValidationError(`limit must be a positive integer, not ${limit}`);
  const items: Item[] = [];
  let read = 0;
  let bytes = 0;
  let last: R | undefined;
  for (const row of rows) {
    if (last && ((limit !== undefined && read >= limit) || bytes >= PAGE_BYTES)) {
      // A further row exists, so the page is cut here and the caller continues from `last`.
      return { items, lastKey: keyOf(last) };
    }
    read++;
    bytes += row.size;
    last = row;
    const item = decodeItem(row.item);
    if (matchesFilters(item, filter)) items.push(item);
  }
  return { items };
}

/** Index projection: table keys, index keys and the included attributes. */
function project(item: Item, spec: TableSpec, index: IndexSpec): Item {
  const keep = new Set([spec.hash, index.hash, ...(spec.range ? [spec.range] : []), ...(index.range ? [index.range] : []), ...(index.include ?? [])]);
  return Object.fromEntries(Object.entries(item).filter(([name]) => keep.has(name)));
}
