/**
 * `lava state` / `lava-state`: put and get state items (src/core/state.ts) with the original's sub-commands
 * and options, on either backend.
 *
 *   lava-state [-r REALM] put STATE_ID [-p KEY=VALUE ... | -v VALUE] [--kms-key K] [--publisher P] [--ttl D] [--type T]
 *   lava-state [-r REALM] get [-i] STATE_ID [TEMPLATE]
 *
 * `get` renders TEMPLATE (default `{{ state }}`) with the value as `state` and `s`, through our sandboxed
 * Jinja engine, with the value as the original's reader gives it to Jinja: json and secure items as Python's
 * json.loads reads them, raw numbers as Decimals (boto3).
 */
import { defineCommand } from "citty";
import { LavaError, UsageError } from "../../core/errors.ts";
import { LavaConfig } from "../../core/config.ts";
import { putState, readState, STATE_TYPES } from "../../core/state.ts";
import { listArg } from "../parse.ts";
import { backendArgs, loggerFrom, loggingArgs, readRealmConfig, realmArgs, realmFrom, str, withPorts, type CommonOptions } from "../common.ts";

const PROG = "lava-state";

const shared = { ...realmArgs, ...backendArgs, ...loggingArgs } as const;

/** The original refuses reserved ids for both sub-commands, as a usage error. */
function stateIdFrom(args: { _: string[] } & Record<string, unknown>): string {
  const stateId = str(args["state-id"]);
  if (!stateId) throw new UsageError("the following arguments are required: state_id");
  if (stateId.toLowerCase().startsWith("lava")) throw new UsageError(`Bad state_id: ${stateId}: Values beginning with "lava" are reserved`);
  return stateId;
}


/** `-p KEY=VALUE` pairs into a flat map of strings (no dotted nesting: the original's StoreNameValuePair). */
export function paramPairs(pairs: string[]): Record<string, string> | undefined {
  if (pairs.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq < 0) throw new UsageError(`argument -p/--param: expected KEY=VALUE, got "${pair}"`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

const put = defineCommand({
  meta: { description: "Add or replace a state item" },
  args: {
    "state-id": { type: "positional", description: "State ID", valueHint: "state_id" },
    param: { type: "string", alias: "p", multiple: true, valueHint: "KEY=VALUE", description: "A key/value pair of the value (repeatable); the value is then a map of strings" },
    value: { type: "string", alias: "v", valueHint: "VALUE", description: "The value: this string (not with -p)" },
    "kms-key": { type: "string", valueHint: "KEY", description: "KMS key ARN or alias/... for the secure type (default the realm's sys key)" },
    publisher: { type: "string", valueHint: "PUBLISHER", description: `Publisher label (default $LAVA_JOB_ID, else "${PROG} CLI")` },
    ttl: { type: "string", valueHint: "DURATION", description: "Time to live, e.g. 10m, 2h, 1d (default STATE_TTL, at most STATE_MAX_TTL)" },
    type: { type: "string", valueHint: "STATE_TYPE", description: `State item type: ${STATE_TYPES.join(", ")} (default json)` },
    ...shared,
  },
  async run({ args }) {
    const stateId = stateIdFrom(args);
    const realm = realmFrom(args as CommonOptions, process.env, "Lava realm must be specified via -r, --realm or LAVA_REALM environment variable.");
    const pairs = listArg(args, "param");
    const text = args.value as string | undefined;
    if (pairs.length && text !== undefined) throw new UsageError("argument -v/--value: not allowed with argument -p/--param");
    const type = str(args.type) ?? "json";
    if (!(STATE_TYPES as readonly string[]).includes(type)) {
      throw new UsageError(`argument --type: invalid choice: '${type}' (choose from ${STATE_TYPES.map((t) => `'${t}'`).join(", ")})`);
    }
    // As the original's `args.value or args.param`: an empty -v counts as absent; neither gives null.
    const value = str(text) ?? paramPairs(pairs) ?? null;
    const publisher = str(args.publisher) ?? str(process.env.LAVA_JOB_ID) ?? `${PROG} CLI`;
    const log = loggerFrom(args as CommonOptions, { program: PROG, realm });
    await withPorts(args as CommonOptions, async (ports) => {
      const config = new LavaConfig(await readRealmConfig(ports, realm));
      await putState(ports, realm, { state_id: stateId, value, type, ttl: str(args.ttl), publisher, kms_key: str(args["kms-key"]) }, { config });
    }, { realm });
    log.debug(`Put state item for state_id ${stateId}`);
    return 0;
  },
});

const get = defineCommand({
  meta: { description: "Print a state item's value through a Jinja template" },
  args: {
    "state-id": { type: "positional", description: "State ID", valueHint: "state_id" },
    template: { type: "positional", required: false, default: "{{ state }}", description: "Template rendered with the value as state and s (default {{ state }})", valueHint: "template" },
    "ignore-missing": { type: "boolean", alias: "i", description: "A missing item prints an empty line instead of failing" },
    ...shared,
  },
  async run({ args }) {
    const stateId = stateIdFrom(args);
    const realm = realmFrom(args as CommonOptions, process.env, "Lava realm must be specified via -r, --realm or LAVA_REALM environment variable.");
    const read = await withPorts(args as CommonOptions, (ports) => readState(ports, realm, stateId), { realm, readOnly: true });
    if (!read && !args["ignore-missing"]) throw new LavaError(`${stateId}: No such state_id`);
    const jinja = await import("../../jinja/index.ts");
    const value = !read ? "" : read.json !== undefined ? jinja.parseJson(read.json) : jinja.fromDynamo(read.value);
    const template = typeof args.template === "string" ? args.template : "{{ state }}";
    process.stdout.write(`${jinja.renderTemplate(template, { state: value, s: value })}\n`);
    return 0;
  },
});

export default defineCommand({
  meta: { description: "Put and get lava state items" },
  args: shared,
  subCommands: { put, get },
});
