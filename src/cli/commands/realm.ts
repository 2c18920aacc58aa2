/** `lava realm create`: tables, worker queues, bucket and realm entry of a realm (local or AWS). */
import { defineCommand } from "./index.ts";
import { createRealm, defaultBucket } from "../../core/realm-setup.ts";
import { listArg } from "../parse.ts";
import { backendArgs, loggingArgs, loggerFrom, realmArgs, realmFrom, str, withPorts } from "../common.ts";

const create = defineCommand({
  meta: { description: "Create a realm's tables, worker queues, bucket and realm entry (existing ones are kept)" },
  args: {
    ...realmArgs,
    worker: { type: "string", alias: "w", multiple: true, valueHint: "WORKER", description: "Worker to create a queue for (repeat, or comma-separate)" },
    bucket: { type: "string", valueHint: "BUCKET", description: "Realm bucket (default lava-<realm>)" },
    "s3-key": { type: "string", valueHint: "KMS_KEY", description: "KMS key for S3 writes, stored as the realm's s3_key (default alias/aws/s3)" },
    ...backendArgs,
    ...loggingArgs,
  },
  async run({ args }) {
    const realm = realmFrom(args);
    const log = loggerFrom(args, { program: "lava-realm", realm });
    const workers = listArg(args, "worker").flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean);
    const bucket = str(args.bucket) ?? defaultBucket(realm);
    await withPorts(args, (ports) => createRealm(ports, { realm, workers, bucket, s3Key: str(args["s3-key"]) }, log));
    return 0;
  },
});

export default defineCommand({
  meta: { description: "Administer realms" },
  subCommands: { create },
});
