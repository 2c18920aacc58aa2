/**
 * The local backend has no IAM: RDS tokens, Redshift temporary passwords and assumed roles cannot be had.
 * Each call says so plainly (a typed error) rather than inventing credentials no server would accept.
 * Connections on the local backend use passwords from parameters or secrets instead.
 */
import { CredentialsUnavailableError, type CredentialsPort } from "../../ports/credentials.ts";

function unavailable(what: string): never {
  throw new CredentialsUnavailableError(`${what} needs AWS IAM, which the local backend does not have; give the connection a password (SSM parameter or secret_id)`);
}

export class LocalCredentials implements CredentialsPort {
  async region(): Promise<string | undefined> {
    return process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || undefined;
  }
  async rdsAuthToken(): Promise<string> {
    return unavailable("An RDS IAM auth token");
  }
  async redshiftClusterCredentials(): Promise<never> {
    return unavailable("Redshift GetClusterCredentials");
  }
  async redshiftServerlessCredentials(): Promise<never> {
    return unavailable("Redshift Serverless GetCredentials");
  }
  async assumeRole(): Promise<never> {
    return unavailable("STS AssumeRole");
  }
}
