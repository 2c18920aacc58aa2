/** `lava put <kind> FILE...`: validate every item, then store them all (nothing is stored if any is bad). */
import { defineCommand } from "./index.ts";
import { ITEM_KINDS, ItemError, ItemProblems, KIND_INFO, checkItem, jobWarnings, toItem, type ItemKind } from "../../core/items.ts";
import { UsageError } from "../../core/errors.ts";
import { backendArgs, loggingArgs, loggerFrom, realmArgs, realmFrom, withPorts } from "../common.ts";
import { readItemFile, type SourcedItem } from "../item-files.ts";
import { kindFrom } from "./get.ts";

export default defineCommand({
  meta: { description: "Add or replace realm, job, connection or s3trigger items read from YAML or JSON files (- = stdin)" },
  args: {
    kind: { type: "positional", description: `Item kind: ${ITEM_KINDS.join(", ")}` },
    file: { type: "positional", description: "YAML or JSON file holding one item or a list of items (more files may follow)" },
    ...realmArgs,
    ...backendArgs,
    ...loggingArgs,
  },
  async run({ args }) {
    const kind = kindFrom(args.kind);
    const files = args._.slice(1);
    if (files.length === 0) throw new UsageError("no file given");
    const realm = kind === "realm" ? undefined : realmFrom(args);
    const log = loggerFrom(args, { program: "lava-put", realm });
    const items = files.flatMap(readItemFile);
    const { good, bad } = validate(kind, items);
    for (const b of bad) log.error(b);
    if (bad.length) {
      log.error(`nothing stored: ${bad.length} of ${items.length} item(s) are invalid`);
      return 1;
    }
    for (const g of good) for (const w of g.warnings) log.warning(`${g.where}: ${kind} ${g.id}: ${w}`);
    await withPorts(args, async (ports) => {
      for (const g of good) {
        const table = KIND_INFO[kind].table(realm ?? "");
        await ports.tables.put(table, toItem(g.value as Record<string, unknown>));
        log.info(`stored ${kind} ${g.id} in ${table}`);
      }
    }, { realm });
    return 0;
  },
});

interface Good {
  where: string;
  id: string;
  value: unknown;
  warnings: string[];
}

function validate(kind: ItemKind, items: SourcedItem[]): { good: Good[]; bad: string[] } {
  const good: Good[] = [];
  const bad: string[] = [];
  const seen = new Map<string, string>();
  for (const it of items) {
    try {
      const id = checkItem(kind, it.value);
      const dup = seen.get(id);
      if (dup) bad.push(`${it.where}: ${kind} ${id}: also defined in ${dup}`);
      seen.set(id, it.where);
      const warnings = kind === "job" ? jobWarnings(it.value as Record<string, unknown>) : [];
      good.push({ where: it.where, id, value: it.value, warnings });
    } catch (e) {
      if (e instanceof ItemProblems) for (const p of e.problems) bad.push(`${it.where}: ${p.message}`);
      else if (e instanceof ItemError) bad.push(`${it.where}: ${e.message}`);
      else throw e;
    }
  }
  return { good, bad };
}
