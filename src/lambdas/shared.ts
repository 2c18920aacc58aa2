/**
 * What every realm lambda shares: the invocation context, a JSON logger for CloudWatch Logs, the realm
 * name checks, and the AWS ports.
 *
 * Lambdas run on the Node.js runtime; they are bundled with `bun build --target=node` and must not use
 * Bun-only APIs.
 */
import type { Ports } from "../ports/index.ts";
import { createLogger, parseLevel, type Logger } from "../core/log.ts";
import { retryingPorts } from "../core/retry.ts";
import { trackSecrets } from "../core/secrets.ts";

/** The parts of the Lambda context object we use. */
export interface LambdaContext {
  functionName: string;
  awsRequestId: string;
}

export class LambdaConfigError extends Error {
  override name = "LambdaConfigError";
}

export type LambdaLog = Pick<Logger, "debug" | "info" | "warning" | "error">;

/**
 * One JSON object per line (CloudWatch Logs Insights parses them), through the one logger every lava
 * program uses, so the lambdas redact secrets exactly as the worker does. `LOGLEVEL` sets the threshold,
 * as in the original lambdas. `sink` is replaceable for tests.
 */
export function lambdaLog(
  program: string,
  env: NodeJS.ProcessEnv = process.env,
  sink: (line: string) => void = (line) => console.log(line),
): LambdaLog {
  return createLogger({ level: levelOf(env.LOGLEVEL), json: true, jsonStyle: "dispatcher", eventSource: program, tag: program, colour: false, write: sink });
}

/** An unknown LOGLEVEL must not stop a lambda from starting: it logs at info. */
function levelOf(text: string | undefined): string {
  const t = (text ?? "info").trim();
  try {
    parseLevel(t);
    return t;
  } catch {
    return "info";
  }
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
  // As the CLI's: secrets learnt as they are read, table and queue calls retried under the one policy.
  portsPromise ??= import("../adapters/aws/index.ts").then(async ({ openAwsPorts }) => retryingPorts(trackSecrets(await openAwsPorts())));
  return portsPromise;
}

export const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));
