/**
 * `lava-<realm>-<worker>`: one worker of an existing realm. Always the worker's queue (and its alarms);
 * with `createWorkerInstance=Yes` also the EC2 side: role, launch template, auto scaling group, scaling
 * policy, terminating hook and the rule that hands terminating instances to the realm's stop lambda.
 */
import {
  type Json,
  type Parameter,
  type Resource,
  type Template,
  and,
  assumeRolePolicy,
  base64,
  equals,
  getAtt,
  ifc,
  importValue,
  noValue,
  not,
  parameterGroups,
  ref,
  sub,
  tags,
  versionParameter,
  yesNo,
} from "./lib.ts";
import { REALM_PATTERN } from "./realm.ts";

export const WORKER_PATTERN = "[a-z][-a-z0-9_]{2,10}";

const num = (Description: string, Default: number, MinValue: number, MaxValue?: number): Parameter => ({
  Type: "Number",
  Description,
  Default,
  MinValue,
  ...(MaxValue !== undefined ? { MaxValue, ConstraintDescription: `Must be between ${MinValue} and ${MaxValue}.` } : {}),
});

const CORE = [
  "Version",
  "realm",
  "worker",
  "messageRetentionPeriod",
  "visibilityTimeout",
  "alarmTopic",
  "maxAllowedQueueDepth",
  "queueDepthMinutes",
  "autoscalingControlledTermination",
  "realmLambdasDeployed",
];
const EC2 = [
  "createWorkerInstance",
  "amiId",
  "rootVolumeSize",
  "tmpVolumeSize",
  "dockerVolumeSize",
  "swapSize",
  "secGroups",
  "subnets",
  "keyPairName",
  "workerInstancesDesired",
  "workerInstancesMin",
  "workerInstancesMax",
  "workerPublicIp",
  "autoscalingActionTopic",
  "createHeartBeatAlarm",
  "workerBacklogScalingTarget",
];
const SELECTION = [
  "workerInstanceType",
  "workerAllowedInstances",
  "workerMemoryMin",
  "workerMemoryMax",
  "workerVCpuMin",
  "workerVCpuMax",
  "workerLocalStorage",
  "workerBurstable",
];

function parameters(version: string): Record<string, Parameter> {
  const inclusion = (what: string, dflt: string): Parameter => ({
    Type: "String",
    Description: `${what} in capability based selection: included, excluded or required.`,
    Default: dflt,
    AllowedValues: ["included", "excluded", "required"],
  });
  return {
    // Core
    Version: versionParameter(version),
    realm: { Type: "String", Description: "Name of the (existing) realm.", AllowedPattern: REALM_PATTERN },
    worker: {
      Type: "String",
      Description: "Name of the worker: 3 to 11 characters, lower case letters, digits, - and _, starting with a letter.",
      AllowedPattern: WORKER_PATTERN,
    },
    messageRetentionPeriod: num("Retention of messages in the worker queue (seconds).", 86400, 1800, 1209600),
    visibilityTimeout: num(
      "Visibility timeout of the worker queue (seconds). The worker extends it while a job runs.",
      3600,
      300,
      43200,
    ),
    alarmTopic: {
      Type: "String",
      Description: "Name of an existing SNS topic receiving the worker's alarms.",
      MinLength: 1,
      ConstraintDescription: "Must be specified.",
    },
    maxAllowedQueueDepth: num("Alarm when more messages than this wait in the queue. 0: no alarm.", 0, 0),
    queueDepthMinutes: num("Minutes the queue depth must exceed maxAllowedQueueDepth before the alarm fires.", 15, 1, 300),
    autoscalingControlledTermination: {
      Type: "String",
      Description: "ENABLED: terminating instances first let their running jobs finish (via the realm's stop lambda).",
      Default: "ENABLED",
      AllowedValues: ["ENABLED", "DISABLED"],
    },
    realmLambdasDeployed: yesNo("Does the realm stack deploy its lambdas? Almost always Yes.", "Yes"),
    // EC2
    createWorkerInstance: yesNo("Create the EC2 resources (role, launch template, auto scaling group) of the worker?", "Yes"),
    amiId: { Type: "String", Description: "Lava AMI id of the worker instances. May be empty when createWorkerInstance is No.", Default: "" },
    rootVolumeSize: num("Root volume size (GB). 0: the AMI's default.", 0, 0),
    tmpVolumeSize: num("Size (GB) of a separate volume mounted on /tmp. 0: none.", 500, 0, 2000),
    dockerVolumeSize: num("Size (GB) of a separate volume for docker. 0: none.", 100, 0, 2000),
    swapSize: num("Swap file size (GiB) on the root volume. 0: no swap.", 0, 0),
    secGroups: { Type: "List<AWS::EC2::SecurityGroup::Id>", Description: "Existing security groups of the worker instances." },
    subnets: { Type: "List<AWS::EC2::Subnet::Id>", Description: "Existing VPC subnets where worker instances may be placed." },
    keyPairName: { Type: "String", Description: "SSH key pair of the instances. Empty: no key pair.", Default: "" },
    workerInstancesDesired: num("Desired number of worker instances.", 0, 0, 10),
    workerInstancesMin: num("Minimum number of worker instances (1 for dispatcher workers).", 0, 0, 5),
    workerInstancesMax: num("Maximum number of worker instances (1 for dispatcher workers).", 0, 0, 10),
    workerPublicIp: {
      Type: "String",
      Description: "Give worker instances a public IP address?",
      Default: "false",
      AllowedValues: ["true", "false"],
    },
    autoscalingActionTopic: {
      Type: "String",
      Description: "Name of an existing SNS topic told of normal scaling activity (launch, terminate). Empty: none.",
      Default: "",
    },
    createHeartBeatAlarm: yesNo("Alarm when the worker's heartbeat log records stop (EC2 workers only).", "No"),
    workerBacklogScalingTarget: num("Target WorkerBacklog (queued messages per instance) for auto scaling. 0: no scaling.", 0, 0),
    // Instance selection
    workerInstanceType: {
      Type: "String",
      Description: "Instance type of the workers (e.g. m7g.large). Empty: capability based selection.",
      Default: "",
    },
    workerAllowedInstances: {
      Type: "CommaDelimitedList",
      Description: "Allowed instance types for capability based selection, globs allowed (e.g. m7*,c7*). Needed when workerInstanceType is empty.",
    },
    workerMemoryMin: num("Minimum memory (MiB) in capability based selection.", 0, 0),
    workerMemoryMax: num("Maximum memory (MiB) in capability based selection. 0: no limit.", 0, 0),
    workerVCpuMin: num("Minimum vCPUs in capability based selection.", 0, 0),
    workerVCpuMax: num("Maximum vCPUs in capability based selection. 0: no limit.", 0, 0),
    workerLocalStorage: inclusion("Instance types with local (instance store) disks", "excluded"),
    workerBurstable: inclusion("Burstable instance types (e.g. T series)", "included"),
  };
}

const conditions: Record<string, Json> = {
  ifCreateInstance: equals(ref("createWorkerInstance"), "Yes"),
  ifSetSizeRootVol: not(equals(ref("rootVolumeSize"), 0)),
  ifCreateTmpVol: not(equals(ref("tmpVolumeSize"), 0)),
  ifCreateDockerVol: not(equals(ref("dockerVolumeSize"), 0)),
  ifCreateHeartbeatAlarm: equals(ref("createHeartBeatAlarm"), "Yes"),
  ifCreateQueueDepthAlarm: not(equals(ref("maxAllowedQueueDepth"), 0)),
  ifRealmLambdasDeployed: equals(ref("realmLambdasDeployed"), "Yes"),
  ifInstanceType: not(equals(ref("workerInstanceType"), "")),
  ifMaxMemory: not(equals(ref("workerMemoryMax"), 0)),
  ifMaxVCpu: not(equals(ref("workerVCpuMax"), 0)),
  ifKeyPair: not(equals(ref("keyPairName"), "")),
  ifActionTopic: not(equals(ref("autoscalingActionTopic"), "")),
  ifWorkerBacklogScaling: and({ Condition: "ifCreateInstance" }, not(equals(ref("workerBacklogScalingTarget"), 0))),
  ifStopOnTerminate: and({ Condition: "ifCreateInstance" }, { Condition: "ifRealmLambdasDeployed" }),
};

const topicArn = (param: string): Json => sub(`arn:\${AWS::Partition}:sns:\${AWS::Region}:\${AWS::AccountId}:\${${param}}`);
const workerName = sub("lava-${realm}-${worker}");

function queue(): Record<string, Resource> {
  return {
    sqsWorkerQueue: {
      Type: "AWS::SQS::Queue",
      Properties: {
        QueueName: workerName,
        KmsMasterKeyId: importValue("lava:${realm}:kmsUserKeyAlias"),
        MessageRetentionPeriod: ref("messageRetentionPeriod"),
        VisibilityTimeout: ref("visibilityTimeout"),
        // lava-ws finds worker queues by this tag.
        Tags: tags({ "lava:function": "worker.dispatch", "lava:realm": ref("realm"), "lava:worker": ref("worker") }),
      },
    },
    alarmQueueDepth: {
      Type: "AWS::CloudWatch::Alarm",
      Condition: "ifCreateQueueDepthAlarm",
      Properties: {
        AlarmName: sub("lava-${realm}-${worker}-queue-depth"),
        AlarmDescription: sub("Too many messages waiting for lava-${realm}-${worker}"),
        Namespace: "AWS/SQS",
        MetricName: "ApproximateNumberOfMessagesVisible",
        Dimensions: [{ Name: "QueueName", Value: getAtt("sqsWorkerQueue", "QueueName") }],
        Statistic: "Maximum",
        Period: 60,
        EvaluationPeriods: ref("queueDepthMinutes"),
        DatapointsToAlarm: ref("queueDepthMinutes"),
        ComparisonOperator: "GreaterThanThreshold",
        Threshold: ref("maxAllowedQueueDepth"),
        TreatMissingData: "ignore",
        ActionsEnabled: true,
        AlarmActions: [topicArn("alarmTopic")],
        OKActions: [topicArn("alarmTopic")],
      },
    },
  };
}

/** User data read by the AMI's rc.d scripts (see boot/ami): boot0 prepares volumes, boot installs lava. */
function userData(): Json {
  const entry = (script: string) =>
    `/usr/local/bin/s3run s3://\${code}/\${prefix}/\${realm}/\${worker}/${script} s3://\${code}/\${prefix} \${realm} \${worker}`;
  const body = JSON.stringify(
    {
      shell0: entry("root.boot0.sh"),
      shell: entry("root.boot.sh"),
      "import-users": { users: "lava-${realm}-admin", sudoers: "lava-${realm}-admin" },
      swap: { size: "SWAP_SIZE" },
    },
    null,
    2,
  ).replace('"SWAP_SIZE"', "${swapSize}");
  return base64(
    sub(body, {
      code: importValue("lava:${realm}:s3CodeBucket"),
      prefix: importValue("lava:${realm}:s3CodePrefix"),
    }),
  );
}

function volume(condition: string, device: string, size: string): Json {
  return ifc(condition, {
    DeviceName: device,
    Ebs: { DeleteOnTermination: true, Encrypted: true, VolumeType: "gp3", VolumeSize: ref(size) },
  });
}

function instance(): Record<string, Resource> {
  const when = { Condition: "ifCreateInstance" } as const;
  const launchTemplate = {
    LaunchTemplateId: ref("launchtemplateLavaWorker"),
    Version: getAtt("launchtemplateLavaWorker", "LatestVersionNumber"),
  };
  const maxOrNone = (condition: string, param: string) => ifc(condition, ref(param));
  return {
    iamLavaWorkerRole: {
      Type: "AWS::IAM::Role",
      ...when,
      Properties: {
        RoleName: sub("lava-${realm}-worker-${worker}"),
        AssumeRolePolicyDocument: assumeRolePolicy("ec2.amazonaws.com"),
        ManagedPolicyArns: [
          importValue("lava:${realm}:iamLavaWorkerPolicyArn"),
          sub("arn:${AWS::Partition}:iam::aws:policy/CloudWatchAgentServerPolicy"),
          sub("arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"),
        ],
      },
    },
    iamWorkerInstanceProfile: {
      Type: "AWS::IAM::InstanceProfile",
      ...when,
      Properties: { Roles: [ref("iamLavaWorkerRole")] },
    },
    launchtemplateLavaWorker: {
      Type: "AWS::EC2::LaunchTemplate",
      ...when,
      // amiId may be empty (allowed when createWorkerInstance=No), so it cannot be typed AWS::EC2::Image::Id.
      Metadata: { "cfn-lint": { config: { ignore_checks: ["W1030"] } } },
      Properties: {
        LaunchTemplateName: workerName,
        LaunchTemplateData: {
          ImageId: ref("amiId"),
          InstanceType: ifc("ifInstanceType", ref("workerInstanceType")),
          KeyName: ifc("ifKeyPair", ref("keyPairName")),
          IamInstanceProfile: { Arn: getAtt("iamWorkerInstanceProfile", "Arn") },
          Monitoring: { Enabled: true },
          MetadataOptions: { HttpTokens: "required", HttpPutResponseHopLimit: 2 },
          BlockDeviceMappings: [
            volume("ifSetSizeRootVol", "/dev/xvda", "rootVolumeSize"),
            volume("ifCreateTmpVol", "/dev/xvdb", "tmpVolumeSize"),
            volume("ifCreateDockerVol", "/dev/xvdc", "dockerVolumeSize"),
          ],
          NetworkInterfaces: [
            {
              DeviceIndex: 0,
              Description: sub("lava-${realm}-${worker} eth0"),
              AssociatePublicIpAddress: ref("workerPublicIp"),
              Groups: ref("secGroups"),
            },
          ],
          UserData: userData(),
          TagSpecifications: [
            { ResourceType: "instance", Tags: tags({ LavaRealm: ref("realm"), LavaWorker: ref("worker") }) },
            { ResourceType: "volume", Tags: tags({ LavaRealm: ref("realm"), LavaWorker: ref("worker") }) },
          ],
        },
        TagSpecifications: [
          { ResourceType: "launch-template", Tags: tags({ LavaRealm: ref("realm"), LavaWorker: ref("worker") }) },
        ],
      },
    },
    asgLavaWorker: {
      Type: "AWS::AutoScaling::AutoScalingGroup",
      ...when,
      Properties: {
        AutoScalingGroupName: workerName,
        MinSize: ref("workerInstancesMin"),
        MaxSize: ref("workerInstancesMax"),
        DesiredCapacity: ref("workerInstancesDesired"),
        HealthCheckGracePeriod: 300,
        VPCZoneIdentifier: ref("subnets"),
        // Explicit type: the launch template names it. Otherwise the group picks any type meeting the needs.
        LaunchTemplate: ifc("ifInstanceType", launchTemplate),
        MixedInstancesPolicy: ifc("ifInstanceType", noValue, {
          LaunchTemplate: {
            LaunchTemplateSpecification: launchTemplate,
            Overrides: [
              {
                InstanceRequirements: {
                  AllowedInstanceTypes: ref("workerAllowedInstances"),
                  BurstablePerformance: ref("workerBurstable"),
                  LocalStorage: ref("workerLocalStorage"),
                  MemoryMiB: { Min: ref("workerMemoryMin"), Max: maxOrNone("ifMaxMemory", "workerMemoryMax") },
                  VCpuCount: { Min: ref("workerVCpuMin"), Max: maxOrNone("ifMaxVCpu", "workerVCpuMax") },
                  InstanceGenerations: ["current", "previous"],
                },
              },
            ],
          },
          InstancesDistribution: {
            OnDemandAllocationStrategy: "lowest-price",
            OnDemandBaseCapacity: 0,
            OnDemandPercentageAboveBaseCapacity: 100,
          },
        }),
        MetricsCollection: [{ Granularity: "1Minute" }],
        NotificationConfigurations: [
          {
            TopicARN: topicArn("alarmTopic"),
            NotificationTypes: [
              "autoscaling:EC2_INSTANCE_LAUNCH_ERROR",
              "autoscaling:EC2_INSTANCE_TERMINATE_ERROR",
              "autoscaling:TEST_NOTIFICATION",
            ],
          },
          ifc("ifActionTopic", {
            TopicARN: topicArn("autoscalingActionTopic"),
            NotificationTypes: [
              "autoscaling:EC2_INSTANCE_LAUNCH",
              "autoscaling:EC2_INSTANCE_TERMINATE",
              "autoscaling:TEST_NOTIFICATION",
            ],
          }),
        ],
        // Without a heartbeat the hook gives up after 30 minutes and lets termination continue.
        LifecycleHookSpecificationList: [
          {
            LifecycleHookName: "terminate",
            LifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING",
            HeartbeatTimeout: 1800,
            DefaultResult: "CONTINUE",
            NotificationMetadata: sub('{"realm": "${realm}", "worker": "${worker}"}'),
          },
        ],
        Tags: [
          { Key: "Name", Value: workerName, PropagateAtLaunch: true },
          { Key: "LavaRealm", Value: ref("realm"), PropagateAtLaunch: true },
          { Key: "LavaWorker", Value: ref("worker"), PropagateAtLaunch: true },
        ],
      },
    },
    asgWorkerScalingPolicy: {
      Type: "AWS::AutoScaling::ScalingPolicy",
      Condition: "ifWorkerBacklogScaling",
      Properties: {
        AutoScalingGroupName: ref("asgLavaWorker"),
        PolicyType: "TargetTrackingScaling",
        EstimatedInstanceWarmup: 240,
        TargetTrackingConfiguration: {
          // Published each minute by the realm's metrics lambda, in namespace Lava.
          CustomizedMetricSpecification: {
            Namespace: "Lava",
            MetricName: "WorkerBacklog",
            Statistic: "Average",
            Dimensions: [
              { Name: "Realm", Value: ref("realm") },
              { Name: "Worker", Value: ref("worker") },
            ],
          },
          TargetValue: ref("workerBacklogScalingTarget"),
        },
      },
    },
    alarmLavaWorker: {
      Type: "AWS::CloudWatch::Alarm",
      ...when,
      Properties: {
        AlarmName: sub("lava-${realm}-${worker} Status Check Failed"),
        AlarmDescription: sub("Status check of a lava-${realm}-${worker} instance failed for 2 minutes"),
        Namespace: "AWS/EC2",
        MetricName: "StatusCheckFailed",
        Dimensions: [{ Name: "AutoScalingGroupName", Value: ref("asgLavaWorker") }],
        Statistic: "Average",
        Period: 60,
        EvaluationPeriods: 2,
        ComparisonOperator: "GreaterThanThreshold",
        Threshold: 0,
        TreatMissingData: "notBreaching",
        ActionsEnabled: true,
        AlarmActions: [topicArn("alarmTopic")],
        OKActions: [topicArn("alarmTopic")],
      },
    },
  };
}

function heartbeat(): Record<string, Resource> {
  const when = { Condition: "ifCreateHeartbeatAlarm" } as const;
  return {
    // Heartbeat records reach /var/log/lava/<realm> through syslog and the CloudWatch agent.
    logFilterWorkerHeartbeat: {
      Type: "AWS::Logs::MetricFilter",
      ...when,
      Properties: {
        LogGroupName: sub("/var/log/lava/${realm}"),
        FilterPattern: sub(
          '{ $.event_source = "lava-worker" && $.event_type = "heartbeat" && $.realm = "${realm}" && $.worker = "${worker}" }',
        ),
        MetricTransformations: [
          { MetricNamespace: "LogMetrics", MetricName: sub("lava-${realm}-${worker}-heartbeat"), MetricValue: "1" },
        ],
      },
    },
    alarmLavaHeartbeat: {
      Type: "AWS::CloudWatch::Alarm",
      ...when,
      Properties: {
        AlarmName: sub("lava-${realm}-${worker}-heartbeat"),
        AlarmDescription: sub("No heartbeat from lava-${realm}-${worker}"),
        Namespace: "LogMetrics",
        MetricName: sub("lava-${realm}-${worker}-heartbeat"),
        Statistic: "SampleCount",
        Period: 60,
        EvaluationPeriods: 5,
        DatapointsToAlarm: 5,
        ComparisonOperator: "LessThanThreshold",
        Threshold: 1,
        TreatMissingData: "breaching",
        ActionsEnabled: true,
        AlarmActions: [topicArn("alarmTopic")],
        OKActions: [topicArn("alarmTopic")],
      },
    },
  };
}

function termination(): Record<string, Resource> {
  const when = { Condition: "ifStopOnTerminate" } as const;
  const stopLambda = importValue("lava:${realm}:lambdaLavaStop");
  return {
    eventsWorkerTerminating: {
      Type: "AWS::Events::Rule",
      ...when,
      Properties: {
        Name: sub("lava-${realm}-${worker}-terminating"),
        Description: sub("A lava-${realm}-${worker} instance is terminating"),
        EventBusName: "default",
        EventPattern: {
          source: ["aws.autoscaling"],
          "detail-type": ["EC2 Instance-terminate Lifecycle Action"],
          detail: { AutoScalingGroupName: [workerName] },
        },
        State: ref("autoscalingControlledTermination"),
        Targets: [
          { Id: sub("lava-${realm}-${worker}-stop-lambda"), Arn: stopLambda, InputPath: "$.detail" },
          {
            Id: sub("lava-${realm}-${worker}-log-events"),
            Arn: sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/events/lava"),
          },
        ],
      },
    },
    lambdaLavaStopPermission: {
      Type: "AWS::Lambda::Permission",
      ...when,
      Properties: {
        Action: "lambda:InvokeFunction",
        Principal: "events.amazonaws.com",
        FunctionName: stopLambda,
        SourceArn: getAtt("eventsWorkerTerminating", "Arn"),
      },
    },
  };
}

export function workerTemplate(version: string): Template {
  return {
    AWSTemplateFormatVersion: "2010-09-09",
    Description: `Lava ${version}: one worker of an existing realm (queue, alarms, EC2 auto scaling).`,
    Metadata: {
      // W2506 wants amiId typed AWS::EC2::Image::Id, which cannot be empty; empty is valid without EC2.
      "cfn-lint": { config: { ignore_checks: ["W2506"] } },
      "AWS::CloudFormation::Interface": parameterGroups([
        { label: "Core worker", parameters: CORE },
        { label: "EC2 worker", parameters: EC2 },
        { label: "EC2 instance selection", parameters: SELECTION },
      ]),
      LavaDoc: {
        summary: [
          "Creates one lava worker of an existing realm (the realm stack's exports are imported).",
          "Core: the worker queue `lava-<realm>-<worker>` and its depth alarm. With `createWorkerInstance=Yes`:",
          "the worker role, a launch template for the lava AMI, the auto scaling group `lava-<realm>-<worker>`",
          "(an explicit instance type, or capability based selection when `workerInstanceType` is empty),",
          "target tracking on the `Lava/WorkerBacklog` metric, the `terminate` lifecycle hook, the EventBridge",
          "rule sending terminating instances to the realm's stop lambda, and status and heartbeat alarms.",
        ],
      },
    },
    Parameters: parameters(version),
    Conditions: conditions,
    Resources: { ...queue(), ...instance(), ...heartbeat(), ...termination() },
    Outputs: {
      Version: {
        Description: "Lava version of the worker stack.",
        Value: ref("Version"),
        Export: { Name: sub("lava:${realm}:${worker}:version") },
      },
      QueueUrl: { Description: "URL of the worker queue.", Value: ref("sqsWorkerQueue") },
    },
  };
}

export const WORKER_PARAMETER_GROUPS = { core: CORE, ec2: EC2, selection: SELECTION };
