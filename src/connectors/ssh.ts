/**
 * SSH family connections (`ssh`, `scp`, `sftp`): a private key in an SSM parameter (`ssh_key`; commas stand
 * for line breaks, no passphrase) and `ssh_options`. The CLI wrapper is the original's
 * `<type> -o OPT … -i <0600 key file> "$@"`.
 */
import { connectionError, connectionParameter } from "./params.ts";
import { connectionDir, shQuote, writeScript, writeSecretFile } from "./scripts.ts";
import { checkConnection } from "./spec.ts";
import type { ConnectionSpec, Connector, ConnectorContext } from "./types.ts";

export const sshConnector: Connector = { types: ["ssh", "scp", "sftp"], cliScript: sshScript };

/** Checks the item, installs its key in `dir`; returns the key file and the `-o` options. */
export async function installSshKey(spec: ConnectionSpec, dir: string, ctx: ConnectorContext, types: readonly string[]): Promise<{ keyFile: string; options: string }> {
  checkConnection(spec, ctx.realm, types, ["ssh_key"], null);
  const options = spec.ssh_options ?? [];
  if (!Array.isArray(options) || options.some((o) => typeof o !== "string")) throw connectionError(spec, ctx, "ssh_options must be a list of strings");
  const key = (await connectionParameter(spec, ctx, spec.ssh_key, "ssh_key")).replace(/,/g, "\n");
  const keyFile = writeSecretFile(dir, "ssh.pem", `${key}\n`);
  return { keyFile, options: (options as string[]).map((o) => `-o ${shQuote(o)}`).join(" ") };
}

async function sshScript(spec: ConnectionSpec, workdir: string, ctx: ConnectorContext): Promise<string> {
  const dir = connectionDir(workdir);
  const { keyFile, options } = await installSshKey(spec, dir, ctx, sshConnector.types);
  const command = [spec.type, options, `-i ${shQuote(keyFile)}`].filter(Boolean).join(" ");
  return writeScript(dir, spec.type, `${command} "$@"`);
}
