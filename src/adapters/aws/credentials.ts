/**
 * CredentialsPort on AWS: RDS auth tokens (@aws-sdk/rds-signer, signed locally with the clients'
 * credentials), Redshift GetClusterCredentials, Redshift Serverless GetCredentials and STS AssumeRole.
 * Each SDK module loads on first use.
 */
import type { STSClient } from "@aws-sdk/client-sts";
import type { RedshiftClient } from "@aws-sdk/client-redshift";
import type { RedshiftServerlessClient } from "@aws-sdk/client-redshift-serverless";
import type { AssumeRoleRequest, AwsCredentials, CredentialsPort, DbCredentials } from "../../ports/credentials.ts";
import { PortError } from "../../ports/errors.ts";
import { clientOptions, lazy, type AwsSettings, type CountableClient } from "./clients.ts";
import { awsCall } from "./errors.ts";

interface Registrar {
  register<C extends CountableClient & { destroy(): void }>(client: C, service: string): C;
}

export class AwsCredentialsPort implements CredentialsPort {
  private readonly sts = lazy<STSClient>(async () => {
    const { STSClient } = await import("@aws-sdk/client-sts");
    return this.pool.register(new STSClient(clientOptions(this.settings, "STS")), "STS");
  });
  private readonly redshift = lazy<RedshiftClient>(async () => {
    const { RedshiftClient } = await import("@aws-sdk/client-redshift");
    return this.pool.register(new RedshiftClient(clientOptions(this.settings, "REDSHIFT")), "Redshift");
  });

  constructor(
    private readonly settings: AwsSettings,
    private readonly pool: Registrar,
  ) {}

  async region(): Promise<string | undefined> {
    return this.settings.region ?? (await (await this.sts()).config.region());
  }

  async rdsAuthToken(req: { host: string; port: number; user: string; region?: string }): Promise<string> {
    const { Signer } = await import("@aws-sdk/rds-signer");
    const sts = await this.sts();
    const region = req.region ?? (await this.region());
    if (!region) throw new PortError("RDS auth token: no AWS region is configured");
    const signer = new Signer({
      hostname: req.host,
      port: req.port,
      username: req.user,
      region,
      credentials: () => sts.config.credentials(),
    });
    return awsCall(`RDS auth token for ${req.user}@${req.host}:${req.port}`, () => signer.getAuthToken());
  }

  async redshiftClusterCredentials(req: { clusterId: string; database: string; user: string; durationSeconds: number }): Promise<DbCredentials> {
    const { GetClusterCredentialsCommand } = await import("@aws-sdk/client-redshift");
    const client = await this.redshift();
    const out = await awsCall(`Redshift GetClusterCredentials for cluster ${req.clusterId}`, () =>
      client.send(
        new GetClusterCredentialsCommand({
          ClusterIdentifier: req.clusterId,
          DbName: req.database,
          DbUser: req.user,
          DurationSeconds: req.durationSeconds,
          AutoCreate: false,
        }),
      ),
    );
    if (!out.DbUser || !out.DbPassword) throw new PortError(`Redshift GetClusterCredentials for cluster ${req.clusterId}: no credentials returned`);
    return { user: out.DbUser, password: out.DbPassword };
  }

  async redshiftServerlessCredentials(req: {
    workgroup: string;
    database: string;
    durationSeconds: number;
    credentials?: AwsCredentials;
    region?: string;
  }): Promise<DbCredentials> {
    const { RedshiftServerlessClient, GetCredentialsCommand } = await import("@aws-sdk/client-redshift-serverless");
    // A client per call: it may act as an assumed role, and these calls are rare (one per connection).
    const options = clientOptions(this.settings, "REDSHIFT_SERVERLESS", req.region ?? this.settings.region);
    const client: RedshiftServerlessClient = new RedshiftServerlessClient(req.credentials ? { ...options, credentials: req.credentials } : options);
    try {
      const out = await awsCall(`Redshift Serverless GetCredentials for workgroup ${req.workgroup}`, () =>
        client.send(new GetCredentialsCommand({ dbName: req.database, workgroupName: req.workgroup, durationSeconds: req.durationSeconds })),
      );
      if (!out.dbUser || !out.dbPassword) throw new PortError(`Redshift Serverless GetCredentials for workgroup ${req.workgroup}: no credentials returned`);
      return { user: out.dbUser, password: out.dbPassword };
    } finally {
      client.destroy();
    }
  }

  async assumeRole(req: AssumeRoleRequest): Promise<AwsCredentials> {
    const { AssumeRoleCommand } = await import("@aws-sdk/client-sts");
    const sts = await this.sts();
    const out = await awsCall(`assume role ${req.roleArn}`, () =>
      sts.send(
        new AssumeRoleCommand({
          RoleArn: req.roleArn,
          RoleSessionName: req.sessionName,
          DurationSeconds: req.durationSeconds,
          ...(req.externalId ? { ExternalId: req.externalId } : {}),
          ...(req.policyArns?.length ? { PolicyArns: req.policyArns.map((arn) => ({ arn })) } : {}),
          ...(req.policy ? { Policy: req.policy } : {}),
          ...(req.tags ? { Tags: Object.entries(req.tags).map(([Key, Value]) => ({ Key, Value })) } : {}),
        }),
      ),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey) throw new PortError(`assume role ${req.roleArn}: no credentials returned`);
    return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
  }
}
