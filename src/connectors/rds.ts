/**
 * RDS and Aurora (PostgreSQL, MySQL) IAM authentication: with no password in the item, a signed auth
 * token for host, port and user is the password. The token travels in clear at login, so the drivers
 * and CLI wrappers insist on SSL with it.
 */
import { connectionError } from "./params.ts";
import type { ConnectionSpec, ConnectorContext } from "./types.ts";

export async function rdsCredentials(spec: ConnectionSpec, ctx: ConnectorContext): Promise<{ user: string; password: string; iamToken: true }> {
  if (typeof spec.user !== "string" || !spec.user) throw connectionError(spec, ctx, "user must be specified for IAM authentication");
  const token = await ctx.ports.credentials.rdsAuthToken({
    host: String(spec.host),
    port: Number(spec.port),
    user: spec.user,
    ...(typeof spec.region === "string" ? { region: spec.region } : {}),
  });
  return { user: spec.user, password: token, iamToken: true };
}
