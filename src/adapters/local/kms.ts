/**
 * A stand-in for KMS, for `secure` state items in a local realm. NOT real key management: the master
 * key is a file (`<home>/kms.key`, mode 0600) next to the data it protects, so anyone who can read the
 * home can decrypt. It keeps secure values out of plain sight in the database and makes the round trip
 * behave like KMS: the ciphertext names its key id, and decrypt needs no key id.
 *
 * Format: "LKMS1" | key-id length (1 byte) | key id (UTF-8) | 12-byte IV | AES-256-GCM ciphertext+tag.
 * Each key id gets its own AES key, derived from the master key with HKDF-SHA256 (info = key id), and
 * the header is authenticated as additional data, so a blob cannot be relabelled with another key id.
 */
import { randomBytes } from "node:crypto";
import { linkSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ValidationError } from "../../ports/errors.ts";

const MAGIC = Buffer.from("LKMS1");
const IV_BYTES = 12;

export class LocalKms {
  private readonly keys = new Map<string, Promise<CryptoKey>>();
  private master: Promise<CryptoKey> | undefined;

  constructor(private readonly home: string) {}

  async encrypt(keyId: string, plaintext: Uint8Array): Promise<Uint8Array> {
    const id = Buffer.from(keyId, "utf8");
    if (id.length === 0 || id.length > 255) throw new ValidationError("KMS key id must be 1-255 bytes");
    const iv = randomBytes(IV_BYTES);
    const header = Buffer.concat([MAGIC, Buffer.from([id.length]), id, iv]);
    const sealed = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: header },
      await this.key(keyId),
      new Uint8Array(plaintext),
    );
    return new Uint8Array(Buffer.concat([header, Buffer.from(sealed)]));
  }

  async decrypt(ciphertext: Uint8Array): Promise<Uint8Array> {
    const blob = Buffer.from(ciphertext);
    if (blob.length < MAGIC.length + 1 || !blob.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw new ValidationError("not a local KMS ciphertext");
    }
    const idLength = blob[MAGIC.length]!;
    const headerLength = MAGIC.length + 1 + idLength + IV_BYTES;
    if (blob.length < headerLength + 16) throw new ValidationError("local KMS ciphertext is truncated");
    const keyId = blob.subarray(MAGIC.length + 1, MAGIC.length + 1 + idLength).toString("utf8");
    const header = blob.subarray(0, headerLength);
    const iv = blob.subarray(headerLength - IV_BYTES, headerLength);
    try {
      const plain = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv, additionalData: header },
        await this.key(keyId),
        blob.subarray(headerLength),
      );
      return new Uint8Array(plain);
    } catch (err) {
      throw new ValidationError("local KMS ciphertext does not decrypt with this home's key", { cause: err });
    }
  }

  private key(keyId: string): Promise<CryptoKey> {
    let key = this.keys.get(keyId);
    if (!key) {
      key = this.masterKey().then((master) =>
        crypto.subtle.deriveKey(
          { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: Buffer.from(keyId, "utf8") },
          master,
          { name: "AES-GCM", length: 256 },
          false,
          ["encrypt", "decrypt"],
        ),
      );
      this.keys.set(keyId, key);
    }
    return key;
  }

  private masterKey(): Promise<CryptoKey> {
    this.master ??= crypto.subtle.importKey("raw", new Uint8Array(loadOrCreateKeyFile(join(this.home, "kms.key"))), "HKDF", false, ["deriveKey"]);
    return this.master;
  }
}

/**
 * Reads the master key, creating it on first use. Written to a temp file and hard-linked into place, so
 * processes racing to create it all end up reading the one complete file that won.
 */
function loadOrCreateKeyFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}`;
  writeFileSync(tmp, randomBytes(32), { mode: 0o600 });
  try {
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
  return readFileSync(path);
}
