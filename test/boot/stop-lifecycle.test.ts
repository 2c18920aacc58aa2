/**
 * lava-stop and the auto-scaling lifecycle: CompleteLifecycleAction (always CONTINUE) once the workers
 * are gone, and RecordLifecycleActionHeartbeat while waiting for them.
 *
 * The group, its instance and its terminate hook live in moto. moto 5 implements neither lifecycle call,
 * so the auto-scaling endpoint lava-stop is given is a small server on loopback in front of moto: it
 * answers those two calls itself, after checking in moto that the group, the hook and the instance
 * exist (an unknown one gets the ValidationError AWS would send), records them, and passes every
 * other call through to moto.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeLifecycleHooksCommand,
  PutLifecycleHookCommand,
} from "@aws-sdk/client-auto-scaling";
import { CreateLaunchTemplateCommand, EC2Client } from "@aws-sdk/client-ec2";
import { stop, type LifecycleArgs } from "../../src/cli/commands/stop.ts";
import { memoryLogger } from "../../src/core/log.ts";
import { needs } from "../support/availability.ts";
import { type AwsEmulators, childEnv, emulatorsPresent, sdkConfig, startAwsEmulators, withEnv } from "../support/emulators.ts";

const MAIN = join(import.meta.dir, "..", "..", "src", "main.ts");
const GROUP = "lava-dev-core";
const HOOK = "lava-dev-core-terminating";
const FAST = { pollMs: 50, signsOfLifeMs: 100, coupDeGraceMs: 100 };

interface LifecycleCall {
  action: string;
  params: Record<string, string>;
  at: number;
}

describe.if(needs("moto_server", emulatorsPresent.moto(), "pip install 'moto[server]'"))("lava-stop lifecycle (moto auto scaling)", () => {
  let emu: AwsEmulators;
  let asg: AutoScalingClient;
  let front: ReturnType<typeof Bun.serve>;
  let instanceId = "";
  const calls: LifecycleCall[] = [];

  const xml = (action: string) =>
    `<${action}Response xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><${action}Result/><ResponseMetadata><RequestId>test</RequestId></ResponseMetadata></${action}Response>`;
  const validationError = (message: string) =>
    new Response(`<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>${message}</Message></Error><RequestId>test</RequestId></ErrorResponse>`, {
      status: 400,
      headers: { "content-type": "text/xml" },
    });

  /** Why AWS would refuse this lifecycle call, judged from moto's state; undefined when it is fine. */
  async function refusal(p: Record<string, string>): Promise<string | undefined> {
    const group = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [p.AutoScalingGroupName ?? ""] }))).AutoScalingGroups?.[0];
    if (!group) return `No Auto Scaling group named ${p.AutoScalingGroupName}`;
    const hooks = (await asg.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: group.AutoScalingGroupName }))).LifecycleHooks ?? [];
    if (!hooks.some((h) => h.LifecycleHookName === p.LifecycleHookName)) return `No lifecycle hook named ${p.LifecycleHookName}`;
    if (p.InstanceId && !group.Instances?.some((i) => i.InstanceId === p.InstanceId)) return `No active lifecycle action for ${p.InstanceId}`;
    if (!p.InstanceId && !p.LifecycleActionToken) return "Either instance id or token must be specified";
    return undefined;
  }

  async function handle(req: Request): Promise<Response> {
    const body = await req.text();
    const params = Object.fromEntries(new URLSearchParams(body));
    const action = params.Action ?? "";
    if (action === "CompleteLifecycleAction" || action === "RecordLifecycleActionHeartbeat") {
      const why = await refusal(params);
      if (why) return validationError(why);
      calls.push({ action, params, at: Date.now() });
      return new Response(xml(action), { headers: { "content-type": "text/xml" } });
    }
    const headers = new Headers(req.headers);
    headers.delete("host");
    return fetch(`${emu.endpoints.moto}${new URL(req.url).pathname}`, { method: req.method, headers, body });
  }

  const lifecycleEnv = () => ({ ...emu.env, AWS_ENDPOINT_URL_AUTO_SCALING: `http://127.0.0.1:${front.port}` });
  const completions = () => calls.filter((c) => c.action === "CompleteLifecycleAction");
  const heartbeats = () => calls.filter((c) => c.action === "RecordLifecycleActionHeartbeat");

  beforeAll(async () => {
    emu = await startAwsEmulators({ moto: true });
    const cfg = sdkConfig(emu.endpoints.moto);
    asg = new AutoScalingClient(cfg);
    const ec2 = new EC2Client(cfg);
    await ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: GROUP, LaunchTemplateData: { ImageId: "ami-12c6146b", InstanceType: "t3.small" } }));
    await asg.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: GROUP,
        LaunchTemplate: { LaunchTemplateName: GROUP, Version: "$Latest" },
        MinSize: 0,
        MaxSize: 1,
        DesiredCapacity: 1,
        AvailabilityZones: ["us-east-1a"],
      }),
    );
    await asg.send(
      new PutLifecycleHookCommand({
        AutoScalingGroupName: GROUP,
        LifecycleHookName: HOOK,
        LifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING",
        HeartbeatTimeout: 1800,
        DefaultResult: "CONTINUE",
      }),
    );
    const group = (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [GROUP] }))).AutoScalingGroups![0]!;
    instanceId = group.Instances![0]!.InstanceId!;
    front = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: handle });
  }, 60_000);

  afterAll(async () => {
    front?.stop(true);
    await emu?.stop();
  });

  afterEach(() => {
    calls.length = 0;
  });

  test("the stand-in refuses an unknown hook, as AWS would (so the tests below can fail)", async () => {
    const client = new AutoScalingClient({ ...sdkConfig(`http://127.0.0.1:${front.port}`) });
    const { CompleteLifecycleActionCommand } = await import("@aws-sdk/client-auto-scaling");
    const sent = client.send(new CompleteLifecycleActionCommand({ AutoScalingGroupName: GROUP, LifecycleHookName: "nope", InstanceId: instanceId, LifecycleActionResult: "CONTINUE" }));
    await expect(sent).rejects.toThrow(/No lifecycle hook named nope/);
    expect(calls).toEqual([]);
  });

  describe("in process, against this test's own workers only", () => {
    const children: ChildProcess[] = [];
    let dir = "";
    const realm = `lifecycle${process.pid}`;
    afterEach(() => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
      children.length = 0;
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test("no worker running: the lifecycle action is still completed, with CONTINUE, and no heartbeat", async () => {
      const log = memoryLogger();
      const asgArgs: LifecycleArgs = { AutoScalingGroupName: GROUP, LifecycleHookName: HOOK, InstanceId: instanceId };
      const status = await withEnv(lifecycleEnv(), () =>
        stop({ signal: 1, waitSeconds: 2, heartbeatSeconds: 0.1, asgArgs, noDispatch: false, log, select: (w) => w.realm === realm, timing: FAST }),
      );
      expect(status).toBe(0);
      expect(calls.map((c) => c.action)).toEqual(["CompleteLifecycleAction"]);
      expect(completions()[0]!.params).toMatchObject({ AutoScalingGroupName: GROUP, LifecycleHookName: HOOK, InstanceId: instanceId, LifecycleActionResult: "CONTINUE" });
      const messages = log.records.map((r) => r.message);
      expect(messages).toContain("No lava workers found");
      expect(messages).toContain("Completing auto scaling lifecycle action");
    });

    test("one worker finishing its jobs after SIGHUP: heartbeats while it runs, completion after it exits", async () => {
      dir = mkdtempSync(join(tmpdir(), "lava-stop-lifecycle-"));
      const script = join(dir, "worker.sh");
      // On SIGHUP the worker takes a while to finish its running jobs, then exits.
      writeFileSync(script, `trap 'sleep 0.8; echo done > "${dir}/exited"; exit 0' HUP\necho > "${dir}/ready"\nwhile :; do sleep 0.05; done\n`);
      const worker = spawn("bash", ["-c", `exec -a lava-worker bash "${script}" -r ${realm} -w core`], { stdio: "ignore" });
      children.push(worker);
      let exitedAt = 0;
      worker.on("exit", () => {
        exitedAt = Date.now();
      });
      for (let i = 0; i < 100 && !existsSync(join(dir, "ready")); i++) await Bun.sleep(20);

      const log = memoryLogger();
      const token = "0b5a9d5e-1c3e-4f0e-9a53-6d2f3f0f7e11";
      const asgArgs: LifecycleArgs = { AutoScalingGroupName: GROUP, LifecycleHookName: HOOK, LifecycleActionToken: token };
      const status = await withEnv(lifecycleEnv(), () =>
        stop({ signal: 1, waitSeconds: 10, heartbeatSeconds: 0.2, asgArgs, noDispatch: false, log, select: (w) => w.realm === realm, timing: FAST }),
      );
      expect(status).toBe(0);
      expect(existsSync(join(dir, "exited"))).toBe(true);
      expect(worker.exitCode).toBe(0); // it finished by itself: no SIGTERM/SIGKILL needed

      expect(heartbeats().length).toBeGreaterThanOrEqual(2);
      for (const h of heartbeats()) expect(h.params).toEqual({ Action: "RecordLifecycleActionHeartbeat", Version: "2011-01-01", AutoScalingGroupName: GROUP, LifecycleHookName: HOOK, LifecycleActionToken: token });
      expect(completions().length).toBe(1);
      const done = completions()[0]!;
      expect(done.params).toMatchObject({ LifecycleActionToken: token, LifecycleActionResult: "CONTINUE" });
      expect(done.params.InstanceId).toBeUndefined();
      expect(calls.at(-1)).toBe(done); // no heartbeat after the completion
      expect(done.at).toBeGreaterThanOrEqual(exitedAt);
      expect(exitedAt).toBeGreaterThan(0);
      expect(log.records.filter((r) => r.message === "Lifecycle hook heartbeat sent").length).toBe(heartbeats().length);

      await Bun.sleep(500); // and none later either: the heartbeat timer is stopped
      expect(heartbeats().length).toBe(calls.length - 1);
    }, 20_000);
  });

  describe("the lava stop command", () => {
    async function lavaStop(args: string[]): Promise<{ exitCode: number; stderr: string }> {
      // Signal 0 and no --wait: the command only looks for workers, so it cannot disturb other processes here.
      const proc = Bun.spawn([process.execPath, MAIN, "stop", "--level", "info", ...args], { env: childEnv({ env: lifecycleEnv() }), stdout: "pipe", stderr: "pipe" });
      const [stderr, exitCode] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
      return { exitCode, stderr };
    }

    test("--auto-scaling-group-name, --lifecycle-hook-name and --instance-id complete the action", async () => {
      const run = await lavaStop(["--auto-scaling-group-name", GROUP, "--lifecycle-hook-name", HOOK, "--instance-id", instanceId]);
      expect(run.stderr).toContain("Completing auto scaling lifecycle action");
      expect(run.exitCode).toBe(0);
      expect(calls.map((c) => [c.action, c.params.AutoScalingGroupName, c.params.LifecycleHookName, c.params.InstanceId, c.params.LifecycleActionResult])).toEqual([
        ["CompleteLifecycleAction", GROUP, HOOK, instanceId, "CONTINUE"],
      ]);
    }, 20_000);

    test("a refused completion is a failure with AWS's message", async () => {
      const run = await lavaStop(["--auto-scaling-group-name", GROUP, "--lifecycle-hook-name", "no-such-hook", "--instance-id", instanceId]);
      expect(run.exitCode).not.toBe(0);
      expect(run.stderr).toContain("No lifecycle hook named no-such-hook");
      expect(calls).toEqual([]);
    }, 20_000);

    test("bad lifecycle options are usage errors and nothing is sent", async () => {
      const cases: [string[], RegExp][] = [
        [["--auto-scaling-group-name", GROUP, "--lifecycle-hook-name", HOOK, "--instance-id", "i-1", "--lifecycle-heartbeat", "30s"], /lifecycle-heartbeat must be >= 60 seconds/],
        [["--auto-scaling-group-name", GROUP, "--instance-id", "i-1"], /Inconsistent auto scaling arguments/],
        [["--auto-scaling-group-name", GROUP, "--lifecycle-hook-name", HOOK], /At least one of --instance-id or --lifecycle-action-token/],
        [["--lifecycle-heartbeat", "2m"], /Inconsistent auto scaling arguments/],
      ];
      for (const [args, message] of cases) {
        const run = await lavaStop(args);
        expect(run.exitCode).toBe(2);
        expect(run.stderr).toMatch(message);
      }
      expect(calls).toEqual([]);
    }, 20_000);
  });
});
