// SCRAM (RFC 5802 / RFC 7677) as Kafka uses it: the two mechanisms with their Kafka type ids, and the
// derivation of a stored credential (salt, StoredKey, ServerKey, iterations) from a password or from a
// salted password (what AlterUserScramCredentials carries). The password itself is never kept.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";

export interface ScramMechanismInfo {
  readonly name: "SCRAM-SHA-256" | "SCRAM-SHA-512";
  /** the id in Describe/AlterUserScramCredentials */
  readonly type: number;
  readonly hash: "sha256" | "sha512";
  readonly keyLength: number;
}

export const SCRAM_MECHANISMS: readonly ScramMechanismInfo[] = [
  { name: "SCRAM-SHA-256", type: 1, hash: "sha256", keyLength: 32 },
  { name: "SCRAM-SHA-512", type: 2, hash: "sha512", keyLength: 64 },
];

/** Kafka's bounds on the iteration count (ScramMechanism.minIterations, ScramControlManager.MAX_ITERATIONS). */
export const SCRAM_MIN_ITERATIONS = 4096;
export const SCRAM_MAX_ITERATIONS = 16384;
/** kafka-configs.sh's default when iterations are not given */
export const SCRAM_DEFAULT_ITERATIONS = 4096;

export const scramMechanism = (name: string) => SCRAM_MECHANISMS.find((m) => m.name === name);
export const scramMechanismOfType = (type: number) => SCRAM_MECHANISMS.find((m) => m.type === type);

export interface ScramCredential {
  salt: Uint8Array;
  storedKey: Uint8Array;
  serverKey: Uint8Array;
  iterations: number;
}

export const hmac = (m: ScramMechanismInfo, key: Uint8Array, data: Uint8Array | string): Uint8Array =>
  new Uint8Array(createHmac(m.hash, key).update(data).digest());
export const hash = (m: ScramMechanismInfo, data: Uint8Array): Uint8Array => new Uint8Array(createHash(m.hash).update(data).digest());

/** Hi(password, salt, i): PBKDF2 with the mechanism's HMAC. Kafka takes the password's UTF-8 bytes as they are. */
export function saltedPassword(m: ScramMechanismInfo, password: string, salt: Uint8Array, iterations: number): Uint8Array {
  return new Uint8Array(pbkdf2Sync(Buffer.from(password, "utf8"), salt, iterations, m.keyLength, m.hash));
}

export function credentialFromSaltedPassword(m: ScramMechanismInfo, salt: Uint8Array, salted: Uint8Array, iterations: number): ScramCredential {
  const clientKey = hmac(m, salted, "Client Key");
  return { salt: Uint8Array.from(salt), storedKey: hash(m, clientKey), serverKey: hmac(m, salted, "Server Key"), iterations };
}

/** A new credential for a password, with a fresh random salt. */
export function credentialFromPassword(m: ScramMechanismInfo, password: string, iterations: number): ScramCredential {
  const salt = new Uint8Array(randomBytes(32));
  return credentialFromSaltedPassword(m, salt, saltedPassword(m, password, salt, iterations), iterations);
}
