/**
 * Temporary credentials from AWS that the connectors need: RDS IAM auth tokens, Redshift passwords
 * (provisioned and serverless) and STS assumed-role sessions. Values returned here are secrets; the caller
 * registers them with the secret tracker (src/core/secrets.ts) before they can reach a log.
 */
import { PortError } from "./errors.ts";

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

export interface DbCredentials {
  user: string;
  password: string;
}

export interface AssumeRoleRequest {
  roleArn: string;
  sessionName: string;
  durationSeconds: number;
  externalId?: string;
  policyArns?: string[];
  /** Inline session policy, JSON text. */
  policy?: string;
  tags?: Record<string, string>;
}

export interface CredentialsPort {
  /** The region the backend's clients use, when known. */
  region(): Promise<string | undefined>;
  /** A signed RDS IAM authentication token for `user` at `host:port` (signed locally, no request). */
  rdsAuthToken(req: { host: string; port: number; user: string; region?: string }): Promise<string>;
  /** Redshift GetClusterCredentials (AutoCreate false). */
  redshiftClusterCredentials(req: { clusterId: string; database: string; user: string; durationSeconds: number }): Promise<DbCredentials>;
  /** Redshift Serverless GetCredentials, optionally as another principal (an assumed role). */
  redshiftServerlessCredentials(req: {
    workgroup: string;
    database: string;
    durationSeconds: number;
    credentials?: AwsCredentials;
    region?: string;
  }): Promise<DbCredentials>;
  /** STS AssumeRole. */
  assumeRole(req: AssumeRoleRequest): Promise<AwsCredentials>;
}

/** The backend cannot give this kind of credential (the local backend has no IAM). */
export class CredentialsUnavailableError extends PortError {
  override name = "CredentialsUnavailableError";
}
