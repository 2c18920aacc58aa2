/**
 * Worker configuration variables.
 *
 * For a variable `XYZ` the value is the first of: env `LAVA_XYZ` (read at every lookup, so tests and
 * operators can change it without rebuilding anything), the realm entry's `config` map (keys
 * upper-cased when the realm is loaded), the default in CONFIG_VARS. `LOGLEVEL` is the exception:
 * only the environment sets it, because logging is configured before the realm is read.
 *
 * Values stay text until asked for; the typed getters convert and throw ConfigError naming the
 * variable, where the value came from and the value itself.
 */
import { availableParallelism } from "node:os";

export type ConfigType = "duration" | "size" | "bool" | "int" | "str";
export type ConfigSource = "env" | "realm" | "default";

export interface ConfigVar {
  name: string;
  type: ConfigType;
  /** Text form of the default; null = no default (unset). A function is evaluated at lookup (CPU counts). */
  default: string | null | (() => string);
  /** How the default reads in docs when it is computed. */
  defaultDoc?: string;
  group: string;
  doc: string;
  /** Only the environment can set it (LOGLEVEL). */
  envOnly?: boolean;
  /** Ours, not the original's: a Python worker of the same realm ignores it. */
  extension?: boolean;
  /** Documented by the original but read by nothing in this version yet (its job type or connector is to come). */
  planned?: boolean;
}

const cpus = (): number => Math.max(1, availableParallelism());

function v(
  group: string,
  name: string,
  type: ConfigType,
  dflt: ConfigVar["default"],
  doc: string,
  extra: Partial<ConfigVar> = {},
): ConfigVar {
  return { name, type, default: dflt, group, doc, ...extra };
}

/** Every configuration variable lava knows, with its type and default (the original's lava/config.py values). */
export const CONFIG_VARS: readonly ConfigVar[] = [
  // General
  v("General", "LOGLEVEL", "str", "info", "Default logging level (`--level`). Only the environment variable `LAVA_LOGLEVEL` sets it; the realm's config map has no effect.", { envOnly: true }),
  v("General", "TMPDIR", "str", "/tmp/lava", "Root of the worker's private run areas (not the `TMPDIR` environment variable)."),
  v("General", "HEARTBEAT_FILE", "str", ".heartbeat", "File touched on every heartbeat, relative to the worker's run area (keeps cleaners away)."),
  v("General", "DISPATCHER", "str", "/usr/local/bin/lava-dispatcher", "Dispatcher executable written into crontab lines by lavasched jobs.", { planned: true }),
  v("General", "NO_DISPATCH", "str", "/tmp/lava/__nodispatch__", "When this file exists, dispatch is inhibited."),
  v("General", "SQS_MAX_DELAY_MINS", "int", "15", "Largest dispatch delay in minutes (an SQS limit)."),
  v("General", "EVENT_TTL", "duration", "2d", "Time to live of events-table records; empty disables expiry."),
  v("General", "STDERR_SIZE", "int", "2000", "Bytes of a job's stderr copied into its event; negative reads from the end."),
  v("General", "DEBUG", "bool", "false", "Put extra detail (stack trace) in the event of a failed job."),
  v("General", "CW_NAMESPACE", "str", "Lava", "CloudWatch namespace of lava's custom metrics."),
  v("General", "CW_METRICS_JOB", "bool", "false", "Send per-job metrics (a job's `cw_metrics` field overrides)."),
  v("General", "CW_METRICS_WORKER", "bool", "false", "Send the worker's own metrics."),
  v("General", "CW_METRICS_PERIOD", "duration", "1m", "Period of the worker's own metrics."),
  v("General", "JOB_CLEAN_ENV", "bool", "false", "Start cmd, exe and pkg jobs with only PATH, HOME, USER, LOGNAME, SHELL, LANG, LANGUAGE, LC_*, TZ and TERM from the worker's environment (plus the job's `env` and lava's variables), instead of all of it.", { extension: true }),
  v("General", "JOB_LOCAL_TMPDIR", "bool", "true", "Point `TMPDIR` of cmd, exe and pkg jobs into the job's private run area."),
  v("General", "ITERATION_MAX_DELAY", "duration", "5m", "Largest allowed `iteration_delay` of a job."),
  v("General", "ITERATION_MAX_LIMIT", "int", "10", "Largest allowed `iteration_limit` of a job."),
  v("General", "PARAM_CACHE_SIZE", "int", "100", "Entries in the SSM parameter cache."),
  v("General", "PARAM_CACHE_TTL", "duration", "2m", "How long an SSM parameter value stays cached."),
  v("General", "PAYLOAD_DOWNLOADER", "str", "v2", "Payload downloader version: `v1` (deprecated) or `v2`."),
  v("General", "PAYLOAD_SETTLING_TIME", "int", "1", "Seconds to wait before using a downloaded payload (avoids 'text file busy')."),
  v("General", "CHECK_FOR_ZOMBIES", "bool", "true", "On shutdown, stop waiting for job threads once no run areas remain.", { planned: true }),
  v("General", "KILL_GRACE_PERIOD", "duration", "2s", "When a cmd, exe or pkg job times out, its processes get SIGTERM, then SIGKILL this much later if any is left (also applied to the orphans of a dead worker at start).", { extension: true }),
  v("General", "JUMPSTART_DELAY", "duration", "15s", "Delay of the dispatches made by `--jump-start`."),
  v("General", "CONN_APP_NAME", "str", "lv-{{ realm }}-{{ job_id }}", "Jinja template for database client application names."),
  v("General", "STATE_TTL", "duration", "7d", "Default time to live of a state-table item."),
  v("General", "STATE_MAX_TTL", "duration", "366d", "Largest time to live of a state-table item."),
  v("General", "S3TRIGGER_CACHE_TTL", "duration", "60s", "How long s3trigger table lookups are cached (0 disables)."),
  v("General", "S3TRIGGER_DEDUP_TTL", "duration", "30s", "Lifetime of an s3trigger bucket/key de-duplication entry."),
  v("General", "S3TRIGGER_DEDUP_CACHE_SIZE", "int", "0", "Entries in the s3trigger de-duplication cache (0 = off)."),
  v("General", "SES_REGION", "str", "us-east-1", "AWS region of SES."),
  v("General", "SES_FROM", "str", null, "Sender address of email lava sends through SES."),
  v("General", "SES_CONFIGURATION_SET", "str", null, "SES configuration set of email lava sends."),
  // Job types
  v("cmd jobs", "CMD_TIMEOUT", "duration", "10m", "Run timeout of a cmd job."),
  v("exe jobs", "EXE_TIMEOUT", "duration", "10m", "Run timeout of an exe job."),
  v("exe jobs", "EXE_MAX_PAYLOAD_SIZE", "size", "10M", "Largest exe payload."),
  v("pkg jobs", "PKG_TIMEOUT", "duration", "10m", "Run timeout of a pkg job."),
  v("pkg jobs", "PKG_MAX_PAYLOAD_SIZE", "size", "20M", "Largest pkg payload."),
  v("pkg jobs", "PKG_UNPACK_TIMEOUT", "duration", "30s", "Timeout for unpacking a pkg payload."),
  v("pkg jobs", "PKG_MAX_UNPACKED_SIZE", "size", "1GiB", "Largest expanded size of one pkg package (tar: the decompressed tar stream; zip: the members' contents). Enforced while unpacking; see docs/SECURITY.md.", { extension: true }),
  v("pkg jobs", "PKG_MAX_ENTRIES", "int", "50000", "Most members (files, directories, links) one pkg package may have.", { extension: true }),
  v("docker jobs", "DOCKER_TIMEOUT", "duration", "10m", "Run timeout of a docker container.", { planned: true }),
  v("dag jobs", "DAG_WORKERS", "int", () => String(cpus()), "Default number of child jobs a dag runs at once.", { defaultDoc: "CPU count" }),
  v("dag jobs", "DAG_MAX_WORKERS", "int", () => String(4 * cpus()), "Largest number of child jobs a dag may run at once.", { defaultDoc: "4 × CPU count" }),
  v("foreach jobs", "FOREACH_LIMIT", "int", "10", "Default limit on foreach iterations (a job may set its own)."),
  v("foreach jobs", "FOREACH_MAX_LIMIT", "int", "25", "Largest foreach limit a job may set."),
  v("db_from_s3 jobs", "PG_COPY_TIMEOUT", "duration", "30m", "Timeout of one Postgres client-side copy (one object of a db_from_s3 load)."),
  v("sql jobs", "SQL_BATCH_SIZE", "int", "1024", "Rows fetched at a time."),
  v("sql jobs", "SQL_DELIMITER", "str", "|", "Single-character field delimiter of output."),
  v("sql jobs", "SQL_DIALECT", "str", "excel", "CSV dialect of output."),
  v("sql jobs", "SQL_DOUBLEQUOTE", "bool", "false", "CSV doublequote setting of output."),
  v("sql jobs", "SQL_ESCAPECHAR", "str", null, "CSV escape character of output."),
  v("sql jobs", "SQL_MAX_PAYLOAD_SIZE", "size", "100K", "Largest SQL payload (sql, sqlv)."),
  v("sql jobs", "SQL_OUTPUT_SUFFIX", "str", ".out", "Suffix of output files (sql, sqli)."),
  v("sql jobs", "SQL_QUOTECHAR", "str", '"', "CSV quote character of output."),
  v("sql jobs", "SQL_QUOTING", "str", "minimal", "CSV quoting of output (minimal, all, nonnumeric, none)."),
  v("sqlc jobs", "SQLC_MAX_PAYLOAD_SIZE", "size", "100K", "Largest sqlc payload file."),
  v("sqlc jobs", "SQLC_TIMEOUT", "duration", "10m", "Run timeout of each file of a sqlc job (`timeout`)."),
  v("sqlv jobs", "SQLV_TIMEOUT", "duration", "10m", "Run timeout of a sqlv job, all files together (`timeout`)."),
  v("smb jobs", "SMB_TIMEOUT", "duration", "10m", "Run timeout of an smb transfer.", { planned: true }),
  v("sharepoint jobs", "SP_LIST_DELIMITER", "str", "|", "Single-character field delimiter for SharePoint list data.", { planned: true }),
  v("sharepoint jobs", "SP_LIST_DOUBLEQUOTE", "bool", "false", "CSV doublequote setting for SharePoint list data.", { planned: true }),
  v("sharepoint jobs", "SP_LIST_ESCAPECHAR", "str", null, "CSV escape character for SharePoint list data.", { planned: true }),
  v("sharepoint jobs", "SP_LIST_QUOTECHAR", "str", '"', "CSV quote character for SharePoint list data.", { planned: true }),
  v("sharepoint jobs", "SP_LIST_QUOTING", "str", "minimal", "CSV quoting for SharePoint list data.", { planned: true }),
  v("sharepoint jobs", "SP_LOGGING", "bool", "false", "Verbose logging in the SharePoint connector.", { planned: true }),
  // Connectors
  v("aws connector", "AWS_CONN_DURATION", "duration", "3h", "Session length of credentials from an assumed role."),
  v("aws connector", "AWS_ACCESS_KEY_CACHE_TTL", "duration", "10m", "How long AWS access keys stay cached (keep well below AWS_CONN_DURATION)."),
  v("aws connector", "AWS_ACCESS_KEY_CACHE_SIZE", "int", "20", "Entries in the AWS access key cache."),
  v("email connector", "EMAIL_MAX_ATTACHMENTS", "int", "5", "Most attachments per message (0 disables attachments)."),
  v("email connector", "EMAIL_MAX_ATTACHMENT_SIZE", "size", "2M", "Largest single attachment."),
  v("email connector", "SMTP_ALLOW_PLAIN_AUTH", "bool", "false", "Allow an smtp email connection with a `user` but no `tls` to send its password over an unencrypted connection (refused otherwise).", { extension: true }),
  v("email connector", "EMAIL_MAX_SIZE", "size", "5M", "Largest whole message (headers, body, attachments)."),
  v("redshift connectors", "RS_PASSWORD_DURATION", "duration", "15m", "Validity of temporary Redshift passwords."),
];

const BY_NAME: ReadonlyMap<string, ConfigVar> = new Map(CONFIG_VARS.map((cv) => [cv.name, cv]));

/** A configuration value that cannot be used. Names the variable, where the value came from and the value. */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(
    message: string,
    readonly variable?: string,
    readonly source?: ConfigSource,
    readonly value?: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Converters. Each throws a plain Error with a short reason; LavaConfig wraps it in a ConfigError.

const NUMBER = String.raw`[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?`;
const DURATION_UNITS: Record<string, number> = { w: 604800, d: 86400, h: 3600, m: 60, s: 1, "": 1 };
const DURATION_RE = new RegExp(String.raw`^\s*(${NUMBER})\s*([wdhms]?)\s*$`);

/** `nnX` with X in w d h m s (case-sensitive), no unit = seconds; sign, fraction and exponent allowed. Returns seconds. */
export function parseDuration(text: string | number): number {
  if (typeof text === "number") {
    if (!Number.isFinite(text)) throw new Error(`invalid duration: ${text}`);
    return text;
  }
  const m = DURATION_RE.exec(text);
  if (!m) throw new Error(`invalid duration: ${text}`);
  return Number(m[1]) * DURATION_UNITS[m[2]!]!;
}

const SIZE_UNITS: Record<string, number> = {
  B: 1,
  K: 1e3, KB: 1e3, M: 1e6, MB: 1e6, G: 1e9, GB: 1e9, T: 1e12, TB: 1e12, P: 1e15, PB: 1e15,
  KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40, PiB: 2 ** 50,
};
const SIZE_RE = new RegExp(String.raw`^\s*(${NUMBER})\s*(B|KB?|MB?|GB?|TB?|PB?|KiB|MiB|GiB|TiB|PiB)\s*$`);
const INTEGER_RE = /^\s*[+-]?\d+\s*$/;

/** Python's round(): halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * A bare integer is bytes; otherwise a number with a case-sensitive unit: B, K/KB, M/MB, G/GB, T/TB, P/PB
 * (powers of 1000) or KiB, MiB, GiB, TiB, PiB (powers of 1024). As in the original, a bare fraction
 * ("1.5") needs a unit ("1.5K"). Returns whole bytes.
 */
export function parseSize(text: string | number): number {
  if (typeof text === "number") {
    if (!Number.isFinite(text)) throw new Error(`invalid size: ${text}`);
    return Math.trunc(text);
  }
  if (INTEGER_RE.test(text)) return Number.parseInt(text, 10);
  const m = SIZE_RE.exec(text);
  if (!m) throw new Error(`invalid size: ${text}`);
  return roundHalfEven(Number(m[1]) * SIZE_UNITS[m[2]!]!);
}

/** true/t/yes/y or a non-zero integer; false/f/no/n or zero. Case-insensitive, surrounding space ignored. */
export function parseBool(text: string | boolean | number): boolean {
  if (typeof text === "boolean") return text;
  if (typeof text === "number") return text !== 0;
  const t = text.trim().toLowerCase();
  if (t === "true" || t === "t" || t === "yes" || t === "y") return true;
  if (t === "false" || t === "f" || t === "no" || t === "n") return false;
  if (INTEGER_RE.test(t)) return Number.parseInt(t, 10) !== 0;
  throw new Error(`invalid boolean: ${text}`);
}

/** Decimal integer, surrounding space allowed (like Python's int()). */
export function parseInteger(text: string | number): number {
  if (typeof text === "number") {
    if (!Number.isInteger(text)) throw new Error(`invalid integer: ${text}`);
    return text;
  }
  const t = text.trim();
  // Python's int() also accepts digit-group underscores ("1_000").
  if (!/^[+-]?\d+(?:_\d+)*$/.test(t)) throw new Error(`invalid integer: ${text}`);
  return Number.parseInt(t.replaceAll("_", ""), 10);
}

// ---------------------------------------------------------------------------------------------------------

export interface ResolvedValue {
  value: string | undefined;
  source: ConfigSource;
}

function realmText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

export class LavaConfig {
  private readonly realm: ReadonlyMap<string, string | undefined>;
  private readonly env: NodeJS.ProcessEnv;

  /**
   * @param realmConfig the `config` map of the realm's entry in the realms table (keys any case).
   * @param env environment to read `LAVA_*` from at every lookup; default the live process.env.
   */
  constructor(realmConfig: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = process.env) {
    this.realm = new Map(Object.entries(realmConfig).map(([k, val]) => [k.toUpperCase(), realmText(val)]));
    this.env = env;
  }

  /** The value and where it came from (env > realm > default). */
  resolve(name: string): ResolvedValue {
    const key = name.toUpperCase();
    const fromEnv = this.env[`LAVA_${key}`];
    if (fromEnv !== undefined) return { value: fromEnv, source: "env" };
    const cv = BY_NAME.get(key);
    if (!cv?.envOnly && this.realm.has(key)) return { value: this.realm.get(key), source: "realm" };
    const d = cv?.default;
    return { value: typeof d === "function" ? d() : (d ?? undefined), source: "default" };
  }

  raw(name: string): string | undefined {
    return this.resolve(name).value;
  }

  /** Text value; "" when the variable has no value (e.g. SES_FROM). */
  str(name: string): string {
    return this.lookup(name).value ?? "";
  }

  int(name: string): number {
    return this.convert(name, parseInteger, "an integer");
  }

  bool(name: string): boolean {
    return this.convert(name, parseBool, "a boolean");
  }

  /** A Duration variable in seconds. */
  seconds(name: string): number {
    return this.convert(name, parseDuration, "a duration");
  }

  /** A Size variable in bytes. */
  bytes(name: string): number {
    return this.convert(name, parseSize, "a size");
  }

  /** A Duration that may be empty to mean "off" (EVENT_TTL): undefined when empty or unset. */
  optionalSeconds(name: string): number | undefined {
    const { value } = this.lookup(name);
    if (value === undefined || value.trim() === "") return undefined;
    return this.seconds(name);
  }

  /** Every known variable (and any extra realm keys) with its current text value, sorted by name. */
  entries(): [string, string][] {
    const names = new Set<string>([...BY_NAME.keys(), ...this.realm.keys()]);
    return [...names].sort().map((n) => [n, this.raw(n) ?? ""]);
  }

  /** Checks every known variable converts to its type; returns the errors (for `lava config --check`). */
  validate(): ConfigError[] {
    const errors: ConfigError[] = [];
    for (const cv of CONFIG_VARS) {
      try {
        this.typed(cv);
      } catch (e) {
        if (e instanceof ConfigError) errors.push(e);
        else throw e;
      }
    }
    return errors;
  }

  /** The variable converted to the type the table gives it. */
  typed(cv: ConfigVar): string | number | boolean | undefined {
    const { value } = this.resolve(cv.name);
    if (value === undefined) return undefined;
    switch (cv.type) {
      case "str":
        return value;
      case "int":
        return this.int(cv.name);
      case "bool":
        return this.bool(cv.name);
      case "duration":
        return cv.name === "EVENT_TTL" ? this.optionalSeconds(cv.name) : this.seconds(cv.name);
      case "size":
        return this.bytes(cv.name);
    }
  }

  private lookup(name: string): ResolvedValue {
    const r = this.resolve(name);
    if (r.value === undefined && !BY_NAME.has(name.toUpperCase())) {
      throw new ConfigError(`unknown configuration variable ${name.toUpperCase()}`, name.toUpperCase());
    }
    return r;
  }

  private convert<T>(name: string, parse: (text: string) => T, what: string): T {
    const key = name.toUpperCase();
    const { value, source } = this.lookup(key);
    if (value === undefined) {
      throw new ConfigError(`configuration variable ${key} has no value (${what} is needed)`, key, source);
    }
    try {
      return parse(value);
    } catch {
      const where = source === "env" ? `environment variable LAVA_${key}` : source === "realm" ? `realm config ${key}` : `default of ${key}`;
      throw new ConfigError(`configuration variable ${key}: ${JSON.stringify(value)} from ${where} is not ${what}`, key, source, value);
    }
  }
}

/** Every error found while compiling a configuration, each naming its variable and source. */
export class ConfigErrors extends Error {
  override name = "ConfigErrors";
  constructor(readonly errors: readonly ConfigError[]) {
    super(errors.map((e) => e.message).join("; "));
  }
}

/**
 * A configuration compiled once: the `LAVA_*` environment is copied when it is built, every variable is
 * converted to its type then, and an invalid value fails the build (ConfigErrors) instead of a run later.
 * Lookups return the converted values; nothing downstream parses text again. A worker builds one at start
 * from the realm's `config` map (docs/WORKER.md: changes need a restart, as in the original).
 */
export class CompiledConfig extends LavaConfig {
  private readonly typedValues = new Map<string, string | number | boolean | undefined>();
  private readonly texts = new Map<string, string | undefined>();

  constructor(realmConfig: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = process.env) {
    super(realmConfig, snapshotLavaEnv(env));
    const errors = this.validate();
    if (errors.length) throw new ConfigErrors(errors);
    for (const cv of CONFIG_VARS) {
      this.typedValues.set(cv.name, this.typed(cv));
      this.texts.set(cv.name, this.raw(cv.name));
    }
    Object.freeze(this);
  }

  override str(name: string): string {
    const key = name.toUpperCase();
    return this.texts.has(key) ? (this.texts.get(key) ?? "") : super.str(name);
  }

  override int(name: string): number {
    return this.compiled(name, "int") ?? super.int(name);
  }

  override bool(name: string): boolean {
    return this.compiled(name, "bool") ?? super.bool(name);
  }

  override seconds(name: string): number {
    return this.compiled(name, "duration") ?? super.seconds(name);
  }

  override bytes(name: string): number {
    return this.compiled(name, "size") ?? super.bytes(name);
  }

  override optionalSeconds(name: string): number | undefined {
    const key = name.toUpperCase();
    return this.typedValues.has(key) ? (this.typedValues.get(key) as number | undefined) : super.optionalSeconds(name);
  }

  /**
   * The value converted at build time; undefined sends the caller to the base class, which raises the
   * proper error (an unknown name, a variable with no value, a getter of the wrong type).
   */
  private compiled<T extends "int" | "duration" | "size" | "bool">(name: string, type: T): (T extends "bool" ? boolean : number) | undefined {
    const key = name.toUpperCase();
    const v = this.typedValues.get(key);
    if (BY_NAME.get(key)?.type !== type || v === undefined) return undefined;
    return v as T extends "bool" ? boolean : number;
  }
}

function snapshotLavaEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) if (k.startsWith("LAVA_")) copy[k] = v;
  return Object.freeze(copy);
}
