import { afterEach, describe, expect, test } from "bun:test";
import { memoryLogger, redact } from "../../src/core/log.ts";
import { errorText } from "../../src/core/error-text.ts";
import { forgetSecrets, rememberSecret, rememberSecretFields, scrubDeep, scrubSecrets, trackSecrets } from "../../src/core/secrets.ts";
import type { Ports } from "../../src/ports/index.ts";

afterEach(forgetSecrets);

describe("known secret values", () => {
  test("a learnt value is cut from message text and from every string field of a log record", () => {
    rememberSecret("pa55-word-xyz");
    const log = memoryLogger();
    log.error("login failed for user bob with pa55-word-xyz at db:5432", { detail: { text: "again pa55-word-xyz" } });
    const rec = log.records[0]!;
    expect(rec.message).toBe("login failed for user bob with ******** at db:5432");
    expect(JSON.stringify(rec.fields)).not.toContain("pa55-word-xyz");
  });

  test("error text for events and results is scrubbed; structures are scrubbed at any depth", () => {
    rememberSecret("tok-123456789");
    expect(errorText(new Error("HTTP 401 for tok-123456789"))).toBe("HTTP 401 for ********");
    expect(scrubDeep({ a: [{ b: "x tok-123456789 y" }], n: 3 })).toEqual({ a: [{ b: "x ******** y" }], n: 3 });
  });

  test("a JSON secret (Secrets Manager) teaches its secret-named fields, not host or database names; short values are not learnt", () => {
    rememberSecret(JSON.stringify({ username: "dbadmin", password: "long-enough-pw", host: "db.internal", dbname: "postgres" }));
    rememberSecret("abc");
    expect(scrubSecrets("pw long-enough-pw, user dbadmin on db.internal/postgres, abc")).toBe("pw ********, user dbadmin on db.internal/postgres, abc");
  });

  test("connection fields: secret-named values are learnt, parameter and secret references are not", () => {
    rememberSecretFields({ conn_id: "c", webhook_url: "https://hooks.example/T/B/zzz", password: "/ssm/param/name", secret_id: "prod/db", ssh_key: "/ssm/ssh-key" });
    expect(scrubSecrets("post to https://hooks.example/T/B/zzz failed")).toBe("post to ******** failed");
    expect(scrubSecrets("cannot read /ssm/param/name, /ssm/ssh-key or prod/db")).toBe("cannot read /ssm/param/name, /ssm/ssh-key or prod/db");
  });

  test("trackSecrets learns decrypted parameters and secrets as they are read, not plain parameters", async () => {
    const values: Record<string, string> = { plain: "plain-value-1", secure: "secure-value-2", sec: "manager-value-3" };
    const ports = trackSecrets({
      backend: "local",
      params: {
        getParameter: async (name: string) => values[name]!,
        getSecret: async (id: string) => values[id]!,
        encrypt: async (_k: string, p: Uint8Array) => p,
        decrypt: async (c: Uint8Array) => c,
      },
    } as unknown as Ports);
    await ports.params.getParameter("plain");
    await ports.params.getParameter("secure", { decrypt: true });
    await ports.params.getSecret("sec");
    await ports.params.decrypt(new TextEncoder().encode(JSON.stringify("state-secret-4")));
    expect(scrubSecrets("plain-value-1 secure-value-2 manager-value-3 state-secret-4")).toBe("plain-value-1 ******** ******** ********");
    expect(trackSecrets(ports)).toBe(ports);
  });

  test("names the redaction list now covers", () => {
    expect(redact({ webhook_url: "u", url: "u", dsn: "d", connection_string: "c", conn_string: "c", queue: "q" })).toEqual({
      webhook_url: "********",
      url: "********",
      dsn: "********",
      connection_string: "********",
      conn_string: "********",
      queue: "q",
    });
  });
});
