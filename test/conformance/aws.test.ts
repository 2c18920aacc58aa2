/**
 * The port conformance suite against the `aws` adapter on emulators: dynalite (DynamoDB), fauxqs
 * (SQS, SNS, S3) and moto (SSM, Secrets Manager, KMS, CloudWatch, EventBridge, SES).
 */
import { openAwsPorts } from "../../src/adapters/aws/index.ts";
import { needs } from "../support/availability.ts";
import { emulatorsPresent, sdkConfig, startAwsEmulators } from "../support/emulators.ts";
import { describePortConformance } from "./ports.suite.ts";

const present =
  needs("dynalite", emulatorsPresent.dynalite(), "npm install") &&
  needs("fauxqs", emulatorsPresent.fauxqs(), "npm install") &&
  needs("moto_server", emulatorsPresent.moto(), "pip install 'moto[server]'");

if (present) {
  describePortConformance("aws (emulators)", async () => {
    const emulators = await startAwsEmulators({ moto: true });
    console.log(`emulator startup (ms, in parallel): ${JSON.stringify(emulators.startupMs)}`);
    const ports = await openAwsPorts({ env: emulators.env });

    const moto = sdkConfig(emulators.endpoints.moto);
    const [{ SSMClient, PutParameterCommand }, { SecretsManagerClient, CreateSecretCommand }] = await Promise.all([
      import("@aws-sdk/client-ssm"),
      import("@aws-sdk/client-secrets-manager"),
    ]);
    const ssm = new SSMClient(moto);
    const secrets = new SecretsManagerClient(moto);

    const { KMSClient, CreateKeyCommand } = await import("@aws-sdk/client-kms");
    const kms = new KMSClient(moto);
    const key = await kms.send(new CreateKeyCommand({ Description: "lava conformance" }));
    kms.destroy();

    const { SESClient, VerifyEmailIdentityCommand } = await import("@aws-sdk/client-ses");
    const ses = new SESClient(moto);
    await ses.send(new VerifyEmailIdentityCommand({ EmailAddress: "lava@example.com" }));
    ses.destroy();

    const { SNSClient, CreateTopicCommand } = await import("@aws-sdk/client-sns");
    const sns = new SNSClient(sdkConfig(emulators.endpoints.fauxqs));
    const topic = await sns.send(new CreateTopicCommand({ Name: "lava-conformance" }));
    sns.destroy();

    return {
      ports,
      async cleanup() {
        ssm.destroy();
        secrets.destroy();
        await ports.close();
        await emulators.stop();
      },
      seed: {
        async parameter(name, value, opts) {
          await ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: opts?.secure ? "SecureString" : "String" }));
        },
        async secret(id, value) {
          await secrets.send(new CreateSecretCommand({ Name: id, SecretString: value }));
        },
      },
      topicArn: topic.TopicArn,
      kmsKeyId: key.KeyMetadata?.KeyId,
      emailFrom: "lava@example.com",
    };
  });
}
