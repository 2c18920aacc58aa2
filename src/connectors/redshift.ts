/**
 * Redshift, provisioned (`redshift`) and serverless (`redshift-serverless`): the PostgreSQL driver and
 * psql, plus their IAM credential getters. Provisioned: GetClusterCredentials for `user` on `cluster_id`
 * (default: the host's first label). Serverless: GetCredentials on `workgroup` (default: the host's first
 * label), optionally as an assumed `role_arn`; the database user is then derived from the IAM name.
 */
import { parseDuration } from "../core/config.ts";
import { rememberSecret } from "../core/secrets.ts";
import { roleSessionName, applicationName } from "./appname.ts";
import { connectionError, connectionParameter } from "./params.ts";
import { postgresConnect, postgresScript } from "./postgres.ts";
import type { ConnectionSpec, Connector, ConnectorContext } from "./types.ts";

export const redshiftConnector: Connector = {
  types: ["redshift", "redshift-serverless"],
  cliScript: postgresScript,
  connect: (conn, ctx, opts) => {
    if (!conn.database) throw connectionError(conn.spec, ctx, "database must be specified for Redshift");
    return postgresConnect(conn, ctx, opts);
  },
};

/** Assumed-role sessions only live long enough to ask for the database password (900 s is STS's minimum). */
const SERVERLESS_ROLE_SECONDS = 900;

function passwordDuration(spec: ConnectionSpec, ctx: ConnectorContext): number {
  try {
    return spec.password_duration === undefined ? ctx.config.seconds("RS_PASSWORD_DURATION") : parseDuration(spec.password_duration as string);
  } catch {
    throw connectionError(spec, ctx, "Bad password_duration");
  }
}

function firstLabel(host: unknown): string {
  return String(host).split(".", 1)[0]!;
}

export async function redshiftCredentials(spec: ConnectionSpec, ctx: ConnectorContext): Promise<{ user: string; password: string }> {
  if (!spec.database) throw connectionError(spec, ctx, "database must be specified");
  if (typeof spec.user !== "string" || !spec.user) throw connectionError(spec, ctx, "user must be specified");
  return ctx.ports.credentials.redshiftClusterCredentials({
    clusterId: typeof spec.cluster_id === "string" ? spec.cluster_id : firstLabel(spec.host),
    database: String(spec.database),
    user: spec.user,
    durationSeconds: passwordDuration(spec, ctx),
  });
}

export async function redshiftServerlessCredentials(spec: ConnectionSpec, ctx: ConnectorContext): Promise<{ user: string; password: string }> {
  if (!spec.database) throw connectionError(spec, ctx, "database must be specified");
  let credentials;
  if (typeof spec.role_arn === "string") {
    const externalId = spec.external_id === undefined ? undefined : await connectionParameter(spec, ctx, spec.external_id, "external_id");
    credentials = await ctx.ports.credentials.assumeRole({
      roleArn: spec.role_arn,
      sessionName: roleSessionName(applicationName(ctx.config, spec.conn_id, ctx.realm, ctx.jobId)),
      durationSeconds: SERVERLESS_ROLE_SECONDS,
      ...(externalId ? { externalId } : {}),
      ...(spec.tags && typeof spec.tags === "object" ? { tags: stringMap(spec.tags) } : {}),
    });
    rememberSecret(credentials.secretAccessKey);
    rememberSecret(credentials.sessionToken);
  }
  return ctx.ports.credentials.redshiftServerlessCredentials({
    workgroup: typeof spec.workgroup === "string" ? spec.workgroup : firstLabel(spec.host),
    database: String(spec.database),
    durationSeconds: passwordDuration(spec, ctx),
    ...(credentials ? { credentials } : {}),
    ...(typeof spec.region === "string" ? { region: spec.region } : {}),
  });
}

export function stringMap(v: object): Record<string, string> {
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
}
