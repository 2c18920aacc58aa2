/**
 * `lava-common`: account-wide pieces shared by every realm. Safe to delete and recreate on each update
 * (nothing in it holds data).
 */
import { type Json, type Resource, type Template, sub, versionParameter } from "./lib.ts";

const LOG_LEVEL = {
  type: "String",
  description: "Log level of lava-stop.",
  default: "info",
  allowedValues: ["debug", "info", "warning"],
};

const SIGNAL = {
  type: "String",
  description: "SIGHUP asks the workers to finish their jobs and stop; SIGKILL kills them at once.",
  default: "SIGHUP",
  allowedValues: ["SIGHUP", "SIGKILL"],
};

const WAIT = {
  type: "String",
  description: "How long to wait for workers to stop by themselves before they are killed (e.g. 15m).",
  default: "15m",
  allowedPattern: "^\\d+[hms]?$",
};

const EXECUTION_TIMEOUT = {
  type: "String",
  description: "Execution timeout of the command (seconds).",
  default: "3600",
  allowedPattern: "^\\d+$",
};

/** A `Command` SSM document running one shell script on the instance. */
function commandDocument(name: string, description: string, parameters: Record<string, Json>, step: string, script: string[]): Resource {
  return {
    Type: "AWS::SSM::Document",
    Properties: {
      Name: name,
      DocumentType: "Command",
      DocumentFormat: "JSON",
      TargetType: "/AWS::EC2::Instance",
      Content: {
        schemaVersion: "2.2",
        description,
        parameters,
        mainSteps: [
          {
            action: "aws:runShellScript",
            name: step,
            inputs: { timeoutSeconds: "{{ExecutionTimeout}}", runCommand: script },
          },
        ],
      },
    },
  };
}

/** Shell that emits one lava patching event on the default bus; `$INFO` holds the text. */
const PUT_PATCH_EVENT = [
  String.raw`printf '[{"Source":"lava","DetailType":"Lava Worker Instance Patching Notification","Detail":"{\\"instance-id\\":\\"%s\\",\\"instance-name\\":\\"%s\\",\\"info\\":\\"%s\\"}"}]' "$INSTANCE" "$NAME" "$INFO" > /tmp/lava-patch-event.json`,
  "aws events put-events --entries file:///tmp/lava-patch-event.json",
];

export function commonTemplate(version: string): Template {
  return {
    AWSTemplateFormatVersion: "2010-09-09",
    Description: `Lava ${version}: components shared by all lava realms in the account.`,
    Metadata: {
      LavaDoc: {
        summary: [
          "Account-wide components shared by every lava realm: the SSM command documents used to stop,",
          "reboot and patch worker instances, and the log resource policy that lets EventBridge write to",
          "the `/aws/events/lava` log group. Delete and recreate this stack on each update; it holds no data.",
        ],
      },
    },
    Parameters: { Version: versionParameter(version) },
    Resources: {
      ssmDocumentLavaStop: commandDocument(
        "lava-StopWorkerDaemons",
        "Ask the lava worker daemons on the instance to stop, and wait for them.",
        { ExecutionTimeout: EXECUTION_TIMEOUT, LogLevel: LOG_LEVEL, Signal: SIGNAL, Wait: WAIT,
          StopDispatch: {
            type: "String",
            description: "Also stop scheduled dispatches from this instance (yes/no).",
            default: "yes",
            allowedValues: ["yes", "no"],
          },
        } as Json as Record<string, Json>,
        "stopWorkerDaemons",
        [
          "LOG='logger -s -p local0.info -t lava-stop'",
          "NO_DISPATCH=; [ '{{StopDispatch}}' = yes ] && NO_DISPATCH=--no-dispatch",
          "lava-stop --level '{{LogLevel}}' --log @local0 --signal '{{Signal}}' --wait '{{Wait}}' $NO_DISPATCH",
          "$LOG lava worker daemons stopped",
        ],
      ),
      ssmDocumentLavaReboot: commandDocument(
        "lava-RebootWorkerInstance",
        "Install security updates, stop the lava workers and reboot the instance.",
        { ExecutionTimeout: EXECUTION_TIMEOUT, LogLevel: LOG_LEVEL, Signal: SIGNAL, Wait: WAIT } as Json as Record<string, Json>,
        "rebootWorkerInstance",
        [
          "LOG='logger -s -p local0.info -t lava-reboot'",
          // Exit 194 makes SSM reboot and run the document again; the guard file marks the second run.
          "if [ -f /tmp/no-reboot ]; then rm -f /tmp/no-reboot; $LOG Reboot complete; exit 0; fi",
          "$LOG Installing security updates",
          "dnf update --security -y || yum update --security -y",
          "$LOG Stopping lava worker daemons",
          "lava-stop --level '{{LogLevel}}' --log @local0 --signal '{{Signal}}' --wait '{{Wait}}'",
          "touch /tmp/no-reboot || exit 1",
          "$LOG Rebooting",
          "exit 194",
        ],
      ),
      ssmDocumentSecUpdate: commandDocument(
        "lava-SecurityUpdate",
        "When security updates are available, install them, and reboot if they need it.",
        {
          ExecutionTimeout: EXECUTION_TIMEOUT,
          LogLevel: LOG_LEVEL,
          MinUpDays: {
            type: "String",
            description: "Skip instances that have been up for fewer days than this.",
            default: "0",
            allowedPattern: "^\\d+$",
          },
          Signal: SIGNAL,
          Wait: WAIT,
        } as Json as Record<string, Json>,
        "secUpdates",
        [
          "LOG='logger -s -p local0.info -t lava-secupdate'",
          "$LOG Starting",
          "INSTANCE=$(ec2-metadata -i | cut -d' ' -f2)",
          "export AWS_DEFAULT_REGION=$(ec2-metadata -z | cut -d' ' -f2 | sed -e 's/.$//')",
          "NAME=$(aws ec2 describe-tags --filters \"Name=resource-id,Values=$INSTANCE\" \"Name=key,Values=Name\" --query 'Tags[0].Value' --output text)",
          "if [ -f /tmp/no-reboot ]; then INFO='Reboot complete'",
          ...PUT_PATCH_EVENT,
          "rm -f /tmp/no-reboot; $LOG Reboot complete; exit 0; fi",
          "UPDAYS=$(awk '{ printf(\"%d\", $1/86400) }' /proc/uptime)",
          "[ \"$UPDAYS\" -lt {{MinUpDays}} ] && $LOG Up only $UPDAYS days - skipped && exit 0",
          // check-update exits 100 when updates are available.
          "dnf check-update --security --quiet; [ $? -ne 100 ] && $LOG No security updates - skipped && exit 0",
          "$LOG Installing security updates",
          "dnf update --security --quiet -y",
          "needs-restarting -r && $LOG No reboot needed && exit 0",
          "$LOG Stopping lava worker daemons",
          "lava-stop --level '{{LogLevel}}' --log @local0 --signal '{{Signal}}' --wait '{{Wait}}'",
          "touch /tmp/no-reboot || exit 1",
          "INFO='Rebooting after security patching'",
          ...PUT_PATCH_EVENT,
          "$LOG Rebooting",
          "exit 194",
        ],
      ),
      logsPolicyToLogEvents: {
        Type: "AWS::Logs::ResourcePolicy",
        Properties: {
          PolicyName: "TrustEventsToStoreLavaLogEvents",
          PolicyDocument: sub(
            JSON.stringify({
              Version: "2012-10-17",
              Statement: [
                {
                  Sid: "TrustEventsToStoreLavaLogEvents",
                  Effect: "Allow",
                  Principal: { Service: ["delivery.logs.amazonaws.com", "events.amazonaws.com"] },
                  Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
                  Resource: "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/events/lava:*",
                },
              ],
            }),
          ),
        },
      },
    },
    Outputs: {
      Version: { Description: "Lava version of the common stack.", Value: { Ref: "Version" }, Export: { Name: "lava:version" } },
    },
  };
}
