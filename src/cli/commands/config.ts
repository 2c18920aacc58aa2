/** `lava config`: every configuration variable with its value and where the value came from. */
import { defineCommand } from "./index.ts";
import { CONFIG_VARS, LavaConfig } from "../../core/config.ts";
import { backendArgs, readRealmConfig, realmArgs, str, withPorts } from "../common.ts";

export default defineCommand({
  meta: { description: "Print configuration variables: NAME=value (source). With a realm, its config map is applied" },
  args: {
    ...realmArgs,
    ...backendArgs,
    check: { type: "boolean", description: "Only check that every value converts to its type (status 1 if not)" },
    markdown: { type: "boolean", description: "Print the documentation of every variable (docs/CONFIG.md)" },
  },
  async run({ args }) {
    if (args.markdown) {
      const { renderConfigDoc } = await import("../../core/config-doc.ts");
      process.stdout.write(renderConfigDoc());
      return 0;
    }
    const realm = str(args.realm) ?? str(process.env.LAVA_REALM);
    const realmConfig = realm ? await withPorts(args, (ports) => readRealmConfig(ports, realm)) : {};
    const config = new LavaConfig(realmConfig);
    const errors = config.validate();
    for (const e of errors) process.stderr.write(`lava config: ${e.message}\n`);
    if (args.check && errors.length === 0) process.stdout.write(`all ${CONFIG_VARS.length} variables valid\n`);
    if (!args.check) {
      for (const cv of CONFIG_VARS) {
        const r = config.resolve(cv.name);
        process.stdout.write(`${cv.name}=${r.value ?? ""} (${r.source})\n`);
      }
    }
    return errors.length ? 1 : 0;
  },
});
