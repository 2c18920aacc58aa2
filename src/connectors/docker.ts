/**
 * Docker connections (`docker`): fields, validation and registry credentials. A registry other than
 * `ecr` / `ecr:<account>` logs in as `user` with the password in SSM parameter `password`; ECR registries
 * get their token from AWS when the docker job type arrives (its own issue), as does the client itself.
 */
import { connectionError, connectionParameter } from "./params.ts";
import { checkConnection } from "./spec.ts";
import { flag } from "./sql.ts";
import type { ConnectionSpec, Connector, ConnectorContext } from "./types.ts";

const DOCKER_OPTIONAL = ["email", "password", "registry", "server", "timeout", "tls", "user"] as const;

export const dockerConnector: Connector = { types: ["docker"] };

export interface DockerConnection {
  connId: string;
  /** Docker engine URL; absent: the environment's (DOCKER_HOST or the local socket). */
  server?: string;
  tls: boolean;
  timeoutSeconds?: number;
  /** `ecr`, `ecr:<account>`, a registry host, or absent (no login). */
  registry?: string;
  email?: string;
}

export interface RegistryLogin {
  registry: string;
  username: string;
  password: string;
  email?: string;
}

export function parseDockerConnection(spec: ConnectionSpec, ctx: ConnectorContext): DockerConnection {
  checkConnection(spec, ctx.realm, dockerConnector.types, [], DOCKER_OPTIONAL);
  let timeoutSeconds: number | undefined;
  if (spec.timeout !== undefined) {
    timeoutSeconds = Number(spec.timeout);
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 0) throw connectionError(spec, ctx, `Bad timeout ${String(spec.timeout)}`);
  }
  if (spec.registry !== undefined && (typeof spec.registry !== "string" || !spec.registry)) throw connectionError(spec, ctx, "registry must be a string");
  return {
    connId: spec.conn_id,
    ...(typeof spec.server === "string" ? { server: spec.server } : {}),
    tls: flag(spec.tls ?? true),
    ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
    ...(spec.registry ? { registry: spec.registry as string } : {}),
    ...(typeof spec.email === "string" ? { email: spec.email } : {}),
  };
}

export function isEcrRegistry(registry: string): boolean {
  return /^ecr(:\d+)?$/.test(registry);
}

/** Login for a non-ECR registry (user + SSM password). */
export async function registryLogin(spec: ConnectionSpec, ctx: ConnectorContext): Promise<RegistryLogin | undefined> {
  const conn = parseDockerConnection(spec, ctx);
  if (!conn.registry) return undefined;
  if (isEcrRegistry(conn.registry)) throw connectionError(spec, ctx, "ECR registry logins come with the docker job type; not supported yet");
  if (typeof spec.user !== "string" || !spec.user) throw connectionError(spec, ctx, "Missing keys: user");
  if (spec.password === undefined) throw connectionError(spec, ctx, "Missing keys: password");
  return {
    registry: conn.registry,
    username: spec.user,
    password: await connectionParameter(spec, ctx, spec.password, "password"),
    ...(conn.email ? { email: conn.email } : {}),
  };
}
