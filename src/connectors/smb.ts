/**
 * SMB connections (`smb`): fields, validation and credentials (password from SSM; Secrets Manager fills
 * absent fields as for databases). The smb job type and the `lava-smb` wrapper come with their own issue,
 * so this connector has no CLI script yet.
 */
import { connectionError, connectionParameter, connectionSecret } from "./params.ts";
import { checkConnection } from "./spec.ts";
import { flag } from "./sql.ts";
import type { ConnectionSpec, Connector, ConnectorContext } from "./types.ts";

const SMB_REQUIRED = ["remote_name", "host", "user", "password"] as const;
const SMB_OPTIONAL = ["subtype", "domain", "my_name", "port", "use_ntlm_v2", "is_direct_tcp", "encrypt"] as const;
const SMB_SUBTYPES = ["pysmb", "smbprotocol"];

export const smbConnector: Connector = { types: ["smb"] };

export interface SmbConnection {
  connId: string;
  subtype: "pysmb" | "smbprotocol";
  host: string;
  port: number;
  remoteName: string;
  user: string;
  password: string;
  domain: string;
  /** NetBIOS name: at most 15 characters. */
  myName: string;
  isDirectTcp: boolean;
  useNtlmV2: boolean;
  encrypt: boolean;
}

export async function resolveSmbConnection(item: ConnectionSpec, ctx: ConnectorContext): Promise<SmbConnection> {
  const spec: ConnectionSpec = { ...item };
  if ("password" in spec) spec.password = await connectionParameter(spec, ctx, spec.password, "password");
  if ("secret_id" in spec) {
    const secret = await connectionSecret(spec, ctx, spec.secret_id);
    for (const [from, to] of [["username", "user"], ["password", "password"], ["host", "host"], ["port", "port"]] as const) {
      if (!(to in spec) && from in secret) spec[to] = secret[from];
    }
  }
  checkConnection(spec, ctx.realm, smbConnector.types, SMB_REQUIRED, SMB_OPTIONAL);
  const subtype = String(spec.subtype ?? "pysmb");
  if (!SMB_SUBTYPES.includes(subtype)) throw connectionError(spec, ctx, `Unsupported connection type - smb = ${subtype}`);
  const isDirectTcp = flag(spec.is_direct_tcp ?? false);
  const port = Number(spec.port ?? (isDirectTcp ? 445 : 139));
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw connectionError(spec, ctx, `Bad port ${String(spec.port)}`);
  return {
    connId: spec.conn_id,
    subtype: subtype as SmbConnection["subtype"],
    host: String(spec.host),
    port,
    remoteName: String(spec.remote_name),
    user: String(spec.user),
    password: String(spec.password),
    domain: String(spec.domain ?? ""),
    myName: String(spec.my_name ?? `lava-${ctx.realm}`).slice(0, 15),
    isDirectTcp,
    useNtlmV2: flag(spec.use_ntlm_v2 ?? true),
    encrypt: flag(spec.encrypt ?? false),
  };
}
