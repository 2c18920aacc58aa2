/** `lava realm create`: tables, worker queues, bucket and realm entry of a realm (local or AWS). */
import { defineCommand } from "citty";
import { createRealm, defaultBucket } from "../../core/realm-setup.ts";
import { UsageError } from "../../core/errors.ts";
import { backendArgs, loggingArgs, loggerFrom, realmArgs, realmFrom, str, withPorts } from "../common.ts";

/** Every value of a repeatable string option (citty keeps only the last). */
export function repeated(rawArgs: string[], long: string, short?: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i]!;
    if (a === "--") break;
    if (a === `--${long}` || (short && a === `-${short}`)) {
      const v = rawArgs[++i];
      if (v === undefined) throw new UsageError(`option ${a} needs a value`);
      values.push(v);
    } else if (a.startsWith(`--${long}=`)) values.push(a.slice(long.length + 3));
    else if (short && a.startsWith(`-${short}`) && a.length > 2 && !a.startsWith("--")) values.push(a.slice(2));
  }
  return values.flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
}

const create = defineCommand({
  meta: { description: "Create a realm's tables, worker queues, bucket and realm entry (existing ones are kept)" },
  args: {
    ...realmArgs,
    worker: { type: "string", alias: "w", valueHint: "WORKER", description: "Worker to create a queue for (repeat, or comma-separate)" },
    bucket: { type: "string", valueHint: "BUCKET", description: "Realm bucket (default lava-<realm>)" },
    "s3-key": { type: "string", valueHint: "KMS_KEY", description: "KMS key for S3 writes, stored as the realm's s3_key (default alias/aws/s3)" },
    ...backendArgs,
    ...loggingArgs,
  },
  async run({ args, rawArgs }) {
    const realm = realmFrom(args);
    const log = loggerFrom(args, { program: "lava-realm", realm });
    const workers = repeated(rawArgs, "worker", "w");
    const bucket = str(args.bucket) ?? defaultBucket(realm);
    await withPorts(args, (ports) => createRealm(ports, { realm, workers, bucket, s3Key: str(args["s3-key"]) }, log));
    return 0;
  },
});

export default defineCommand({
  meta: { description: "Administer realms" },
  subCommands: { create },
});
