/**
 * The shared config and credentials files (`~/.aws/config`, `~/.aws/credentials`), read the way the SDK
 * reads them: `[profile name]` (or `[default]`) sections in config, `[name]` in credentials, the
 * credentials file winning on a key both set. Only what the lite client needs is interpreted.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export type ProfileData = Record<string, string>;

/** Sections of one INI text; nested sub-keys (indented lines under `key =`) come out as `key.sub`. */
export function parseIni(text: string): Map<string, ProfileData> {
  const sections = new Map<string, ProfileData>();
  let current: ProfileData | undefined;
  let parent: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/^\s*[#;].*$/, "");
    if (!line.trim()) continue;
    const header = /^\s*\[([^\]]+)\]\s*(?:[#;].*)?$/.exec(line);
    if (header) {
      const name = header[1]!.trim();
      current = sections.get(name) ?? {};
      sections.set(name, current);
      parent = undefined;
      continue;
    }
    if (!current) continue;
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim().toLowerCase();
    const value = line.slice(eq + 1).trim();
    const nested = /^\s/.test(raw);
    if (nested && parent !== undefined) {
      current[`${parent}.${key}`] = value;
    } else {
      current[key] = value;
      parent = value === "" ? key : undefined;
    }
  }
  return sections;
}

function homeDir(env: NodeJS.ProcessEnv): string {
  return env.HOME || env.USERPROFILE || (env.HOMEDRIVE && env.HOMEPATH ? `${env.HOMEDRIVE}${env.HOMEPATH}` : "") || homedir();
}

function expandHome(path: string, env: NodeJS.ProcessEnv): string {
  return path.startsWith("~/") ? join(homeDir(env), path.slice(2)) : path;
}

function readOptional(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return ""; // a missing file is an empty one, as for the SDK
  }
}

/** `--profile`, else `AWS_PROFILE`, else `default`. */
export function profileName(explicit: string | undefined, env: NodeJS.ProcessEnv): string {
  return explicit || env.AWS_PROFILE || "default";
}

/** The merged settings of `profile` from both files (credentials file last), or undefined if neither has it. */
export function loadProfile(profile: string, env: NodeJS.ProcessEnv): ProfileData | undefined {
  const configPath = expandHome(env.AWS_CONFIG_FILE || join(homeDir(env), ".aws", "config"), env);
  const credentialsPath = expandHome(env.AWS_SHARED_CREDENTIALS_FILE || join(homeDir(env), ".aws", "credentials"), env);
  const config = parseIni(readOptional(configPath));
  const credentials = parseIni(readOptional(credentialsPath));
  // In the config file, a named profile is `[profile name]`; `default` may be either `[default]` or `[profile default]`.
  const fromConfig =
    profile === "default"
      ? { ...config.get("default"), ...config.get("profile default") }
      : config.get(`profile ${profile}`);
  const fromCredentials = credentials.get(profile);
  if (!fromConfig && !fromCredentials) return undefined;
  return { ...fromConfig, ...fromCredentials };
}
