/**
 * A stand-in for KMS, for `secure` state items, SecureString parameters and secrets of a local realm
 * (services.ts seals those at rest). NOT real key management: the master
 * key is a file (`<home>/kms.key`, mode 0600) next to the data it protects, so anyone who can read the
 * home can decrypt. It keeps secure values out of plain sight in the database and makes the round trip
 * behave like KMS: the ciphertext names its key id, and decrypt needs no key id.
 *
 * Format: "LKMS1" | key-id length (1 byte) | key id (UTF-8) | 12-byte IV | AES-256-GCM ciphertext+tag.
 * Each key id gets its own AES key, derived from the master key with HKDF-SHA256 (info = key id), and
 * the header is authenticated as additional data, so a blob cannot be relabelled with another key id.
 */
import { linkSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ValidationError } from "../../ports/errors.ts";

const MAGIC = Buffer.from("LKMS1");
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * node:crypto on first use: its module loads node:stream, ~5 ms of every local command's start, and most
 * commands seal nothing.
 */
const nodeCrypto = () => process.getBuiltinModule("node:crypto");

/** Synchronous (node:crypto), so values can be sealed inside a database transaction. */
export class LocalKms {
  private readonly keys = new Map<string, Buffer>();
  private master: Buffer | undefined;

  constructor(private readonly home: string) {}

  async encrypt(keyId: string, plaintext: Uint8Array): Promise<Uint8Array> {
    return this.encryptSync(keyId, plaintext);
  }

  async decrypt(ciphertext: Uint8Array): Promise<Uint8Array> {
    return this.decryptSync(ciphertext);
  }

  encryptSync(keyId: string, plaintext: Uint8Array): Uint8Array {
    const id = Buffer.from(keyId, "utf8");
    if (id.length === 0 || id.length > 255) throw new ValidationError("KMS key id must be 1-255 bytes");
    const iv = nodeCrypto().randomBytes(IV_BYTES);
    const header = Buffer.concat([MAGIC, Buffer.from([id.length]), id, iv]);
    const cipher = nodeCrypto().createCipheriv("aes-256-gcm", this.key(keyId), iv).setAAD(header);
    const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return new Uint8Array(Buffer.concat([header, sealed]));
  }

  decryptSync(ciphertext: Uint8Array): Uint8Array {
    const blob = Buffer.from(ciphertext);
    if (!isLocalCiphertext(blob)) throw new ValidationError("not a local KMS ciphertext");
    const idLength = blob[MAGIC.length]!;
    const headerLength = MAGIC.length + 1 + idLength + IV_BYTES;
    if (blob.length < headerLength + TAG_BYTES) throw new ValidationError("local KMS ciphertext is truncated");
    const keyId = blob.subarray(MAGIC.length + 1, MAGIC.length + 1 + idLength).toString("utf8");
    const header = blob.subarray(0, headerLength);
    const iv = blob.subarray(headerLength - IV_BYTES, headerLength);
    try {
      const decipher = nodeCrypto().createDecipheriv("aes-256-gcm", this.key(keyId), iv).setAAD(header);
      decipher.setAuthTag(blob.subarray(blob.length - TAG_BYTES));
      return new Uint8Array(Buffer.concat([decipher.update(blob.subarray(headerLength, blob.length - TAG_BYTES)), decipher.final()]));
    } catch (err) {
      throw new ValidationError("local KMS ciphertext does not decrypt with this home's key", { cause: err });
    }
  }

  /** The AES key of `keyId`: HKDF-SHA256 of the master key, no salt, info = key id. */
  private key(keyId: string): Buffer {
    let key = this.keys.get(keyId);
    if (!key) {
      key = Buffer.from(nodeCrypto().hkdfSync("sha256", this.masterKey(), new Uint8Array(0), Buffer.from(keyId, "utf8"), 32));
      this.keys.set(keyId, key);
    }
    return key;
  }

  private masterKey(): Buffer {
    this.master ??= loadOrCreateKeyFile(join(this.home, "kms.key"));
    return this.master;
  }
}

/** Whether `blob` starts like a local KMS ciphertext. */
export function isLocalCiphertext(blob: Uint8Array): boolean {
  return blob.length > MAGIC.length && Buffer.from(blob.subarray(0, MAGIC.length)).equals(MAGIC);
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
  const tmp = `${path}.${process.pid}.${nodeCrypto().randomBytes(4).toString("hex")}`;
  writeFileSync(tmp, nodeCrypto().randomBytes(32), { mode: 0o600 });
  try {
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
  return readFileSync(path);
}
