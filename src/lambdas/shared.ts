/**
 * What every realm lambda shares: the invocation context, a JSON logger for CloudWatch Logs, the realm
 * name checks, and the AWS ports.
 *
 * Lambdas run on the Node.js runtime; they are bundled with `bun build --target=node` and must not use
 * Bun-only APIs.
 */
import type { Ports } from "../ports/index.ts";
import { retryingPorts } from "../core/retry.ts";

/** The parts of the Lambda context object we use. */
export interface LambdaContext {
  functionName: string;
  awsRequestId: string;
}

export class LambdaConfigError extends Error {
  override name = "LambdaConfigError";
}

const LEVELS = { debug: 10, info: 20, warning: 30, error: 40 } as const;
export type LambdaLevel = keyof typeof LEVELS;

export interface LambdaLog {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warning(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

function levelOf(text: string | undefined): LambdaLevel {
  const t = (text ?? "info").trim().toLowerCase();
  if (t === "warn") return "warning";
  return t in LEVELS ? (t as LambdaLevel) : "info";
}

/**
 * One JSON object per line (CloudWatch Logs Insights parses them). `LOGLEVEL` sets the threshold, as in
 * the original lambdas. `sink` is replaceable for tests.
 */
export function lambdaLog(
  program: string,
  env: NodeJS.ProcessEnv = process.env,
  sink: (line: string) => void = (line) => console.log(line),
): LambdaLog {
  const threshold = LEVELS[levelOf(env.LOGLEVEL)];
  const emit = (level: LambdaLevel) => (message: string, fields: Record<string, unknown> = {}) => {
    if (LEVELS[level] < threshold) return;
    sink(JSON.stringify({ timestamp: new Date().toISOString(), level: level.toUpperCase(), program, message, ...fields }));
  };
  return { debug: emit("debug"), info: emit("info"), warning: emit("warning"), error: emit("error") };
}

/**
 * The realm part of a lava resource name `lava-<realm>-…`. Realm names never contain `-`, which is what
 * makes this split safe.
 */
export function realmFromLavaId(lavaId: string): string {
  const [lava, realm] = lavaId.split("-");
  if (lava !== "lava" || !realm) throw new LambdaConfigError(`Bad lava identifier: ${lavaId}`);
  return realm;
}

/** `LAVA_REALM`, which the realm stack sets on every lambda. */
export function realmFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const realm = env.LAVA_REALM?.trim();
  if (!realm) throw new LambdaConfigError("LAVA_REALM environment variable must be set");
  return realm;
}

/** Guards against a function deployed under another realm's name (copy-paste of stacks). */
export function checkRealm(realm: string, ...lavaIds: string[]): void {
  for (const id of lavaIds) {
    if (realmFromLavaId(id) !== realm) throw new LambdaConfigError(`Lava configuration error: realm name mismatch (${id})`);
  }
}

/** AWS ports, opened once per warm lambda instance. */
let portsPromise: Promise<Ports> | undefined;
export function lambdaPorts(): Promise<Ports> {
  // Table and queue calls retried under the one policy (src/core/retry.ts), as the CLI's.
  portsPromise ??= import("../adapters/aws/index.ts").then(({ openAwsPorts }) => openAwsPorts().then((ports) => retryingPorts(ports)));
  return portsPromise;
}

export const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));
