/**
 * IAM policies of the realm stack. Every grant is scoped to the realm: tables `lava.<realm>.*`, queues
 * `lava-<realm>-*`, parameters and secrets under `/lava/<realm>/`, the realm bucket and KMS keys.
 */
import {
  type Json,
  type PolicyStatement,
  type Resource,
  arn,
  getAtt,
  ifc,
  policyDocument,
  ref,
  sub,
} from "./lib.ts";

const tableArn = (table: string) => arn("dynamodb", `table/${table}`);

/** The realm's tables and their indexes (GSI/LSI ARNs hang below the table ARN). */
const REALM_TABLES: Json[] = [
  tableArn("lava.realms"),
  tableArn("lava.${realm}.*"),
  tableArn("lava.${realm}.jobs/index/*"),
  tableArn("lava.${realm}.events/index/*"),
];
const REALM_QUEUES = arn("sqs", "lava-${realm}-*");
const REALM_PARAMS = arn("ssm", "parameter/lava/${realm}/*");
const REALM_SECRETS = arn("secretsmanager", "secret:/lava/${realm}/*");
const LAVA_BUCKET = getAtt("s3LavaBucket", "Arn");
const LAVA_OBJECTS = sub("arn:${AWS::Partition}:s3:::${s3LavaBucket}/*");
const WORKER_LOG_GROUP: Json[] = [
  arn("logs", "log-group:/var/log/lava/${realm}"),
  arn("logs", "log-group:/var/log/lava/${realm}:*"),
];
const LAVA_REPOS: Json[] = [arn("ecr", "repository/dist/lava/*"), arn("ecr", "repository/lava/${realm}/*")];
const ECR_READ = [
  "ecr:BatchCheckLayerAvailability",
  "ecr:BatchGetImage",
  "ecr:DescribeImages",
  "ecr:GetDownloadUrlForLayer",
  "ecr:GetLifecyclePolicy",
  "ecr:GetLifecyclePolicyPreview",
  "ecr:GetRepositoryPolicy",
  "ecr:ListImages",
  "ecr:ListTagsForResource",
];
const LAMBDA_LOGGING: PolicyStatement = {
  Sid: "LogToCloudWatch",
  Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
  Resource: "*",
};

function managedPolicy(name: string, description: string, statements: (PolicyStatement | Json)[], condition?: string): Resource {
  return {
    Type: "AWS::IAM::ManagedPolicy",
    ...(condition ? { Condition: condition } : {}),
    Properties: {
      ManagedPolicyName: sub(name),
      Description: sub(description),
      PolicyDocument: policyDocument(statements),
    },
  };
}

function adminPolicy(): Resource {
  return managedPolicy("lava-${realm}-admin", "Administration of lava realm ${realm}", [
    { Sid: "ListAllBuckets", Action: "s3:ListAllMyBuckets", Resource: "*" },
    {
      Sid: "GetLavaBucketInfo",
      Action: [
        "s3:ListBucket",
        "s3:GetBucket*",
        "s3:GetEncryptionConfiguration",
        "s3:GetInventoryConfiguration",
        "s3:GetLifecycleConfiguration",
        "s3:GetMetricsConfiguration",
      ],
      Resource: [LAVA_BUCKET],
    },
    {
      Sid: "ReadWriteLavaBucket",
      Action: ["s3:GetObject*", "s3:PutObject", "s3:DeleteObject", "s3:ListMultipartUploadParts"],
      Resource: [LAVA_OBJECTS],
    },
    { Sid: "ListSqsQueues", Action: "sqs:ListQueues", Resource: "*" },
    {
      Sid: "AccessSqsQueues",
      Action: [
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
        "sqs:ListQueueTags",
        "sqs:ReceiveMessage",
        "sqs:SendMessage",
      ],
      Resource: REALM_QUEUES,
    },
    { Sid: "DescribeSsmParams", Action: "ssm:DescribeParameters", Resource: "*" },
    {
      Sid: "ManageSsmParams",
      Action: ["ssm:GetParameter", "ssm:GetParameters", "ssm:PutParameter", "ssm:DeleteParameter", "ssm:DeleteParameters"],
      Resource: REALM_PARAMS,
    },
    { Sid: "ListSecrets", Action: ["secretsmanager:ListSecrets", "secretsmanager:GetRandomPassword"], Resource: "*" },
    {
      Sid: "ManageSecrets",
      Action: [
        "secretsmanager:CancelRotateSecret",
        "secretsmanager:CreateSecret",
        "secretsmanager:DeleteResourcePolicy",
        "secretsmanager:DeleteSecret",
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetResourcePolicy",
        "secretsmanager:GetSecretValue",
        "secretsmanager:ListSecretVersionIds",
        "secretsmanager:PutResourcePolicy",
        "secretsmanager:PutSecretValue",
        "secretsmanager:RestoreSecret",
        "secretsmanager:RotateSecret",
        "secretsmanager:TagResource",
        "secretsmanager:UntagResource",
        "secretsmanager:UpdateSecret",
        "secretsmanager:UpdateSecretVersionStage",
        "secretsmanager:ValidateResourcePolicy",
      ],
      Resource: REALM_SECRETS,
    },
    { Sid: "ListAllDynamoTables", Action: ["dynamodb:ListTables", "dynamodb:ListBackups"], Resource: "*" },
    {
      Sid: "ReadLavaTables",
      Action: [
        "dynamodb:BatchGetItem",
        "dynamodb:DescribeContinuousBackups",
        "dynamodb:DescribeTable",
        "dynamodb:DescribeTimeToLive",
        "dynamodb:GetItem",
        "dynamodb:ListTagsOfResource",
        "dynamodb:Query",
        "dynamodb:Scan",
      ],
      Resource: REALM_TABLES,
    },
    {
      Sid: "WriteLavaTables",
      Action: [
        "dynamodb:BatchWriteItem",
        "dynamodb:DeleteItem",
        "dynamodb:PartiQLDelete",
        "dynamodb:PartiQLInsert",
        "dynamodb:PartiQLUpdate",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
      ],
      Resource: tableArn("lava.${realm}.*"),
    },
    { Sid: "ListKmsKeys", Action: ["kms:ListKeys", "kms:ListAliases"], Resource: "*" },
    {
      Sid: "UseKmsKeys",
      Action: ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
      Resource: [getAtt("kmsSysKey", "Arn"), getAtt("kmsUserKey", "Arn")],
    },
    {
      Sid: "KmsGrantsForAwsResources",
      Action: ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
      Resource: [getAtt("kmsSysKey", "Arn"), getAtt("kmsUserKey", "Arn")],
      Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
    },
    { Sid: "ListSnsTopics", Action: "sns:ListTopics", Resource: "*" },
    ifc("ifCreateLambdas", {
      Sid: "PublishToDispatchHelper",
      Effect: "Allow",
      Action: ["sns:Publish", "sns:GetTopicAttributes"],
      Resource: ref("snsDispatchHelper"),
    }),
    { Sid: "GetEcrAuthToken", Action: "ecr:GetAuthorizationToken", Resource: "*" },
    { Sid: "DescribeEcrRepos", Action: ["ecr:DescribeRegistry", "ecr:DescribeRepositories"], Resource: "*" },
    { Sid: "ReadEcrLavaRepos", Action: ECR_READ, Resource: LAVA_REPOS },
    {
      Sid: "WriteEcrRealmRepos",
      Action: [
        "ecr:BatchDeleteImage",
        "ecr:CompleteLayerUpload",
        "ecr:CreateRepository",
        "ecr:DeleteLifecyclePolicy",
        "ecr:DeleteRepository",
        "ecr:InitiateLayerUpload",
        "ecr:PutImage",
        "ecr:PutImageScanningConfiguration",
        "ecr:PutImageTagMutability",
        "ecr:PutLifecyclePolicy",
        "ecr:StartImageScan",
        "ecr:StartLifecyclePolicyPreview",
        "ecr:TagResource",
        "ecr:UntagResource",
        "ecr:UploadLayerPart",
      ],
      Resource: arn("ecr", "repository/lava/${realm}/*"),
    },
    { Sid: "ListEvents", Action: ["events:List*", "events:TestEventPattern"], Resource: "*" },
    {
      Sid: "ManageRealmRules",
      Action: [
        "events:DeleteRule",
        "events:DescribeRule",
        "events:DisableRule",
        "events:EnableRule",
        "events:PutEvents",
        "events:PutRule",
        "events:PutTargets",
        "events:RemoveTargets",
        "events:TagResource",
        "events:UntagResource",
      ],
      Resource: arn("events", "rule/lava.${realm}.*"),
    },
    {
      Sid: "AccessLogGroups",
      Action: ["logs:DescribeLogGroups", "logs:GetLogRecord", "logs:GetQueryResults", "logs:StopQuery"],
      Resource: "*",
    },
  ]);
}

/** Split from the admin policy because a managed policy is limited to 6144 characters. */
function adminPolicy2(): Resource {
  return managedPolicy("lava-${realm}-admin2", "Administration of lava realm ${realm} (part 2)", [readWorkerLogs()]);
}

function readWorkerLogs(): PolicyStatement {
  return {
    Sid: "ReadLavaWorkerLogs",
    Action: [
      "logs:DescribeLogStreams",
      "logs:FilterLogEvents",
      "logs:GetLogEvents",
      "logs:GetLogGroupFields",
      "logs:StartQuery",
    ],
    Resource: WORKER_LOG_GROUP,
  };
}

function readerPolicy(): Resource {
  return managedPolicy("lava-${realm}-reader", "Read access to lava realm ${realm}", [
    { Sid: "GetLavaBucketInfo", Action: ["s3:ListBucket"], Resource: [LAVA_BUCKET] },
    { Sid: "ReadLavaBucket", Action: ["s3:GetObject*"], Resource: [LAVA_OBJECTS] },
    { Sid: "ListAllDynamoTables", Action: ["dynamodb:ListTables"], Resource: "*" },
    {
      Sid: "ReadLavaTables",
      Action: [
        "dynamodb:BatchGetItem",
        "dynamodb:DescribeContinuousBackups",
        "dynamodb:DescribeTable",
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:Scan",
      ],
      Resource: REALM_TABLES,
    },
    { Sid: "ListKmsKeys", Action: ["kms:ListKeys", "kms:ListAliases"], Resource: "*" },
    { Sid: "UseKmsUserKey", Action: ["kms:Decrypt", "kms:DescribeKey"], Resource: [getAtt("kmsUserKey", "Arn")] },
    { Sid: "GetEcrAuthToken", Action: "ecr:GetAuthorizationToken", Resource: "*" },
    { Sid: "DescribeEcrRepos", Action: ["ecr:DescribeRegistry", "ecr:DescribeRepositories"], Resource: "*" },
    { Sid: "ReadEcrLavaRepos", Action: ECR_READ, Resource: LAVA_REPOS },
    { Sid: "ListEvents", Action: ["events:List*", "events:TestEventPattern"], Resource: "*" },
    { Sid: "ReadRealmRules", Action: "events:DescribeRule", Resource: arn("events", "rule/lava.${realm}.*") },
  ]);
}

/** Operator = reader + this: dispatch through the helper topic, read worker logs and queue state. */
function operatorPolicy(): Resource {
  return managedPolicy("lava-${realm}-operator", "Operator additions for lava realm ${realm} (use with the reader policy)", [
    ifc("ifCreateLambdas", {
      Sid: "PublishToDispatchHelper",
      Effect: "Allow",
      Action: ["sns:Publish", "sns:GetTopicAttributes"],
      Resource: ref("snsDispatchHelper"),
    }),
    {
      Sid: "AccessLogGroups",
      Action: ["logs:DescribeLogGroups", "logs:GetLogRecord", "logs:GetQueryResults", "logs:StopQuery"],
      Resource: "*",
    },
    readWorkerLogs(),
    { Sid: "ListSqsQueues", Action: ["sqs:ListQueues"], Resource: "*" },
    {
      Sid: "ReadSqsQueues",
      Action: ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags"],
      Resource: REALM_QUEUES,
    },
  ]);
}

/**
 * What a worker needs. Differs from the original in one grant: `sqs:ChangeMessageVisibility`, because our
 * worker extends the visibility of a message while its job runs (so long jobs are not delivered twice).
 */
function workerPolicy(): Resource {
  return managedPolicy("lava-${realm}-worker", "Lava workers of realm ${realm}", [
    { Sid: "ListAllBuckets", Action: "s3:ListAllMyBuckets", Resource: "*" },
    { Sid: "GetLavaBucketInfo", Action: ["s3:ListBucket"], Resource: [LAVA_BUCKET] },
    { Sid: "ReadLavaBucket", Action: ["s3:GetObject*"], Resource: [LAVA_OBJECTS] },
    // Workers write job outputs only: payloads stay read-only to them.
    { Sid: "WriteLavaBucketTmp", Action: "s3:PutObject", Resource: sub("arn:${AWS::Partition}:s3:::${s3LavaBucket}/tmp/*") },
    { Sid: "GetCodeBucketInfo", Action: ["s3:ListBucket"], Resource: sub("arn:${AWS::Partition}:s3:::${s3CodeBucket}") },
    { Sid: "ReadCodeBucket", Action: "s3:GetObject*", Resource: sub("arn:${AWS::Partition}:s3:::${s3CodeBucket}/${s3CodePrefix}/*") },
    { Sid: "ListSqsQueues", Action: "sqs:ListQueues", Resource: "*" },
    {
      Sid: "AccessSqsQueues",
      Action: [
        "sqs:ChangeMessageVisibility",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
        "sqs:ReceiveMessage",
        "sqs:SendMessage",
      ],
      Resource: REALM_QUEUES,
    },
    { Sid: "ReadSsmParams", Action: ["ssm:GetParameter", "ssm:GetParameters"], Resource: REALM_PARAMS },
    {
      Sid: "ReadSecrets",
      Action: ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:ListSecretVersionIds"],
      Resource: REALM_SECRETS,
    },
    // BatchGetItem: the worker reads the jobs of several received messages at once (docs/WORKER.md).
    { Sid: "ReadLavaTables", Action: ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"], Resource: REALM_TABLES },
    {
      Sid: "WriteEventsAndState",
      Action: ["dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
      Resource: [tableArn("lava.${realm}.events"), tableArn("lava.${realm}.events/index/*"), tableArn("lava.${realm}.state")],
    },
    { Sid: "PutMetricData", Action: "cloudwatch:PutMetricData", Resource: "*" },
    {
      Sid: "LogToCloudWatch",
      Action: [
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:DescribeLogGroups",
        "logs:DescribeLogStreams",
        "logs:PutLogEvents",
      ],
      Resource: "*",
    },
    { Sid: "IamLimitedRead", Action: ["iam:GetGroup", "iam:ListUsers"], Resource: "*" },
    { Sid: "IamSshPublicKeys", Action: ["iam:GetSSHPublicKey", "iam:ListSSHPublicKeys"], Resource: "*" },
    { Sid: "PublishNotices", Action: "sns:Publish", Resource: [ref("snsLavaNotices"), arn("sns", "mbot")] },
    { Sid: "DescribeEc2", Action: "ec2:Describe*", Resource: "*" },
    { Sid: "SendEmail", Action: ["ses:ListIdentities", "ses:SendEmail", "ses:SendRawEmail"], Resource: "*" },
    { Sid: "UseKmsSysKey", Action: ["kms:Decrypt"], Resource: getAtt("kmsSysKey", "Arn") },
    {
      Sid: "UseKmsUserKey",
      Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"],
      Resource: getAtt("kmsUserKey", "Arn"),
    },
    { Sid: "GetEcrAuthToken", Action: "ecr:GetAuthorizationToken", Resource: "*" },
    { Sid: "ReadEcrLavaRepos", Action: [...ECR_READ, "ecr:DescribeRepositories"], Resource: LAVA_REPOS },
    {
      Sid: "AutoScalingLifecycle",
      Action: ["autoscaling:CompleteLifecycleAction", "autoscaling:RecordLifecycleActionHeartbeat"],
      Resource: arn("autoscaling", "autoScalingGroup:*:autoScalingGroupName/lava-${realm}-*"),
    },
    { Sid: "PutEvents", Action: ["events:PutEvents"], Resource: arn("events", "event-bus/default") },
  ]);
}

function dispatchLambdaPolicy(): Resource {
  return managedPolicy(
    "lava-${realm}-dispatch-lambdas",
    "Dispatch and s3trigger lambdas of lava realm ${realm}",
    [
      { Sid: "ListSqsQueues", Action: "sqs:ListQueues", Resource: "*" },
      {
        Sid: "SendToWorkerQueues",
        Action: ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"],
        Resource: REALM_QUEUES,
      },
      { Sid: "ReadLavaTables", Action: ["dynamodb:GetItem", "dynamodb:Query"], Resource: [tableArn("lava.${realm}.*")] },
      LAMBDA_LOGGING,
      {
        Sid: "UseKmsUserKey",
        Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"],
        Resource: getAtt("kmsUserKey", "Arn"),
      },
    ],
    "ifCreateLambdas",
  );
}

function stopLambdaPolicy(): Resource {
  return managedPolicy(
    "lava-${realm}-stop-lambda",
    "Worker stop lambda of lava realm ${realm}",
    [
      LAMBDA_LOGGING,
      // Only instances tagged with this realm can be told to stop.
      {
        Sid: "SendCommandToRealmInstances",
        Action: ["ssm:SendCommand"],
        Resource: [sub("arn:${AWS::Partition}:ec2:*:*:instance/*")],
        Condition: { StringLike: { "ssm:resourceTag/LavaRealm": [ref("realm")] } },
      },
      {
        Sid: "SendCommandDocument",
        Action: "ssm:SendCommand",
        Resource: [sub("arn:${AWS::Partition}:ssm:${AWS::Region}::document/AWS-RunShellScript")],
      },
      { Sid: "DescribeEc2", Action: "ec2:Describe*", Resource: "*" },
    ],
    "ifCreateLambdas",
  );
}

function metricsLambdaPolicy(): Resource {
  return managedPolicy(
    "lava-${realm}-metricslambda",
    "Metrics lambda of lava realm ${realm}",
    [
      LAMBDA_LOGGING,
      { Sid: "DescribeAutoScalingGroups", Action: "autoscaling:DescribeAutoScalingGroups", Resource: "*" },
      { Sid: "PutMetricData", Action: "cloudwatch:PutMetricData", Resource: "*" },
      { Sid: "ListSqsQueues", Action: "sqs:ListQueues", Resource: "*" },
      { Sid: "ReadWorkerQueues", Action: ["sqs:GetQueueAttributes", "sqs:GetQueueUrl"], Resource: REALM_QUEUES },
    ],
    "ifCreateLambdas",
  );
}

export function realmPolicies(): Record<string, Resource> {
  return {
    iamLavaAdminPolicy: adminPolicy(),
    iamLavaAdminPolicy2: adminPolicy2(),
    iamLavaReaderPolicy: readerPolicy(),
    iamLavaOperatorPolicy: operatorPolicy(),
    iamLavaWorkerPolicy: workerPolicy(),
    iamLavaDispatchLambdaPolicy: dispatchLambdaPolicy(),
    iamLavaStopLambdaPolicy: stopLambdaPolicy(),
    iamLavaMetricsLambdaPolicy: metricsLambdaPolicy(),
  };
}

