/** `lava delete <kind> ID...`: delete items; an id that does not exist is reported and makes the status 1. */
import { defineCommand } from "./index.ts";
import { ITEM_KINDS, KIND_INFO } from "../../core/items.ts";
import { UsageError } from "../../core/errors.ts";
import { ConditionFailedError } from "../../ports/index.ts";
import { backendArgs, loggingArgs, loggerFrom, realmArgs, realmFrom, withPorts } from "../common.ts";
import { kindFrom } from "./get.ts";

export default defineCommand({
  meta: { description: "Delete realm, job, connection or s3trigger items" },
  args: {
    kind: { type: "positional", description: `Item kind: ${ITEM_KINDS.join(", ")}` },
    id: { type: "positional", description: "Item id (more may follow)" },
    ...realmArgs,
    ...backendArgs,
    ...loggingArgs,
  },
  async run({ args }) {
    const kind = kindFrom(args.kind);
    const ids = args._.slice(1);
    if (ids.length === 0) throw new UsageError("no id given");
    const realm = kind === "realm" ? undefined : realmFrom(args);
    const log = loggerFrom(args, { program: "lava-delete", realm });
    const table = KIND_INFO[kind].table(realm ?? "");
    const key = KIND_INFO[kind].key;
    let missing = 0;
    await withPorts(args, async (ports) => {
      for (const id of ids) {
        try {
          await ports.tables.delete(table, { [key]: id }, { condition: { kind: "exists" } });
          log.info(`deleted ${kind} ${id} from ${table}`);
        } catch (e) {
          if (!(e instanceof ConditionFailedError)) throw e;
          log.error(`no ${kind} ${id} in ${table}`);
          missing++;
        }
      }
    }, { realm });
    return missing ? 1 : 0;
  },
});
