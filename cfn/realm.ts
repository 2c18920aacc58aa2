/**
 * `lava-<realm>`: everything a realm needs that does not depend on a worker: tables, bucket, KMS keys,
 * topics, IAM policies and groups, and (when `lambdaVersion` is set) the four realm lambdas.
 */
import {
  type Json,
  type Parameter,
  type Resource,
  type Template,
  assumeRolePolicy,
  equals,
  getAtt,
  not,
  parameterGroups,
  ref,
  sub,
  tags,
  versionParameter,
  yesNo,
} from "./lib.ts";
import { realmPolicies } from "./realm-iam.ts";

/** Realm names feed `lava-<realm>-<worker>` names that the lambdas split on `-`, so no hyphens. */
export const REALM_PATTERN = "[a-z][a-z0-9_]{2,10}";

function capacity(description: string, dflt: number): Parameter {
  return { Type: "Number", Description: description, Default: dflt, MinValue: 1, ConstraintDescription: "Must be >= 1." };
}

function required(description: string): Parameter {
  return { Type: "String", Description: description, MinLength: 1, ConstraintDescription: "Must be specified." };
}

function parameters(version: string): Record<string, Parameter> {
  return {
    Version: versionParameter(version),
    realm: {
      Type: "String",
      Description: "Realm name: 3 to 11 characters, lower case letters, digits and underscores, starting with a letter.",
      AllowedPattern: REALM_PATTERN,
      ConstraintDescription: "Must match " + REALM_PATTERN + " (no hyphens).",
    },
    createRealmsTable: yesNo("Create the account-wide lava.realms table in this stack? Safer to create it separately.", "No"),
    kmsKeyAdmin: required("IAM user name of the administrator of the realm's KMS keys."),
    lavaBucketName: required("Name of the realm bucket (created by this stack) holding job payloads and outputs."),
    logBucketName: required("Name of an existing bucket receiving the realm bucket's access logs."),
    tmpExpiryDays: {
      Type: "Number",
      Description: "Objects under tmp/ in the realm bucket expire after this many days.",
      Default: 3,
      MinValue: 1,
      ConstraintDescription: "Must be >= 1.",
    },
    readCapacityDataTables: capacity("Read capacity of the jobs, connections and s3triggers tables.", 5),
    writeCapacityDataTables: capacity("Write capacity of the jobs, connections and s3triggers tables.", 1),
    readCapacityEventTable: capacity("Read capacity of the events table.", 5),
    writeCapacityEventTable: capacity("Write capacity of the events table.", 5),
    readCapacityStateTable: capacity("Read capacity of the state table.", 3),
    writeCapacityStateTable: capacity("Write capacity of the state table.", 3),
    s3CodeBucket: required("Bucket holding the lava code (bundles, boot scripts, lambda zips)."),
    s3CodePrefix: required("Prefix of the lava code in s3CodeBucket (no trailing /)."),
    lambdaVersion: {
      Type: "String",
      Description: "Version of the lambda zips to deploy (e.g. 8.2.0), read from <s3CodePrefix>/_dist_/lambda/. Empty: no lambdas.",
      Default: "",
    },
    lambdaArchitecture: {
      Type: "String",
      Description: "CPU architecture of the lambdas.",
      Default: "arm64",
      AllowedValues: ["arm64", "x86_64"],
    },
    lambdaRuntime: {
      Type: "String",
      Description: "Node.js runtime of the lambdas.",
      Default: "nodejs22.x",
      AllowedValues: ["nodejs22.x", "nodejs24.x"],
    },
    lambdaTimeout: {
      Type: "Number",
      Description: "Timeout of the lambdas (seconds). Ignored when the lambdas are not deployed.",
      Default: 60,
      MinValue: 15,
      MaxValue: 900,
      ConstraintDescription: "Must be between 15 and 900.",
    },
    lambdaMemory: {
      Type: "Number",
      Description: "Memory of the lambdas (MB).",
      Default: 256,
      MinValue: 128,
      MaxValue: 10240,
      ConstraintDescription: "Must be between 128 and 10240.",
    },
    workerStopMinutes: {
      Type: "Number",
      Description:
        "Minutes a terminating worker instance gets to finish its running jobs before it is stopped (choose it with the queue visibility timeout).",
      Default: 5,
      MinValue: 0,
      MaxValue: 720,
      ConstraintDescription: "Must be between 0 and 720 (12 hours).",
    },
    autoscalingHeartbeatMinutes: {
      Type: "Number",
      Description: "While a terminating worker finishes its jobs, tell the auto scaler it is still busy this often (minutes).",
      Default: 5,
      MinValue: 1,
      MaxValue: 30,
      ConstraintDescription: "Must be between 1 and 30.",
    },
    lambdaMetricsSchedule: {
      Type: "String",
      Description: "ENABLED: run the metrics lambda every minute to publish WorkerBacklog for auto scaling.",
      Default: "ENABLED",
      AllowedValues: ["ENABLED", "DISABLED"],
    },
    lavaGroupTag: {
      Type: "String",
      Description: "Value of the lava:group tag on the realm's resources (e.g. prod).",
      MinLength: 2,
      MaxLength: 40,
    },
  };
}

const realmTags = (extra: Record<string, Json> = {}): Json =>
  tags({ "lava:realm": ref("realm"), "lava:group": ref("lavaGroupTag"), ...extra });

interface TableOptions {
  name: Json;
  hash: string;
  range?: string;
  /** Extra attribute definitions used by indexes. */
  attributes?: string[];
  read: string;
  write: string;
  gsi?: { name: string; hash: string; range: string; include?: string[] };
  lsi?: { name: string; range: string };
  ttl?: boolean;
  pitr: boolean;
  tags: Json;
  condition?: string;
}

function table(o: TableOptions): Resource {
  const throughput = { ReadCapacityUnits: ref(o.read), WriteCapacityUnits: ref(o.write) };
  const keys = [o.hash, ...(o.range ? [o.range] : []), ...(o.attributes ?? [])];
  const props: Record<string, Json> = {
    TableName: o.name,
    AttributeDefinitions: keys.map((AttributeName) => ({ AttributeName, AttributeType: "S" })),
    KeySchema: [
      { AttributeName: o.hash, KeyType: "HASH" },
      ...(o.range ? [{ AttributeName: o.range, KeyType: "RANGE" }] : []),
    ],
    ProvisionedThroughput: throughput,
    Tags: o.tags,
  };
  if (o.gsi) {
    props.GlobalSecondaryIndexes = [
      {
        IndexName: o.gsi.name,
        KeySchema: [
          { AttributeName: o.gsi.hash, KeyType: "HASH" },
          { AttributeName: o.gsi.range, KeyType: "RANGE" },
        ],
        Projection: o.gsi.include
          ? { ProjectionType: "INCLUDE", NonKeyAttributes: o.gsi.include }
          : { ProjectionType: "ALL" },
        ProvisionedThroughput: throughput,
      },
    ];
  }
  if (o.lsi) {
    props.LocalSecondaryIndexes = [
      {
        IndexName: o.lsi.name,
        KeySchema: [
          { AttributeName: o.hash, KeyType: "HASH" },
          { AttributeName: o.lsi.range, KeyType: "RANGE" },
        ],
        Projection: { ProjectionType: "ALL" },
      },
    ];
  }
  if (o.ttl) props.TimeToLiveSpecification = { AttributeName: "ttl", Enabled: true };
  if (o.pitr) props.PointInTimeRecoverySpecification = { PointInTimeRecoveryEnabled: true };
  return {
    Type: "AWS::DynamoDB::Table",
    ...(o.condition ? { Condition: o.condition } : {}),
    DeletionPolicy: "Retain",
    UpdateReplacePolicy: "Retain",
    Properties: props,
  };
}

function tables(): Record<string, Resource> {
  const data = { read: "readCapacityDataTables", write: "writeCapacityDataTables" };
  return {
    dynTableRealm: table({
      name: "lava.realms",
      hash: "realm",
      ...data,
      pitr: true,
      tags: tags({ "lava:group": "*" }),
      condition: "ifCreateRealmsTable",
    }),
    dynTableJobs: table({
      name: sub("lava.${realm}.jobs"),
      hash: "job_id",
      attributes: ["dispatcher"],
      ...data,
      // Sparse index for the crontab builder: only jobs with a dispatcher appear.
      gsi: { name: "dispatcher-index", hash: "dispatcher", range: "job_id", include: ["worker", "schedule"] },
      pitr: true,
      tags: realmTags(),
    }),
    dynTableConnections: table({ name: sub("lava.${realm}.connections"), hash: "conn_id", ...data, pitr: true, tags: realmTags() }),
    dynTableEvents: table({
      name: sub("lava.${realm}.events"),
      hash: "job_id",
      range: "run_id",
      attributes: ["tu_event"],
      read: "readCapacityEventTable",
      write: "writeCapacityEventTable",
      lsi: { name: "job_id-tu_event-index", range: "tu_event" },
      ttl: true,
      // Events are an expiring log, not data worth restoring.
      pitr: false,
      tags: realmTags(),
    }),
    dynTableState: table({
      name: sub("lava.${realm}.state"),
      hash: "state_id",
      read: "readCapacityStateTable",
      write: "writeCapacityStateTable",
      ttl: true,
      pitr: true,
      tags: realmTags(),
    }),
    dynTableS3Triggers: table({
      name: sub("lava.${realm}.s3triggers"),
      hash: "trigger_id",
      attributes: ["bucket", "prefix"],
      ...data,
      gsi: { name: "s3trigger-index", hash: "bucket", range: "prefix" },
      pitr: true,
      tags: realmTags(),
      condition: "ifCreateLambdas",
    }),
  };
}

function kmsKey(purpose: string): Resource {
  return {
    Type: "AWS::KMS::Key",
    Properties: {
      Description: sub(`${purpose} key of lava realm \${realm}`),
      Enabled: true,
      EnableKeyRotation: true,
      KeyPolicy: {
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "AccountIamPolicies",
            Effect: "Allow",
            Principal: { AWS: sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root") },
            Action: "kms:*",
            Resource: "*",
          },
          {
            Sid: "KeyAdministrator",
            Effect: "Allow",
            Principal: { AWS: sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:user/${kmsKeyAdmin}") },
            Action: [
              "kms:CancelKeyDeletion",
              "kms:Create*",
              "kms:Delete*",
              "kms:Describe*",
              "kms:Disable*",
              "kms:Enable*",
              "kms:Get*",
              "kms:List*",
              "kms:Put*",
              "kms:Revoke*",
              "kms:ScheduleKeyDeletion",
              "kms:TagResource",
              "kms:UntagResource",
              "kms:Update*",
            ],
            Resource: "*",
          },
        ],
      },
    },
  };
}

function storage(): Record<string, Resource> {
  return {
    kmsSysKey: kmsKey("System"),
    kmsSysAlias: {
      Type: "AWS::KMS::Alias",
      Properties: { AliasName: sub("alias/lava-${realm}-sys"), TargetKeyId: ref("kmsSysKey") },
    },
    kmsUserKey: kmsKey("User"),
    kmsUserAlias: {
      Type: "AWS::KMS::Alias",
      Properties: { AliasName: sub("alias/lava-${realm}-user"), TargetKeyId: ref("kmsUserKey") },
    },
    s3LavaBucket: {
      Type: "AWS::S3::Bucket",
      DeletionPolicy: "Retain",
      UpdateReplacePolicy: "Retain",
      Properties: {
        BucketName: ref("lavaBucketName"),
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            { ServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms", KMSMasterKeyID: ref("kmsUserKey") } },
          ],
        },
        LifecycleConfiguration: {
          Rules: [
            { Id: "AbortIncompleteMultipartUpload", Status: "Enabled", AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
            { Id: "ExpireTmp", Status: "Enabled", Prefix: "tmp/", ExpirationInDays: ref("tmpExpiryDays") },
          ],
        },
        LoggingConfiguration: { DestinationBucketName: ref("logBucketName"), LogFilePrefix: sub("${lavaBucketName}/") },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        Tags: realmTags(),
      },
    },
    snsLavaNotices: {
      Type: "AWS::SNS::Topic",
      Properties: {
        TopicName: sub("lava-${realm}-notices"),
        DisplayName: "LavaNotice",
        Tags: realmTags({ "lava:function": "realm.notices" }),
      },
    },
  };
}

function groups(): Record<string, Resource> {
  const group = (name: string, policies: string[]): Resource => ({
    Type: "AWS::IAM::Group",
    Properties: { GroupName: sub(name), Path: "/", ManagedPolicyArns: policies.map(ref) },
  });
  return {
    iamLavaAdminGroup: group("lava-${realm}-admin", ["iamLavaAdminPolicy", "iamLavaAdminPolicy2"]),
    iamLavaReaderGroup: group("lava-${realm}-reader", ["iamLavaReaderPolicy"]),
    iamLavaOperator: group("lava-${realm}-operator", ["iamLavaReaderPolicy", "iamLavaOperatorPolicy"]),
  };
}

function lambdaRole(name: string, policy: string): Resource {
  return {
    Type: "AWS::IAM::Role",
    Condition: "ifCreateLambdas",
    Properties: {
      RoleName: sub(name),
      AssumeRolePolicyDocument: assumeRolePolicy("lambda.amazonaws.com"),
      ManagedPolicyArns: [ref(policy)],
      Tags: realmTags(),
    },
  };
}

/** The lambda zips are built by `bun src/lambdas/build.ts`; each exports `handler` from `<name>.js`. */
function lambdaFunction(name: string, description: string, role: string, fn: string, env: Record<string, Json> = {}): Resource {
  return {
    Type: "AWS::Lambda::Function",
    Condition: "ifCreateLambdas",
    Properties: {
      FunctionName: sub(`lava-\${realm}-${name}`),
      Description: sub(`${description} of lava realm \${realm}`),
      Code: { S3Bucket: ref("s3CodeBucket"), S3Key: sub(`\${s3CodePrefix}/_dist_/lambda/${name}-\${lambdaVersion}.zip`) },
      Handler: `${name}.handler`,
      Runtime: ref("lambdaRuntime"),
      Architectures: [ref("lambdaArchitecture")],
      MemorySize: ref("lambdaMemory"),
      Timeout: ref("lambdaTimeout"),
      Role: getAtt(role, "Arn"),
      Environment: { Variables: { LOGLEVEL: "info", LAVA_REALM: ref("realm"), ...env } },
      Tags: realmTags({ "lava:function": fn }),
    },
  };
}

function lambdas(): Record<string, Resource> {
  const when = { Condition: "ifCreateLambdas" } as const;
  return {
    iamLavaDispatchLambdaRole: lambdaRole("lava-${realm}-dispatch-lambda", "iamLavaDispatchLambdaPolicy"),
    iamLavaStopLambdaRole: lambdaRole("lava-${realm}-stop-lambda", "iamLavaStopLambdaPolicy"),
    iamLavaMetricsLambdaRole: lambdaRole("lava-${realm}-metrics-lambda", "iamLavaMetricsLambdaPolicy"),
    snsDispatchHelper: {
      Type: "AWS::SNS::Topic",
      ...when,
      Properties: {
        TopicName: sub("lava-${realm}-dispatch"),
        DisplayName: "LavaDsptch",
        KmsMasterKeyId: ref("kmsUserAlias"),
        Tags: realmTags({ "lava:function": "realm.dispatch-helper" }),
      },
    },
    lambdaDispatch: lambdaFunction("dispatch", "Dispatch helper", "iamLavaDispatchLambdaRole", "realm.dispatch-helper"),
    // The s3trigger lambda shares the dispatch role: it needs exactly the same grants.
    lambdaS3Trigger: lambdaFunction("s3trigger", "S3 event dispatcher", "iamLavaDispatchLambdaRole", "realm.s3trigger"),
    lambdaLavaStop: lambdaFunction("stop", "Worker instance stopper", "iamLavaStopLambdaRole", "realm.worker-stop", {
      WAIT_TIME: sub("${workerStopMinutes}m"),
      LIFECYCLE_HEARTBEAT: sub("${autoscalingHeartbeatMinutes}m"),
    }),
    lambdaLavaMetrics: lambdaFunction("metrics", "WorkerBacklog metric publisher", "iamLavaMetricsLambdaRole", "realm.metrics"),
    snsSubscribeDispatch: {
      Type: "AWS::SNS::Subscription",
      ...when,
      Properties: { TopicArn: ref("snsDispatchHelper"), Protocol: "lambda", Endpoint: getAtt("lambdaDispatch", "Arn") },
    },
    lambdaDispatchPermission: {
      Type: "AWS::Lambda::Permission",
      ...when,
      Properties: {
        Action: "lambda:InvokeFunction",
        Principal: "sns.amazonaws.com",
        FunctionName: getAtt("lambdaDispatch", "Arn"),
        SourceArn: ref("snsDispatchHelper"),
      },
    },
    eventsScheduleMetricsLambda: {
      Type: "AWS::Events::Rule",
      ...when,
      Properties: {
        Name: sub("lava-${realm}---metrics-schedule"),
        Description: sub("Runs lava-${realm}-metrics every minute"),
        EventBusName: "default",
        ScheduleExpression: "rate(1 minute)",
        State: ref("lambdaMetricsSchedule"),
        Targets: [{ Id: sub("lava-${realm}---metrics-lambda"), Arn: getAtt("lambdaLavaMetrics", "Arn") }],
      },
    },
    lambdaLavaMetricsPermission: {
      Type: "AWS::Lambda::Permission",
      ...when,
      Properties: {
        Action: "lambda:InvokeFunction",
        Principal: "events.amazonaws.com",
        FunctionName: getAtt("lambdaLavaMetrics", "Arn"),
        SourceArn: getAtt("eventsScheduleMetricsLambda", "Arn"),
      },
    },
    // Any EventBridge rule named lava.<realm>.* may feed S3 events to the s3trigger lambda.
    lambdaS3TriggerPermission: {
      Type: "AWS::Lambda::Permission",
      ...when,
      Properties: {
        Action: "lambda:InvokeFunction",
        Principal: "events.amazonaws.com",
        FunctionName: getAtt("lambdaS3Trigger", "Arn"),
        SourceAccount: ref("AWS::AccountId"),
        SourceArn: sub("arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/lava.${realm}.*"),
      },
    },
  };
}

function outputs(): Template["Outputs"] {
  const out = (Description: string, Value: Json, name: string, Condition?: string) => ({
    Description,
    Value,
    Export: { Name: sub(`lava:\${realm}:${name}`) },
    ...(Condition ? { Condition } : {}),
  });
  return {
    Version: out("Lava version of the realm stack.", ref("Version"), "version"),
    s3LavaBucket: out("Realm bucket for payloads and job outputs.", ref("s3LavaBucket"), "s3LavaBucketName"),
    s3CodeBucket: out("Bucket holding the lava code.", ref("s3CodeBucket"), "s3CodeBucket"),
    s3CodePrefix: out("Prefix of the lava code in the code bucket.", ref("s3CodePrefix"), "s3CodePrefix"),
    iamLavaWorkerPolicy: out("ARN of the realm's worker policy.", ref("iamLavaWorkerPolicy"), "iamLavaWorkerPolicyArn"),
    kmsUserKeyAlias: out("Alias of the realm's user KMS key.", ref("kmsUserAlias"), "kmsUserKeyAlias"),
    lambdaLavaStop: out("ARN of the worker stop lambda.", getAtt("lambdaLavaStop", "Arn"), "lambdaLavaStop", "ifCreateLambdas"),
    lavaGroupTag: out("Value of the lava:group tag.", ref("lavaGroupTag"), "lavaGroupTag"),
  };
}

export function realmTemplate(version: string): Template {
  return {
    AWSTemplateFormatVersion: "2010-09-09",
    Description: `Lava ${version}: realm components (tables, bucket, keys, topics, IAM, lambdas).`,
    Metadata: {
      "AWS::CloudFormation::Interface": parameterGroups([
        { label: "Realm", parameters: ["Version", "realm", "lavaGroupTag", "kmsKeyAdmin", "createRealmsTable"] },
        { label: "Storage", parameters: ["lavaBucketName", "logBucketName", "tmpExpiryDays", "s3CodeBucket", "s3CodePrefix"] },
        {
          label: "Table capacity",
          parameters: [
            "readCapacityDataTables",
            "writeCapacityDataTables",
            "readCapacityEventTable",
            "writeCapacityEventTable",
            "readCapacityStateTable",
            "writeCapacityStateTable",
          ],
        },
        {
          label: "Lambdas",
          parameters: [
            "lambdaVersion",
            "lambdaArchitecture",
            "lambdaRuntime",
            "lambdaTimeout",
            "lambdaMemory",
            "lambdaMetricsSchedule",
            "workerStopMinutes",
            "autoscalingHeartbeatMinutes",
          ],
        },
      ]),
      LavaDoc: {
        summary: [
          "Creates a lava realm: its DynamoDB tables, the realm bucket, two KMS keys (`alias/lava-<realm>-sys`,",
          "`alias/lava-<realm>-user`), the notices topic, the IAM policies and groups (admin, reader, operator)",
          "and the worker policy. When `lambdaVersion` is set it also deploys the dispatch, s3trigger, stop and",
          "metrics lambdas, the dispatch-helper topic and the metrics schedule. It does not add the realm's",
          "entry to the `lava.realms` table and creates no worker.",
        ],
      },
    },
    Parameters: parameters(version),
    Conditions: {
      ifCreateRealmsTable: equals(ref("createRealmsTable"), "Yes"),
      ifCreateLambdas: not(equals(ref("lambdaVersion"), "")),
    },
    Resources: { ...tables(), ...storage(), ...realmPolicies(), ...groups(), ...lambdas() },
    Outputs: outputs(),
  };
}
