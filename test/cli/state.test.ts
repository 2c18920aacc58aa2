/**
 * The state manager and `lava state` on both backends: items stored in the original's field shapes for each
 * type, TTL defaults and capping (realm config included), the secure round trip through KMS (moto on aws,
 * the local stand-in), templates on get, and the CLI's errors.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLocalPorts } from "../../src/adapters/local/index.ts";
import { createRealm } from "../../src/core/realm-setup.ts";
import { REALMS_TABLE, realmTable } from "../../src/core/names.ts";
import { silentLogger } from "../../src/core/log.ts";
import { loadState, putState, readState } from "../../src/core/state.ts";
import type { Item, Ports } from "../../src/ports/index.ts";
import { needs } from "../support/availability.ts";
import { childEnv, emulatorsPresent, sdkConfig, startAwsEmulators, type AwsEmulators } from "../support/emulators.ts";
import { MAIN, ROOT } from "../support/lava-process.ts";

const REALM = "st";
const DAY = 86_400;

interface Backend {
  ports: Ports;
  env: Record<string, string>;
}

function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("AWS_") && !k.startsWith("LAVA_")) env[k] = v;
  return env;
}

async function lavaState(b: Backend, args: string[], extra: Record<string, string> = {}) {
  const proc = Bun.spawn([process.execPath, MAIN, "state", ...args], { cwd: ROOT, env: { ...b.env, ...extra }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

const stateItem = (b: Backend, id: string) => b.ports.tables.get(realmTable(REALM, "state"), { state_id: id }, { consistent: true }) as Promise<Item>;

function scenarios(name: string, backend: () => Backend): void {
  test(`[${name}] put json (-p) / raw (-v) / secure: the original's fields and encodings; get renders state and s`, async () => {
    const b = backend();
    const before = Math.trunc(Date.now() / 1000);
    expect((await lavaState(b, ["-r", REALM, "put", "cli/json", "-p", "a=1", "-p", "b=x y"])).code).toBe(0);
    expect((await lavaState(b, ["put", "-r", REALM, "cli/raw", "-v", "hello", "--type", "raw", "--ttl", "2h", "--publisher", "me"])).code).toBe(0);
    expect((await lavaState(b, ["-r", REALM, "put", "cli/secure", "-v", "s3cret", "--type", "secure"], { LAVA_JOB_ID: "some/job" })).code).toBe(0);
    expect((await lavaState(b, ["-r", REALM, "put", "cli/null"])).code).toBe(0);

    const json = await stateItem(b, "cli/json");
    expect(Object.keys(json).sort()).toEqual(["publisher", "state_id", "timestamp", "ttl", "type", "value"]);
    expect(json).toMatchObject({ state_id: "cli/json", type: "json", value: '{"a": "1", "b": "x y"}', publisher: "lava-state CLI" });
    expect(json.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
    expect(Number(json.ttl) - before).toBeGreaterThanOrEqual(7 * DAY);
    expect(Number(json.ttl) - before).toBeLessThanOrEqual(7 * DAY + 5);
    const raw = await stateItem(b, "cli/raw");
    expect(raw).toMatchObject({ type: "raw", value: "hello", publisher: "me" });
    expect(Number(raw.ttl) - before).toBeLessThanOrEqual(7200 + 5);
    const secure = await stateItem(b, "cli/secure");
    expect(secure).toMatchObject({ type: "secure", publisher: "some/job" });
    expect(secure.value).toBeInstanceOf(Uint8Array);
    expect(new TextDecoder().decode(secure.value as Uint8Array)).not.toContain("s3cret");
    expect((await stateItem(b, "cli/null")).value).toBe("null");

    expect((await lavaState(b, ["-r", REALM, "get", "cli/json"])).stdout).toBe("{'a': '1', 'b': 'x y'}\n");
    expect((await lavaState(b, ["-r", REALM, "get", "cli/json", "{{ s.a }}/{{ state['b'] | upper }}"])).stdout).toBe("1/X Y\n");
    expect((await lavaState(b, ["-r", REALM, "get", "cli/raw"])).stdout).toBe("hello\n");
    expect((await lavaState(b, ["-r", REALM, "get", "cli/secure", "[{{ state }}]"])).stdout).toBe("[s3cret]\n");
    expect((await lavaState(b, ["-r", REALM, "get", "cli/null"])).stdout).toBe("None\n");
  }, 30_000);

  test(`[${name}] raw numbers read back as Decimals in templates; json as json.loads reads them`, async () => {
    const b = backend();
    await putState(b.ports, REALM, { state_id: "api/raw", type: "raw", value: { n: 1.5, k: [1, "two"] } });
    await putState(b.ports, REALM, { state_id: "api/json", value: { n: 1.5, d: new Date("2026-01-02T03:04:05Z") } });
    expect((await stateItem(b, "api/raw")).value).toEqual({ n: 1.5, k: [1, "two"] });
    expect((await lavaState(b, ["-r", REALM, "get", "api/raw", "{{ s.n * 2 }} {{ s.k }}"])).stdout).toBe("3.0 [Decimal('1'), 'two']\n");
    expect((await lavaState(b, ["-r", REALM, "get", "api/json", "{{ s.n * 2 }} {{ s.d[:4] }}"])).stdout).toBe("3.0 2026\n");
    const loaded = await loadState(b.ports, REALM, { "api/json": "dflt", "api/none": "kept" });
    expect(loaded).toEqual({ "api/json": { n: 1.5, d: expect.stringMatching(/^2026-01-0[12]T/) }, "api/none": "kept" });
  });

  test(`[${name}] TTL: capped at STATE_MAX_TTL (default 366d, or the realm's config); STATE_TTL from the realm`, async () => {
    const b = backend();
    let now = Math.trunc(Date.now() / 1000);
    expect((await lavaState(b, ["-r", REALM, "put", "ttl/long", "-v", "x", "--ttl", "1000d"])).code).toBe(0);
    const capped = Number((await stateItem(b, "ttl/long")).ttl) - now;
    expect(capped).toBeGreaterThanOrEqual(366 * DAY);
    expect(capped).toBeLessThanOrEqual(366 * DAY + 5);

    const realmItem = (await b.ports.tables.get(REALMS_TABLE, { realm: REALM }))!;
    await b.ports.tables.put(REALMS_TABLE, { ...realmItem, config: { STATE_MAX_TTL: "1d", STATE_TTL: "3h" } });
    try {
      now = Math.trunc(Date.now() / 1000);
      expect((await lavaState(b, ["-r", REALM, "put", "ttl/realm", "-v", "x", "--ttl", "2d"])).code).toBe(0);
      expect(Number((await stateItem(b, "ttl/realm")).ttl) - now).toBeLessThanOrEqual(DAY + 5);
      expect((await lavaState(b, ["-r", REALM, "put", "ttl/default", "-v", "x"])).code).toBe(0);
      const dflt = Number((await stateItem(b, "ttl/default")).ttl) - now;
      expect(dflt).toBeGreaterThanOrEqual(3 * 3600);
      expect(dflt).toBeLessThanOrEqual(3 * 3600 + 5);
    } finally {
      await b.ports.tables.put(REALMS_TABLE, realmItem);
    }
  }, 30_000);

  test(`[${name}] errors: missing item (1, or empty with -i), reserved id and bad options (2), bad stored item`, async () => {
    const b = backend();
    const missing = await lavaState(b, ["-r", REALM, "get", "no/such"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no/such: No such state_id");
    expect(await lavaState(b, ["-r", REALM, "get", "-i", "no/such"])).toMatchObject({ code: 0, stdout: "\n" });
    const reserved = await lavaState(b, ["-r", REALM, "put", "LavaThing", "-v", "1"]);
    expect(reserved.code).toBe(2);
    expect(reserved.stderr).toContain('Bad state_id: LavaThing: Values beginning with "lava" are reserved');
    expect((await lavaState(b, ["-r", REALM, "put", "x", "-v", "1", "-p", "a=b"])).code).toBe(2);
    expect((await lavaState(b, ["-r", REALM, "put", "x", "--type", "yaml"])).stderr).toContain("invalid choice: 'yaml'");
    expect((await lavaState(b, ["put", "x", "-v", "1"])).code).toBe(2);

    // The original's reader refuses an item with fields it does not know, or without the ones it needs.
    await b.ports.tables.put(realmTable(REALM, "state"), { state_id: "bad/extra", type: "json", value: "1", timestamp: "t", ttl: 1e10, extra: 1 });
    await expect(readState(b.ports, REALM, "bad/extra")).rejects.toThrow("Bad state item: Unexpected keys: extra");
    await b.ports.tables.put(realmTable(REALM, "state"), { state_id: "bad/missing", type: "json", value: "1" });
    await expect(readState(b.ports, REALM, "bad/missing")).rejects.toThrow("Bad state item: Missing keys: timestamp, ttl");
  }, 30_000);
}

describe("state [local]", () => {
  let home: string;
  let b: Backend;
  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), "lava-state-"));
    const ports = await openLocalPorts({ home });
    await createRealm(ports, { realm: REALM, workers: ["core"] }, silentLogger());
    b = { ports, env: { ...cleanEnv(), LAVA_BACKEND: "local", LAVA_HOME: home, NO_COLOR: "1" } };
  });
  afterAll(async () => {
    await b?.ports.close();
    rmSync(home, { recursive: true, force: true });
  });
  scenarios("local", () => b);
});

const present = needs("dynalite, fauxqs and moto_server", emulatorsPresent.dynalite() && emulatorsPresent.fauxqs() && emulatorsPresent.moto());
describe.if(present)("state [aws]", () => {
  let emulators: AwsEmulators;
  let b: Backend;
  beforeAll(async () => {
    emulators = await startAwsEmulators({ moto: true });
    const { openAwsPorts } = await import("../../src/adapters/aws/index.ts");
    const ports = await openAwsPorts({ env: emulators.env });
    await createRealm(ports, { realm: REALM, workers: ["core"] }, silentLogger());
    // The realm's sys key, which secure items use by default.
    const { KMSClient, CreateKeyCommand, CreateAliasCommand } = await import("@aws-sdk/client-kms");
    const kms = new KMSClient(sdkConfig(emulators.endpoints.moto));
    const key = await kms.send(new CreateKeyCommand({}));
    await kms.send(new CreateAliasCommand({ AliasName: `alias/lava-${REALM}-sys`, TargetKeyId: key.KeyMetadata!.KeyId! }));
    kms.destroy();
    b = { ports, env: { ...childEnv(emulators), LAVA_BACKEND: "aws", NO_COLOR: "1" } };
  }, 90_000);
  afterAll(async () => {
    await b?.ports.close();
    await emulators?.stop();
  });
  scenarios("aws", () => b);
});
