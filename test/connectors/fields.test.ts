/** smb, sharepoint and docker connections: fields, validation and credentials (their job types come later). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { resolveSmbConnection } from "../../src/connectors/smb.ts";
import { resolveSharepointConnection } from "../../src/connectors/sharepoint.ts";
import { parseDockerConnection, registryLogin } from "../../src/connectors/docker.ts";
import { connectorTypes } from "../../src/connectors/registry.ts";
import { openConnHarness, rejection, type ConnHarness } from "./support.ts";

let h: ConnHarness;
beforeAll(async () => {
  h = await openConnHarness();
  h.ports.local.putParameter("/lava/test/smbpw", "smb-password-1", { secure: true });
  h.ports.local.putParameter("/lava/test/sppw", "sp-password-1", { secure: true });
  h.ports.local.putParameter("/lava/test/spsecret", "sp-client-secret-1", { secure: true });
  h.ports.local.putParameter("/lava/test/regpw", "registry-password-1", { secure: true });
});
afterAll(async () => {
  await h?.close();
});

test("every connection type of the issue has a connector", async () => {
  const types = "postgres psql postgres-rds postgres-aurora redshift redshift-serverless mysql mariadb mariadb-rds mysql-rds mysql-aurora oracle oracle-rds mssql sqlite3 aws generic git ssh scp sftp email ses slack smb sharepoint docker".split(" ");
  for (const type of types) {
    expect(connectorTypes[type]).toBeDefined();
    expect((await connectorTypes[type]!()).types).toContain(type);
  }
});

describe("smb", () => {
  const smb = { conn_id: "share", type: "smb", enabled: true, host: "files.example", remote_name: "FILES", user: "svc", password: "/lava/test/smbpw" };

  test("defaults: pysmb, NetBIOS port 139, my_name from the realm (15 characters), NTLMv2", async () => {
    expect(await resolveSmbConnection(smb, h.ctx())).toEqual({
      connId: "share",
      subtype: "pysmb",
      host: "files.example",
      port: 139,
      remoteName: "FILES",
      user: "svc",
      password: "smb-password-1",
      domain: "",
      myName: "lava-test",
      isDirectTcp: false,
      useNtlmV2: true,
      encrypt: false,
    });
    const direct = await resolveSmbConnection({ ...smb, is_direct_tcp: true, subtype: "smbprotocol", my_name: "a-very-long-netbios-name" }, h.ctx());
    expect([direct.port, direct.subtype, direct.myName]).toEqual([445, "smbprotocol", "a-very-long-net"]);
  });

  test("bad input names the connection", async () => {
    expect((await rejection(resolveSmbConnection({ ...smb, subtype: "cifs" }, h.ctx()))).message).toBe("Connection share: Unsupported connection type - smb = cifs");
    const { remote_name: _, ...noRemote } = smb;
    expect((await rejection(resolveSmbConnection(noRemote, h.ctx()))).message).toBe("Connection share: Missing keys: remote_name");
    expect((await rejection(resolveSmbConnection({ ...smb, colour: "red" }, h.ctx()))).message).toBe("Connection share: Unexpected keys: colour");
    expect((await rejection(resolveSmbConnection({ ...smb, enabled: false }, h.ctx()))).message).toBe("Connection share: Not enabled");
  });
});

describe("sharepoint", () => {
  const sp = {
    conn_id: "sp",
    type: "sharepoint",
    enabled: true,
    org_base_url: "example.sharepoint.com",
    site_name: "Team",
    tenant: "tenant-id",
    client_id: "client-id",
    client_secret: "/lava/test/spsecret",
    user: "bot@example.com",
    password: "/lava/test/sppw",
  };

  test("client secret and password from SSM", async () => {
    const conn = await resolveSharepointConnection({ ...sp, https_proxy: "http://proxy:3128" }, h.ctx());
    expect(conn).toMatchObject({ clientSecret: "sp-client-secret-1", password: "sp-password-1", siteName: "Team", httpsProxy: "http://proxy:3128" });
  });

  test("a missing field or the wrong type is refused", async () => {
    const { tenant: _, ...noTenant } = sp;
    expect((await rejection(resolveSharepointConnection(noTenant, h.ctx()))).message).toBe("Connection sp: Missing keys: tenant");
    expect((await rejection(resolveSharepointConnection({ ...sp, type: "smb" }, h.ctx()))).message).toBe('Connection sp: Must be of type "sharepoint" not "smb"');
  });
});

describe("docker", () => {
  const dk = { conn_id: "dk", type: "docker", enabled: true };

  test("fields: tls on by default, timeout checked", () => {
    expect(parseDockerConnection({ ...dk, server: "tcp://docker:2376", timeout: 30 }, h.ctx())).toEqual({ connId: "dk", server: "tcp://docker:2376", tls: true, timeoutSeconds: 30 });
    expect(() => parseDockerConnection({ ...dk, timeout: "soon" }, h.ctx())).toThrow("Connection dk: Bad timeout soon");
  });

  test("a registry login takes the password from SSM; ECR is not available yet", async () => {
    expect(await registryLogin({ ...dk, registry: "registry.example:5000", user: "ci", password: "/lava/test/regpw" }, h.ctx())).toEqual({
      registry: "registry.example:5000",
      username: "ci",
      password: "registry-password-1",
    });
    expect(await registryLogin(dk, h.ctx())).toBeUndefined();
    expect((await rejection(registryLogin({ ...dk, registry: "registry.example", password: "/lava/test/regpw" }, h.ctx()))).message).toBe("Connection dk: Missing keys: user");
    expect((await rejection(registryLogin({ ...dk, registry: "ecr:123456789012" }, h.ctx()))).message).toStartWith("Connection dk: ECR registry logins come with the docker job type");
  });
});
