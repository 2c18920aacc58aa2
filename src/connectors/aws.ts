/**
 * AWS connections (`aws`): credentials for another account or role. `access_keys` names an SSM parameter
 * holding `key_id,secret`; else `role_arn` is assumed (session AWS_CONN_DURATION or `duration`, optional
 * `external_id` SSM parameter, `policy_arns`, `policy`, `tags`; session name from CONN_APP_NAME). Results
 * are cached per connection for AWS_ACCESS_KEY_CACHE_TTL (at most AWS_ACCESS_KEY_CACHE_SIZE of them).
 *
 * The CLI wrapper is the original's: `AWS_CONFIG_FILE=<0600 file with profile lava> aws --profile lava "$@"`.
 */
import { parseDuration } from "../core/config.ts";
import { rememberSecret } from "../core/secrets.ts";
import { errorText } from "../core/error-text.ts";
import { applicationName, roleSessionName } from "./appname.ts";
import { ownedCache, type TtlCache } from "./cache.ts";
import { connectionError, connectionParameter } from "./params.ts";
import { connectionDir, shQuote, writeScript, writeSecretFile } from "./scripts.ts";
import { checkConnection, getConnectionSpec } from "./spec.ts";
import { ConnectionError, type ConnectionSpec, type Connector, type ConnectorContext } from "./types.ts";
import { stringMap } from "./redshift.ts";

const AWS_OPTIONAL_FIELDS = ["access_keys", "role_arn", "external_id", "duration", "policy_arns", "policy", "region", "tags"] as const;

export const awsConnector: Connector = { types: ["aws"], cliScript: awsScript };

export interface AwsConnection {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  region?: string;
}

const caches = new WeakMap<object, TtlCache<AwsConnection>>();

function cacheFor(ctx: ConnectorContext): TtlCache<AwsConnection> {
  return ownedCache(caches, ctx.ports, ctx.config.int("AWS_ACCESS_KEY_CACHE_SIZE"), ctx.config.seconds("AWS_ACCESS_KEY_CACHE_TTL") * 1000);
}

/** The credentials an `aws` connection item gives (cached by conn_id). */
export async function awsCredentials(spec: ConnectionSpec, ctx: ConnectorContext): Promise<AwsConnection> {
  checkConnection(spec, ctx.realm, awsConnector.types, [], AWS_OPTIONAL_FIELDS);
  const cache = cacheFor(ctx);
  const hit = cache.get(spec.conn_id);
  if (hit) return hit;
  let keys: AwsConnection;
  if ("access_keys" in spec) keys = await staticKeys(spec, ctx);
  else if ("role_arn" in spec) keys = await assumedRole(spec, ctx);
  else throw connectionError(spec, ctx, "One of access_keys or role_arn is required");
  const region = typeof spec.region === "string" ? spec.region : await ctx.ports.credentials.region();
  const result = { ...(region ? { region } : {}), ...keys };
  cache.set(spec.conn_id, result);
  return result;
}

export async function getAwsConnection(connId: string, ctx: ConnectorContext): Promise<AwsConnection> {
  return awsCredentials(await getConnectionSpec(ctx.ports, ctx.realm, connId), ctx);
}

async function staticKeys(spec: ConnectionSpec, ctx: ConnectorContext): Promise<AwsConnection> {
  const value = await connectionParameter(spec, ctx, spec.access_keys, "access_keys");
  const comma = value.indexOf(",");
  if (comma < 0) throw connectionError(spec, ctx, `SSM ${String(spec.access_keys)}: Must be in format "access_key_id,access_secret_key"`);
  return { accessKeyId: value.slice(0, comma), secretAccessKey: value.slice(comma + 1) };
}

async function assumedRole(spec: ConnectionSpec, ctx: ConnectorContext): Promise<AwsConnection> {
  let durationSeconds: number;
  try {
    durationSeconds = spec.duration === undefined ? ctx.config.seconds("AWS_CONN_DURATION") : parseDuration(spec.duration as string);
  } catch {
    throw connectionError(spec, ctx, `Bad duration: ${String(spec.duration)}`);
  }
  const externalId = spec.external_id === undefined ? undefined : await connectionParameter(spec, ctx, spec.external_id, "external_id");
  const policyArns = spec.policy_arns === undefined ? undefined : (Array.isArray(spec.policy_arns) ? spec.policy_arns : [spec.policy_arns]).map(String);
  try {
    const creds = await ctx.ports.credentials.assumeRole({
      roleArn: String(spec.role_arn),
      sessionName: roleSessionName(applicationName(ctx.config, spec.conn_id, ctx.realm, ctx.jobId)),
      durationSeconds,
      ...(externalId ? { externalId } : {}),
      ...(policyArns?.length ? { policyArns } : {}),
      ...(spec.policy ? { policy: typeof spec.policy === "string" ? spec.policy : JSON.stringify(spec.policy) } : {}),
      ...(spec.tags && typeof spec.tags === "object" ? { tags: stringMap(spec.tags) } : {}),
    });
    rememberSecret(creds.secretAccessKey);
    rememberSecret(creds.sessionToken);
    return { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, ...(creds.sessionToken ? { sessionToken: creds.sessionToken } : {}) };
  } catch (e) {
    if (e instanceof ConnectionError) throw e;
    throw connectionError(spec, ctx, `Cannot assume role ${String(spec.role_arn)}: ${errorText(e)}`, e);
  }
}

async function awsScript(spec: ConnectionSpec, workdir: string, ctx: ConnectorContext): Promise<string> {
  const creds = await awsCredentials(spec, ctx);
  const dir = connectionDir(workdir);
  const lines = ["", "[profile lava]", "s3 =", "    signature_version = s3v4", ""];
  if (creds.region) lines.push(`region=${creds.region}`);
  lines.push(`aws_access_key_id=${creds.accessKeyId}`, `aws_secret_access_key=${creds.secretAccessKey}`);
  if (creds.sessionToken) lines.push(`aws_session_token=${creds.sessionToken}`);
  const conf = writeSecretFile(dir, ".aws_config", `${lines.join("\n")}\n`);
  return writeScript(dir, "aws", `\nAWS_CONFIG_FILE=${shQuote(conf)} aws --profile lava "$@"`);
}

/** Forget cached keys (tests). */
export function clearAwsKeyCache(ctx: ConnectorContext): void {
  caches.get(ctx.ports)?.clear();
}
