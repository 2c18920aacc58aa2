/**
 * Mixed fleet, state items: the ORIGINAL's state manager (lava/lib/state.py, extracted at test time from
 * the original's git mirror into a temp dir; nothing of it is kept) reads the items our `lava state` puts,
 * and we read the items it puts, on the aws backend (dynalite + moto for KMS).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRealm } from "../../src/core/realm-setup.ts";
import { silentLogger } from "../../src/core/log.ts";
import { readState } from "../../src/core/state.ts";
import type { Ports } from "../../src/ports/index.ts";
import { commandWorks, needs } from "../support/availability.ts";
import { childEnv, emulatorsPresent, sdkConfig, startAwsEmulators, type AwsEmulators } from "../support/emulators.ts";
import { MAIN, ROOT } from "../support/lava-process.ts";
import { ORIGINAL_MIRROR, originalMirrorPresent, originalTree } from "../support/original.ts";

const REALM = "mixed";

// The original's code is an outside reference, not something .ci/run can install: without its mirror this
// test is skipped loudly, in CI too. What it needs besides is installed by .ci/run, so missing those fails.
const haveMirror = originalMirrorPresent("state mixed-fleet tests");
const present = haveMirror && needs(
  "python3 with boto3/jinja2/dateutil, dynalite and moto_server",
    commandWorks(["python3", "-c", "import boto3, jinja2, dateutil"]) &&
    emulatorsPresent.dynalite() &&
    emulatorsPresent.fauxqs() &&
    emulatorsPresent.moto(),
);

describe.if(present)("state items across implementations [aws]", () => {
  let emulators: AwsEmulators;
  let ports: Ports;
  let env: Record<string, string>;
  let work: string;
  let py: string;

  const run = async (cmd: string[], extra: Record<string, string> = {}) => {
    const proc = Bun.spawn(cmd, { cwd: ROOT, env: { ...env, ...extra }, stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    if (code !== 0) throw new Error(`${cmd.join(" ")} failed (${code}): ${stderr}`);
    return stdout;
  };
  const python = (script: string) => run(["python3", "-c", script], { PYTHONPATH: py });

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "lava-original-"));
    py = originalTree(ORIGINAL_MIRROR, work);
    emulators = await startAwsEmulators({ moto: true });
    const { openAwsPorts } = await import("../../src/adapters/aws/index.ts");
    ports = await openAwsPorts({ env: emulators.env });
    await createRealm(ports, { realm: REALM, workers: ["core"] }, silentLogger());
    const { KMSClient, CreateKeyCommand, CreateAliasCommand } = await import("@aws-sdk/client-kms");
    const kms = new KMSClient(sdkConfig(emulators.endpoints.moto));
    const key = await kms.send(new CreateKeyCommand({}));
    await kms.send(new CreateAliasCommand({ AliasName: `alias/lava-${REALM}-sys`, TargetKeyId: key.KeyMetadata!.KeyId! }));
    kms.destroy();
    env = { ...childEnv(emulators), LAVA_BACKEND: "aws", AWS_DEFAULT_REGION: "us-east-1" };
  }, 90_000);

  afterAll(async () => {
    await ports?.close();
    await emulators?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("the original reads what we put (json, raw, secure), with its publisher and timestamp", async () => {
    const lava = (args: string[]) => run([process.execPath, MAIN, "state", "-r", REALM, ...args]);
    await lava(["put", "ours/json", "-p", "a=1", "-p", "b=two"]);
    await lava(["put", "ours/raw", "-v", "plain", "--type", "raw", "--publisher", "us"]);
    await lava(["put", "ours/secure", "-v", "s3cret", "--type", "secure"]);
    const out = await python(`
import json
from lava.lib.state import LavaStateItem
for sid in ["ours/json", "ours/raw", "ours/secure"]:
    item = LavaStateItem.get(sid, "${REALM}")
    print(json.dumps([type(item).__name__, item.value, item.publisher, item.timestamp.tzinfo is not None]))
`);
    expect(out.trim().split("\n").map((l) => JSON.parse(l))).toEqual([
      ["LavaStateJson", { a: "1", b: "two" }, "lava-state CLI", true],
      ["LavaStateRaw", "plain", "us", true],
      ["LavaStateSecure", "s3cret", "lava-state CLI", true],
    ]);
  }, 60_000);

  test("we read what the original puts (json, raw, secure)", async () => {
    await python(`
from lava.lib.state import LavaStateItem
LavaStateItem.new("json", state_id="theirs/json", realm="${REALM}", value={"n": 1.5, "l": [1, "x"]}, publisher="py").put()
LavaStateItem.new("raw", state_id="theirs/raw", realm="${REALM}", value="plain").put()
LavaStateItem.new("secure", state_id="theirs/secure", realm="${REALM}", value={"pw": "s3cret"}).put()
`);
    expect(await readState(ports, REALM, "theirs/json")).toMatchObject({ type: "json", value: { n: 1.5, l: [1, "x"] }, json: '{"n": 1.5, "l": [1, "x"]}', publisher: "py" });
    expect(await readState(ports, REALM, "theirs/raw")).toMatchObject({ type: "raw", value: "plain" });
    expect(await readState(ports, REALM, "theirs/secure")).toMatchObject({ type: "secure", value: { pw: "s3cret" } });
    const got = await run([process.execPath, MAIN, "state", "-r", REALM, "get", "theirs/secure", "{{ s.pw }}"]);
    expect(got).toBe("s3cret\n");
  }, 60_000);
});
