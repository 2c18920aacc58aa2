/**
 * Credentials for the lite client, in the order of the SDK's default chain. The common cases are resolved
 * here without loading the SDK: static keys given by the caller, `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`
 * (skipped when a profile is named, as the SDK skips them), and a profile holding static keys. Anything
 * else (roles, SSO, web identity, credential_process, container and instance roles) is the SDK's chain,
 * imported only then.
 */
import type { Credentials } from "./sigv4.ts";
import { loadProfile, profileName, type ProfileData } from "./profile.ts";

export type CredentialSource = () => Promise<Credentials>;

/** Profile keys that make the SDK derive credentials rather than read them. */
const DERIVED = [
  "role_arn",
  "source_profile",
  "credential_source",
  "credential_process",
  "web_identity_token_file",
  "sso_session",
  "sso_start_url",
  "sso_account_id",
  "sso_role_name",
  "login_session",
];

export function staticProfileCredentials(data: ProfileData | undefined): Credentials | undefined {
  if (!data || DERIVED.some((k) => k in data)) return undefined;
  const accessKeyId = data.aws_access_key_id;
  const secretAccessKey = data.aws_secret_access_key;
  if (!accessKeyId || !secretAccessKey) return undefined;
  return { accessKeyId, secretAccessKey, ...(data.aws_session_token ? { sessionToken: data.aws_session_token } : {}) };
}

export function envCredentials(env: NodeJS.ProcessEnv): Credentials | undefined {
  if (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) return undefined;
  return {
    accessKeyId: env.AWS_ACCESS_KEY_ID,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
    ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
  };
}

export interface CredentialOptions {
  /** Keys the caller supplied (AwsSettings.credentials); used as they are. */
  explicit?: Credentials;
  /** `--profile`. */
  profile?: string;
  /** Where the SDK would look: `process.env`. */
  env: NodeJS.ProcessEnv;
  /** The profile's data when already read (region resolution reads it too). */
  profileData?: ProfileData;
}

/** A source of credentials; static ones resolve at once, the SDK chain on first call (memoised by the SDK). */
export function credentialSource(opts: CredentialOptions): CredentialSource {
  const fixed = resolveStatic(opts);
  if (fixed) return () => Promise.resolve(fixed);
  let chain: Promise<CredentialSource> | undefined;
  return async () => {
    chain ??= import("@aws-sdk/credential-provider-node").then(({ defaultProvider }) =>
      defaultProvider(opts.profile ? { profile: opts.profile } : {}),
    );
    const provider = await chain;
    return provider();
  };
}

function resolveStatic(opts: CredentialOptions): Credentials | undefined {
  if (opts.explicit) return opts.explicit;
  const named = opts.profile || opts.env.AWS_PROFILE;
  if (!named) {
    const fromEnv = envCredentials(opts.env);
    if (fromEnv) return fromEnv;
  }
  // The SDK tries SSO (only with SSO fields in its options, which lava never passes) and then the files.
  const data = opts.profileData ?? loadProfile(profileName(opts.profile, opts.env), opts.env);
  return staticProfileCredentials(data);
}
