/**
 * Credentials that only AWS can give, on moto_server through the aws backend: STS AssumeRole for `aws`
 * connections (with the access-key cache), RDS IAM auth tokens (signed locally by @aws-sdk/rds-signer) and
 * Redshift GetClusterCredentials. Redshift Serverless has no moto emulation: its GetCredentials is answered
 * by a small stub server on loopback that records what the SDK sent.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SSMClient, PutParameterCommand } from "@aws-sdk/client-ssm";
import { RedshiftClient, CreateClusterCommand } from "@aws-sdk/client-redshift";
import { openAwsPorts, type AwsPorts } from "../../src/adapters/aws/index.ts";
import { LavaConfig } from "../../src/core/config.ts";
import { scrubSecrets, trackSecrets } from "../../src/core/secrets.ts";
import { awsCredentials, clearAwsKeyCache } from "../../src/connectors/aws.ts";
import { connectSql, resolveSqlConnection } from "../../src/connectors/sql.ts";
import type { ConnectorContext } from "../../src/connectors/types.ts";
import { needs } from "../support/availability.ts";
import { emulatorsPresent, sdkConfig, startAwsEmulators, type AwsEmulators } from "../support/emulators.ts";

const present = needs("moto_server", emulatorsPresent.moto(), "pip install 'moto[server]'");

describe.if(present)("AWS credentials on moto", () => {
  let emu: AwsEmulators;
  let ports: AwsPorts;
  const ctx = (config: Record<string, unknown> = {}): ConnectorContext => ({ ports, realm: "test", config: new LavaConfig(config, {}), jobId: "j/1" });

  beforeAll(async () => {
    emu = await startAwsEmulators({ moto: true });
    ports = trackSecrets(await openAwsPorts({ env: emu.env }));
    const ssm = new SSMClient(sdkConfig(emu.endpoints.moto));
    await ssm.send(new PutParameterCommand({ Name: "/lava/test/ext", Value: "external-id-4711", Type: "SecureString" }));
    ssm.destroy();
  });
  afterAll(async () => {
    await ports?.close();
    await emu?.stop();
  });

  const role = { conn_id: "acct", type: "aws", enabled: true, role_arn: "arn:aws:iam::123456789012:role/lava-test", external_id: "/lava/test/ext" };

  test("aws connection with role_arn: AssumeRole keys, learnt as secrets, cached per connection", async () => {
    const c = ctx();
    clearAwsKeyCache(c);
    const first = await awsCredentials(role, c);
    expect(first.accessKeyId).toBeTruthy();
    expect(first.sessionToken).toBeTruthy();
    expect(first.region).toBe("us-east-1");
    expect(scrubSecrets(`key ${first.secretAccessKey}`)).toBe("key ********");
    // moto hands out new keys on every AssumeRole: the same keys again means the cache answered.
    expect((await awsCredentials(role, c)).secretAccessKey).toBe(first.secretAccessKey);
    clearAwsKeyCache(c);
    const uncached = ctx({ AWS_ACCESS_KEY_CACHE_TTL: "0s" });
    const a = await awsCredentials(role, uncached);
    const b = await awsCredentials(role, uncached);
    expect(a.secretAccessKey).not.toBe(b.secretAccessKey);
  });

  test("a bad duration and a missing role or keys are refused naming the connection", async () => {
    const c = ctx();
    clearAwsKeyCache(c);
    await expect(awsCredentials({ ...role, conn_id: "d", duration: "forever" }, c)).rejects.toThrow("Connection d: Bad duration: forever");
    await expect(awsCredentials({ conn_id: "n", type: "aws", enabled: true }, c)).rejects.toThrow("Connection n: One of access_keys or role_arn is required");
  });

  test("postgres-rds without a password: an RDS IAM token for host, port and user", async () => {
    const item = { conn_id: "rds", type: "postgres-rds", enabled: true, host: "db.example.internal", port: 5432, user: "lava_app", database: "d" };
    const conn = await resolveSqlConnection(item, ctx());
    expect(conn.iamToken).toBe(true);
    expect(conn.user).toBe("lava_app");
    expect(conn.password).toStartWith("db.example.internal:5432/?Action=connect&DBUser=lava_app&");
    expect(conn.password).toContain("X-Amz-Credential=");
    expect(scrubSecrets(conn.password)).toBe("********");
  });

  test("redshift without a password: GetClusterCredentials on the host's cluster", async () => {
    const rs = new RedshiftClient(sdkConfig(emu.endpoints.moto));
    await rs.send(
      new CreateClusterCommand({ ClusterIdentifier: "lavacluster", NodeType: "dc2.large", MasterUsername: "admin", MasterUserPassword: "Passw0rd1", DBName: "dev" }),
    );
    rs.destroy();
    const item = { conn_id: "rs", type: "redshift", enabled: true, host: "lavacluster.abc.us-east-1.redshift.amazonaws.com", port: 5439, user: "etl", database: "dev" };
    const conn = await resolveSqlConnection(item, ctx());
    expect(conn.user).toContain("etl");
    expect(conn.password.length).toBeGreaterThan(8);
    expect(scrubSecrets(conn.password)).toBe("********");
    const missing = { ...item, conn_id: "rs2", host: "nosuchcluster.abc" };
    await expect(resolveSqlConnection(missing, ctx())).rejects.toThrow("Connection rs2: Cannot get IAM credentials: ");
  });

  test("mysql-rds with an IAM token but no ssl: refused before anything is sent", async () => {
    const item = { conn_id: "myrds", type: "mysql-rds", enabled: true, host: "127.0.0.1", port: 3306, user: "lava_app", database: "d" };
    await expect(connectSql(item, ctx())).rejects.toThrow("Connection myrds: SSL is required with IAM database authentication");
  });

  test("redshift-serverless: AssumeRole (moto) then GetCredentials as that role on the host's workgroup", async () => {
    const seen: { target: string | null; auth: string; body: Record<string, unknown> }[] = [];
    const stub = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        seen.push({ target: req.headers.get("x-amz-target"), auth: req.headers.get("authorization") ?? "", body: (await req.json()) as Record<string, unknown> });
        return Response.json({ dbUser: "IAMR:lava-test", dbPassword: "serverless-password-77", expiration: 1_900_000_000 }, { headers: { "content-type": "application/x-amz-json-1.1" } });
      },
    });
    const sports = trackSecrets(await openAwsPorts({ env: { ...emu.env, AWS_ENDPOINT_URL_REDSHIFT_SERVERLESS: `http://127.0.0.1:${stub.port}` } }));
    try {
      const item = {
        conn_id: "rss",
        type: "redshift-serverless",
        enabled: true,
        host: "lavawg.123456789012.us-east-1.redshift-serverless.amazonaws.com",
        port: 5439,
        database: "dev",
        role_arn: "arn:aws:iam::123456789012:role/lava-rs",
        password_duration: "20m",
      };
      const conn = await resolveSqlConnection(item, { ports: sports, realm: "test", config: new LavaConfig({}, {}), jobId: "j/1" });
      expect([conn.user, conn.password]).toEqual(["IAMR:lava-test", "serverless-password-77"]);
      expect(scrubSecrets("serverless-password-77")).toBe("********");
      expect(seen).toHaveLength(1);
      expect(seen[0]!.target).toBe("RedshiftServerless.GetCredentials");
      expect(seen[0]!.body).toEqual({ dbName: "dev", workgroupName: "lavawg", durationSeconds: 1200 });
      // Signed with the assumed role's keys (moto's), not the worker's ("test").
      expect(seen[0]!.auth).toContain("Credential=");
      expect(seen[0]!.auth).not.toContain("Credential=test/");
    } finally {
      await sports.close();
      stub.stop(true);
    }
  });
});
