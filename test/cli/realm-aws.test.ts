/** `lava realm create --backend aws` against dynalite + fauxqs: the tables must match the original's layout. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { needs } from "../support/availability.ts";
import { childEnv, emulatorsPresent, sdkConfig, startAwsEmulators, type AwsEmulators } from "../support/emulators.ts";
import { lava } from "./run-lava.ts";
import { GOLDEN_DIR, haveGolden } from "../support/shared.ts";

const present = needs("dynalite and fauxqs", emulatorsPresent.dynalite() && emulatorsPresent.fauxqs(), "npm ci");

interface GoldenTable {
  KeySchema: unknown[];
  GlobalSecondaryIndexes?: { IndexName: string; KeySchema: unknown[]; Projection: { ProjectionType: string; NonKeyAttributes?: string[] } }[];
  LocalSecondaryIndexes?: { IndexName: string; KeySchema: unknown[]; Projection: { ProjectionType: string } }[];
}

describe.if(present)("realm create on the aws backend", () => {
  let emu: AwsEmulators;
  let env: Record<string, string | undefined>;
  beforeAll(async () => {
    emu = await startAwsEmulators();
    env = { ...childEnv(emu), LAVA_ARGV0: undefined, LAVA_REALM: undefined };
  }, 60_000);
  afterAll(async () => {
    await emu?.stop();
  });

  test("creates the realm", async () => {
    const r = await lava(["realm", "create", "-r", "ref", "-w", "core", "--backend", "aws"], env);
    expect(r.stderr).toContain("created realm entry ref");
    expect(r.code).toBe(0);
  });

  test.if(haveGolden())("tables, keys and indexes as the original's", async () => {
    const golden = JSON.parse(readFileSync(join(GOLDEN_DIR, "realm-setup.json"), "utf8")) as { dynamodb_tables: Record<string, GoldenTable> };
    const ddb = new DynamoDBClient(sdkConfig(emu.endpoints.dynamodb));
    try {
      for (const [name, g] of Object.entries(golden.dynamodb_tables)) {
        const t = (await ddb.send(new DescribeTableCommand({ TableName: name }))).Table!;
        expect(t.KeySchema).toEqual(g.KeySchema as typeof t.KeySchema);
        const gsi = (t.GlobalSecondaryIndexes ?? []).map((i) => ({ IndexName: i.IndexName, KeySchema: i.KeySchema, Projection: i.Projection }));
        expect(gsi).toEqual((g.GlobalSecondaryIndexes ?? []) as typeof gsi);
        const lsi = (t.LocalSecondaryIndexes ?? []).map((i) => ({ IndexName: i.IndexName, KeySchema: i.KeySchema, Projection: i.Projection }));
        expect(lsi).toEqual((g.LocalSecondaryIndexes ?? []) as typeof lsi);
      }
    } finally {
      ddb.destroy();
    }
  }, 60_000);

  test.each([[["get", "job", "x"]], [["delete", "job", "x"]], [["events", "x"]], [["dispatcher", "x"]]])("%p on a missing realm gives the create-it hint, as on local", async (args) => {
    const r = await lava([...args, "-r", "nosuch", "--backend", "aws"], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no realm "nosuch"');
    expect(r.stderr).toContain("create it with: lava realm create -r nosuch");
  }, 60_000);

  test("put and get a job through the aws backend", async () => {
    const put = await lava(["put", "job", "-r", "ref", "--backend", "aws", "-"], env, JSON.stringify({ job_id: "ref/log", type: "log", worker: "core", payload: null }));
    expect(put.code).toBe(0);
    const got = await lava(["get", "job", "-r", "ref", "--backend", "aws", "--json", "ref/log"], env);
    expect(JSON.parse(got.stdout)).toEqual({ job_id: "ref/log", type: "log", worker: "core", payload: null });
  }, 60_000);
});
