/**
 * Options every lava command shares, and the helpers that turn them into a logger, a realm name
 * and a port bundle, so all commands behave the same. Spread the groups a command needs into its
 * citty `args`: `args: { ...realmArgs, ...backendArgs, ...loggingArgs, worker: {...} }`.
 */
import { NotFoundError, type Ports } from "../ports/index.ts";
import { backendFromEnv, localHome, openPorts, type Backend } from "../adapters/index.ts";
import { createLogger, parseLevel, type Logger, type JsonStyle } from "../core/log.ts";
import { LavaError, UsageError } from "../core/errors.ts";
import { retryingPorts } from "../core/retry.ts";
import { REALMS_TABLE, realmTable } from "../core/names.ts";
import { trackSecrets } from "../core/secrets.ts";
import { existsSync } from "node:fs";
import { join } from "node:path";

export const realmArgs = {
  realm: { type: "string", alias: "r", valueHint: "REALM", description: "Lava realm (default $LAVA_REALM)" },
} as const;

export const backendArgs = {
  profile: { type: "string", valueHint: "PROFILE", description: "AWS profile (aws backend)" },
  backend: { type: "string", valueHint: "local|aws", description: "Where the realm lives (default $LAVA_BACKEND or local)" },
} as const;

export const loggingArgs = {
  level: { type: "string", alias: "l", valueHint: "LEVEL", description: "Log level: debug, info, warning, error, critical (default $LAVA_LOGLEVEL or info)" },
  log: { type: "string", valueHint: "FILE|@FACILITY", description: "Log to a file, or to syslog with @facility (e.g. @local0); default stderr" },
  "log-json": { type: "boolean", description: "Log one JSON object per line" },
  tag: { type: "string", valueHint: "TAG", description: "Tag on log lines (default the program name)" },
  colour: { type: "boolean", default: true, description: "Colour log lines on a terminal (-c, --no-colour or --no-color turn it off)" },
} as const;

/** What the common options parse into (citty's parsed args are loosely typed). */
export interface CommonOptions {
  realm?: string;
  profile?: string;
  backend?: string;
  level?: string;
  log?: string;
  "log-json"?: boolean;
  logJson?: boolean;
  tag?: string;
  colour?: boolean;
}

export function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** `-r/--realm`, else `$LAVA_REALM`; a usage error when neither is set. */
/** `-r` or LAVA_REALM; without either a usage error, worded as `missing` (commands keep the original's words). */
export function realmFrom(args: CommonOptions, env: NodeJS.ProcessEnv = process.env, missing = "a realm is needed: use -r/--realm or set LAVA_REALM"): string {
  const realm = str(args.realm) ?? str(env.LAVA_REALM);
  if (!realm) throw new UsageError(missing);
  return realm;
}

export function backendFrom(args: CommonOptions, env: NodeJS.ProcessEnv = process.env): Backend {
  const flag = str(args.backend);
  if (flag === undefined) {
    try {
      return backendFromEnv(env);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  if (flag !== "local" && flag !== "aws") throw new UsageError(`--backend must be local or aws, not "${flag}"`);
  return flag;
}

/** Opens the ports of the chosen backend (the AWS SDK is loaded only for `aws`). */
/** The ports a command works with: table and queue calls retried under the one policy (src/core/retry.ts). */
export async function portsFrom(args: CommonOptions, env: NodeJS.ProcessEnv = process.env): Promise<Ports> {
  const backend = backendFrom(args, env);
  const ports = await openPorts({ backend, home: localHome(env), profile: str(args.profile), region: str(env.AWS_REGION) ?? str(env.AWS_DEFAULT_REGION) });
  // Secrets learnt as they are read; table and queue calls retried under the one policy (src/core/retry.ts).
  return retryingPorts(trackSecrets(ports));
}

export interface LoggerDefaults {
  /** Program name: JSON `event_source` and default tag. */
  program: string;
  tag?: string;
  realm?: string;
  worker?: string;
  jsonStyle?: JsonStyle;
}

/** A logger configured from the logging options; a bad level is a usage error. */
export function loggerFrom(args: CommonOptions, defaults: LoggerDefaults): Logger {
  const level = str(args.level);
  if (level !== undefined) {
    try {
      parseLevel(level);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  return createLogger({
    level,
    target: str(args.log),
    json: Boolean(args["log-json"] ?? args.logJson),
    jsonStyle: defaults.jsonStyle,
    tag: str(args.tag) ?? defaults.tag ?? defaults.program,
    eventSource: defaults.program,
    colour: args.colour !== false,
    realm: defaults.realm,
    worker: defaults.worker,
  });
}

/** The `config` map of the realm's entry in the realms table (empty when it has none). */
export async function readRealmConfig(ports: Ports, realm: string): Promise<Record<string, unknown>> {
  const item = await ports.tables.get(REALMS_TABLE, { realm });
  if (!item) throw new LavaError(`no realm ${realm}`);
  const cfg = item.config;
  return cfg && typeof cfg === "object" && !Array.isArray(cfg) && !(cfg instanceof Uint8Array) ? (cfg as Record<string, unknown>) : {};
}

/** The realm named on the command line has no tables (or no realm entry): a typo, or never created. */
export class NoRealmError extends LavaError {
  override name = "NoRealmError";
}

export function noRealmMessage(realm: string): string {
  return `no realm "${realm}" (no ${realmTable(realm, "jobs")} table); create it with: lava realm create -r ${realm}`;
}

/** A missing table of `realm` (or the realms table) means the realm is missing; other errors pass through unchanged. */
export function explainMissingRealm(err: unknown, realm: string | undefined): unknown {
  if (!realm || !(err instanceof NotFoundError) || err.resource.kind !== "table") return err;
  const table = err.resource.name;
  const ofRealm = table.startsWith(`lava.${realm}.`) || table === REALMS_TABLE;
  return ofRealm ? new NoRealmError(noRealmMessage(realm), { realm }, { cause: err }) : err;
}

export interface PortsUse {
  /** The realm the command works on, so a missing table reads as a missing realm. */
  realm?: string;
  /** The command only reads: on the local backend, do not create an empty store in a wrong LAVA_HOME. */
  readOnly?: boolean;
}

/** Runs `fn` with ports open and closes them afterwards, whatever happens. */
export async function withPorts<T>(args: CommonOptions, fn: (ports: Ports) => Promise<T>, use: PortsUse = {}, env: NodeJS.ProcessEnv = process.env): Promise<T> {
  if (use.readOnly && backendFrom(args, env) === "local") {
    const home = localHome(env);
    if (!existsSync(join(home, "lava.db"))) throw new LavaError(`no lava realm data in $LAVA_HOME (${home}); create a realm with: lava realm create`);
  }
  const ports = await portsFrom(args, env);
  try {
    return await fn(ports);
  } catch (e) {
    throw explainMissingRealm(e, use.realm);
  } finally {
    await ports.close();
  }
}
