/**
 * SharePoint connections (`sharepoint`): fields, validation and credentials (`client_secret` and `password`
 * name SSM parameters). The sharepoint job types and the `lava-sharepoint` wrapper come with their own
 * issue, so this connector has no CLI script yet.
 */
import { connectionParameter } from "./params.ts";
import { checkConnection } from "./spec.ts";
import type { ConnectionSpec, Connector, ConnectorContext } from "./types.ts";

const SHAREPOINT_REQUIRED = ["org_base_url", "site_name", "tenant", "client_id", "client_secret", "user", "password"] as const;
const SHAREPOINT_OPTIONAL = ["https_proxy"] as const;

export const sharepointConnector: Connector = { types: ["sharepoint"] };

export interface SharepointConnection {
  connId: string;
  orgBaseUrl: string;
  siteName: string;
  tenant: string;
  clientId: string;
  clientSecret: string;
  user: string;
  password: string;
  httpsProxy?: string;
}

export async function resolveSharepointConnection(spec: ConnectionSpec, ctx: ConnectorContext): Promise<SharepointConnection> {
  checkConnection(spec, ctx.realm, sharepointConnector.types, SHAREPOINT_REQUIRED, SHAREPOINT_OPTIONAL);
  const password = await connectionParameter(spec, ctx, spec.password, "password");
  const clientSecret = await connectionParameter(spec, ctx, spec.client_secret, "client_secret");
  return {
    connId: spec.conn_id,
    orgBaseUrl: String(spec.org_base_url),
    siteName: String(spec.site_name),
    tenant: String(spec.tenant),
    clientId: String(spec.client_id),
    clientSecret,
    user: String(spec.user),
    password,
    ...(typeof spec.https_proxy === "string" ? { httpsProxy: spec.https_proxy } : {}),
  };
}
