/** `lava get <kind> [ID...]`: print items as YAML (default) or JSON; with no ID, list the ids. */
import { defineCommand } from "./index.ts";
import { stringify } from "yaml";
import { ITEM_KINDS, KIND_INFO, type ItemKind } from "../../core/items.ts";
import { UsageError } from "../../core/errors.ts";
import { allPages, type Item } from "../../ports/index.ts";
import { backendArgs, realmArgs, realmFrom, str, withPorts } from "../common.ts";

export function kindFrom(value: unknown): ItemKind {
  const k = str(value);
  if (!k) throw new UsageError(`an item kind is needed: ${ITEM_KINDS.join(", ")}`);
  const kind = k.replace(/s$/, "") as ItemKind;
  if (!ITEM_KINDS.includes(kind)) throw new UsageError(`unknown item kind "${k}" (use ${ITEM_KINDS.join(", ")})`);
  return kind;
}

export default defineCommand({
  meta: { description: "Print realm, job, connection or s3trigger items; with no ID, list the ids" },
  args: {
    kind: { type: "positional", description: `Item kind: ${ITEM_KINDS.join(", ")}` },
    id: { type: "positional", required: false, description: "Item id (more may follow)" },
    json: { type: "boolean", description: "Print JSON instead of YAML" },
    ...realmArgs,
    ...backendArgs,
  },
  async run({ args }) {
    const kind = kindFrom(args.kind);
    const ids = args._.slice(1);
    const realm = kind === "realm" ? "" : realmFrom(args);
    const table = KIND_INFO[kind].table(realm);
    const key = KIND_INFO[kind].key;
    return withPorts(args, async (ports) => {
      if (ids.length === 0) {
        const found: string[] = [];
        for await (const item of allPages((startKey) => ports.tables.scan(table, { startKey }))) found.push(String(item[key]));
        if (found.length) process.stdout.write(`${found.sort().join("\n")}\n`);
        return 0;
      }
      const items: Item[] = [];
      let missing = 0;
      for (const id of ids) {
        const item = await ports.tables.get(table, { [key]: id }, { consistent: true });
        if (item) items.push(item);
        else {
          process.stderr.write(`lava get: no ${kind} ${id}${kind === "realm" ? "" : ` in realm ${realm}`}\n`);
          missing++;
        }
      }
      if (items.length) process.stdout.write(render(items, ids.length > 1, Boolean(args.json)));
      return missing ? 1 : 0;
    }, { realm: realm || undefined, readOnly: true });
  },
});

function render(items: Item[], asList: boolean, json: boolean): string {
  const data = asList ? items : items[0];
  return json ? `${JSON.stringify(data, null, 2)}\n` : stringify(data, { lineWidth: 0 });
}
