#!/usr/bin/env node
// npm `bin` shim: run the TypeScript entry point under the Bun installed as a dev dependency,
// keeping the name we were invoked by so multi-call names (lava-worker, ...) still work.
const { spawnSync } = require("node:child_process");
const path = require("node:path");
const root = path.resolve(__dirname, "..");
const bun = path.join(root, "node_modules", ".bin", "bun");
const entry = path.join(root, "src", "main.ts");
const res = spawnSync(bun, [entry, ...process.argv.slice(2)], {
  stdio: "inherit",
  env: { ...process.env, LAVA_ARGV0: path.basename(process.argv[1] || "lava") },
});
process.exit(res.status === null ? 1 : res.status);
