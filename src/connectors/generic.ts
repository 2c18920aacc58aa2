/**
 * Generic connections (`generic`): a named group of values under `attributes`. Each attribute is a scalar,
 * `{type: local, value}` or `{type: ssm, parameter}` (decrypted). The CLI wrapper is the original's
 * `get-attr-value NAME`, printing the value (Python `str()` of it) from a 0700 directory of 0600 files.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { pyStr } from "../jinja/index.ts";
import { connectionError, connectionParameter } from "./params.ts";
import { connectionDir, shQuote, writeScript, writeSecretFile } from "./scripts.ts";
import { checkConnection, getConnectionSpec } from "./spec.ts";
import type { ConnectionSpec, Connector, ConnectorContext } from "./types.ts";

const ATTRIBUTE_NAME = /^[a-zA-Z][\w-]*$/;

export const genericConnector: Connector = { types: ["generic"], cliScript: genericScript };

export async function genericAttributes(spec: ConnectionSpec, ctx: ConnectorContext): Promise<Record<string, unknown>> {
  checkConnection(spec, ctx.realm, genericConnector.types, ["attributes"], []);
  const attributes = spec.attributes;
  if (!attributes || typeof attributes !== "object" || Array.isArray(attributes)) throw connectionError(spec, ctx, "attributes field must be a dict");
  const values: Record<string, unknown> = {};
  for (const [name, attr] of Object.entries(attributes as Record<string, unknown>)) {
    if (!ATTRIBUTE_NAME.test(name)) throw connectionError(spec, ctx, `Bad attribute name: ${name}`);
    if (attr === null || ["string", "number", "boolean", "bigint"].includes(typeof attr)) {
      values[name] = attr;
      continue;
    }
    if (typeof attr !== "object" || Array.isArray(attr)) throw connectionError(spec, ctx, `Unsupported attribute type for attribute ${name}`);
    const a = attr as Record<string, unknown>;
    const type = a.type ?? "local";
    if (type === "local") {
      if (!("value" in a)) throw connectionError(spec, ctx, 'value must be specified for attributes of type "local"');
      values[name] = a.value;
    } else if (type === "ssm") {
      if (!("parameter" in a)) throw connectionError(spec, ctx, 'parameter must be specified for attributes of type "ssm"');
      values[name] = await connectionParameter(spec, ctx, a.parameter, `attribute ${name}`);
    } else {
      throw connectionError(spec, ctx, `Unknown attribute type: ${String(type)}`);
    }
  }
  return values;
}

export async function getGenericConnection(connId: string, ctx: ConnectorContext): Promise<Record<string, unknown>> {
  return genericAttributes(await getConnectionSpec(ctx.ports, ctx.realm, connId), ctx);
}

const CLI = `VALUE_DIR=__VALUE_DIR__

if [ $# -ne 1 ]
then
    echo Usage: $(basename $0) param_name >&2
    exit 1
fi

if [[ "$1" == */* || ! -f "$VALUE_DIR/$1" ]]
then
    echo "$1: No such parameter" >&2
    exit 1
fi

cat "$VALUE_DIR/$1"
`;

async function genericScript(spec: ConnectionSpec, workdir: string, ctx: ConnectorContext): Promise<string> {
  const values = await genericAttributes(spec, ctx);
  const dir = connectionDir(workdir);
  const valueDir = join(dir, "values");
  mkdirSync(valueDir, { mode: 0o700 });
  for (const [name, value] of Object.entries(values)) writeSecretFile(valueDir, name, pyStr(value));
  return writeScript(dir, "get-attr-value", CLI.replace("__VALUE_DIR__", shQuote(valueDir)));
}
