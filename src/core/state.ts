/**
 * State items (`lava.<realm>.state`): small values one job publishes and later jobs read at start.
 *
 * Encodings by `type`, as the original stores them so both implementations read each other's items:
 * - `json` (default): the value as JSON text;
 * - `raw`: the value itself, as a native table value;
 * - `secure`: JSON text encrypted with KMS (default key `alias/lava-<realm>-sys`), stored as binary.
 * A put always replaces the whole item. Reads are strongly consistent.
 */
import { LavaConfig, parseDuration } from "./config.ts";
import { realmTable } from "./names.ts";
import { NotFoundError, type AttributeValue, type Item, type Ports } from "../ports/index.ts";
import { isoLocal, pyJsonDumps } from "./pyformat.ts";
import { dictCheck } from "./dict-check.ts";

export const STATE_TYPES = ["json", "raw", "secure"] as const;
export type StateType = (typeof STATE_TYPES)[number];

/** The fields of a state item, as the original's reader checks them: any other field makes the item bad. */
const STATE_FIELDS = ["state_id", "type", "value", "timestamp", "ttl"] as const;
const STATE_OPTIONAL_FIELDS = ["publisher"] as const;

/** KMS encrypts at most 4096 bytes of plaintext. */
const SECURE_MAX_BYTES = 4096;

export class StateError extends Error {
  override name = "StateError";
  constructor(
    message: string,
    readonly context: { realm: string; state_id?: string },
  ) {
    super(message);
  }
}

export interface StatePut {
  state_id: string;
  value: unknown;
  type?: string;
  /** Duration (`2h`, seconds); default STATE_TTL, silently capped at STATE_MAX_TTL. */
  ttl?: string | number;
  publisher?: string;
  /** Only for `secure`. */
  kms_key?: string;
}

export interface StateOptions {
  config?: LavaConfig;
  now?: Date;
}

export function isStateType(type: string): type is StateType {
  return (STATE_TYPES as readonly string[]).includes(type);
}

export async function putState(ports: Ports, realm: string, put: StatePut, opts: StateOptions = {}): Promise<void> {
  const config = opts.config ?? new LavaConfig();
  const now = opts.now ?? new Date();
  const type = put.type || "json";
  if (!isStateType(type)) throw new StateError(`${type}: No such state type`, { realm, state_id: put.state_id });
  const ttl = Math.min(
    put.ttl ? parseDuration(put.ttl) : config.seconds("STATE_TTL"),
    config.seconds("STATE_MAX_TTL"),
  );
  const item: Item = {
    state_id: put.state_id,
    type,
    value: await encode(ports, realm, type, put),
    // Whole seconds, as the original writes it (its clock is rounded down to the second).
    timestamp: isoLocal(new Date(Math.floor(now.getTime() / 1000) * 1000)),
    ttl: Math.trunc(now.getTime() / 1000 + ttl),
  };
  if (put.publisher) item.publisher = put.publisher;
  try {
    await ports.tables.put(realmTable(realm, "state"), item);
  } catch (e) {
    throw new StateError(`Cannot put state item: ${(e as Error).message}`, { realm, state_id: put.state_id });
  }
}

/** The decoded value of one state item; undefined when there is no such item. */
export async function getState(ports: Ports, realm: string, stateId: string): Promise<unknown> {
  return (await readState(ports, realm, stateId))?.value;
}

/** One state item as read: its decoded value, and for `json`/`secure` the JSON text it was decoded from. */
export interface StateRead {
  type: StateType;
  value: unknown;
  /** The JSON text of a `json` or `secure` item (templates read it as Python's json.loads would). */
  json?: string;
  publisher?: string;
  timestamp: string;
}

/** One state item, read strongly consistent; undefined when there is no such item. */
export async function readState(ports: Ports, realm: string, stateId: string): Promise<StateRead | undefined> {
  let item: Item | undefined;
  try {
    item = await ports.tables.get(realmTable(realm, "state"), { state_id: stateId }, { consistent: true });
  } catch (e) {
    if (e instanceof NotFoundError) return undefined;
    throw e;
  }
  if (item === undefined) return undefined;
  return decode(ports, realm, stateId, item);
}

/**
 * Set (not enumerable) on the map loadState returns: the ids whose value came from a json/secure item.
 * Templates see the other values as Decimals, as the original's boto3 reads give them (core/worker/render.ts).
 */
export const JSON_STATE_IDS: unique symbol = Symbol.for("lava.state.json_ids");

/**
 * The job's `state` map with each key replaced by the current value of that state item. A missing item keeps
 * the job's default; any other failure (bad item, KMS refusal) is an error.
 */
export async function loadState(
  ports: Ports,
  realm: string,
  defaults: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const state: Record<string, unknown> = { ...defaults };
  const jsonIds = new Set<string>();
  for (const id of Object.keys(defaults)) {
    const read = await readState(ports, realm, id);
    if (read === undefined) continue;
    state[id] = read.value;
    if (read.type !== "raw") jsonIds.add(id);
  }
  Object.defineProperty(state, JSON_STATE_IDS, { value: jsonIds, enumerable: false });
  return state;
}

async function encode(ports: Ports, realm: string, type: StateType, put: StatePut): Promise<AttributeValue> {
  if (type === "raw") return toAttribute(put.value, { realm, state_id: put.state_id });
  const text = pyJsonDumps(put.value);
  if (type === "json") return text;
  const plaintext = new TextEncoder().encode(text);
  if (plaintext.length > SECURE_MAX_BYTES) {
    throw new StateError(`Secure state value is ${plaintext.length} bytes; the limit is ${SECURE_MAX_BYTES}`, {
      realm,
      state_id: put.state_id,
    });
  }
  return ports.params.encrypt(put.kms_key || `alias/lava-${realm}-sys`, plaintext);
}

async function decode(ports: Ports, realm: string, stateId: string, item: Item): Promise<StateRead> {
  const context = { realm, state_id: stateId };
  try {
    dictCheck(item, STATE_FIELDS, STATE_OPTIONAL_FIELDS);
  } catch (e) {
    throw new StateError(`Bad state item: ${(e as Error).message}`, context);
  }
  const type = String(item.type);
  if (!isStateType(type)) throw new StateError(`Unknown state type: ${type}`, context);
  const value = item.value;
  const read = { type, timestamp: String(item.timestamp), ...(typeof item.publisher === "string" ? { publisher: item.publisher } : {}) };
  try {
    if (type === "raw") return { ...read, value };
    let json: string;
    if (type === "json") json = String(value);
    else {
      if (!(value instanceof Uint8Array)) throw new StateError("Expected binary value for secure state item", context);
      json = new TextDecoder().decode(await ports.params.decrypt(value));
    }
    return { ...read, value: JSON.parse(json), json };
  } catch (e) {
    if (e instanceof StateError) throw e;
    throw new StateError(`Bad state item: ${(e as Error).message}`, context);
  }
}

function toAttribute(value: unknown, context: { realm: string; state_id?: string }): AttributeValue {
  if (value === null || typeof value === "string" || typeof value === "boolean" || value instanceof Uint8Array) {
    return value;
  }
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new StateError(`Cannot store ${value} in a raw state item`, context);
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => toAttribute(v, context));
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object") {
    const out: Record<string, AttributeValue> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = toAttribute(v, context);
    return out;
  }
  throw new StateError(`Cannot store a ${typeof value} in a raw state item`, context);
}
