/**
 * Git connections (`git`): git over SSH with a key from SSM (as `ssh`). The CLI wrapper is the original's:
 * GIT_SSH_COMMAND with the key and options, no system git config, no terminal prompts.
 */
import { installSshKey } from "./ssh.ts";
import { connectionDir, shQuote, writeScript } from "./scripts.ts";
import type { ConnectionSpec, Connector, ConnectorContext } from "./types.ts";

export const gitConnector: Connector = { types: ["git"], cliScript: gitScript };

async function gitScript(spec: ConnectionSpec, workdir: string, ctx: ConnectorContext): Promise<string> {
  const dir = connectionDir(workdir);
  const { keyFile, options } = await installSshKey(spec, dir, ctx, gitConnector.types);
  const sshCommand = ["ssh", options, `-i ${shQuote(keyFile)}`].filter(Boolean).join(" ");
  const body = ["export GIT_CONFIG_NOSYSTEM=1", `export GIT_SSH_COMMAND=${shQuote(sshCommand)}`, "export GIT_TERMINAL_PROMPT=0", 'git "$@"'].join("\n");
  return writeScript(dir, "git", body);
}
