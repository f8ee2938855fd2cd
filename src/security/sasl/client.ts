// The client side of SASL, for Brook's own tools (src/client.ts): PLAIN, SCRAM-SHA-256/512 and
// OAUTHBEARER with a given token. Each is a function from the server's last token to the next client
// token, ending with the verification of SCRAM's server signature.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { hash, hmac, saltedPassword, scramMechanism, SCRAM_MIN_ITERATIONS } from "../scram.ts";
import { encodeSaslName } from "./scram.ts";
import { strictUtf8, utf8 } from "./mechanism.ts";

export interface SaslCredentials {
  mechanism: string;
  username?: string;
  password?: string;
  /** OAUTHBEARER: the bearer token */
  token?: string;
}

export interface SaslClient {
  /** The first token (all mechanisms here send first). */
  first(): Uint8Array;
  /** The next token for a server token, or null when the exchange is complete on the client's side. */
  next(server: Uint8Array): Uint8Array | null;
}

export function saslClient(c: SaslCredentials): SaslClient {
  switch (c.mechanism) {
    case "PLAIN":
      return {
        first: () => utf8.encode(`\0${c.username ?? ""}\0${c.password ?? ""}`),
        next: () => null,
      };
    case "OAUTHBEARER":
      return {
        first: () => utf8.encode(`n,,\x01auth=Bearer ${c.token ?? ""}\x01\x01`),
        next: (server) => (server.length > 0 ? Uint8Array.of(0x01) : null), // acknowledge an error challenge
      };
    case "SCRAM-SHA-256":
    case "SCRAM-SHA-512":
      return scramClient(c);
    default:
      throw new Error(`SASL mechanism ${c.mechanism} is not supported by this client`);
  }
}

function scramClient(c: SaslCredentials): SaslClient {
  const m = scramMechanism(c.mechanism)!;
  const cnonce = randomBytes(24).toString("base64").replace(/[+/=]/g, "x");
  const bare = `n=${encodeSaslName(c.username ?? "")},r=${cnonce}`;
  let expectedServerSignature: Uint8Array | null = null;
  return {
    first: () => utf8.encode(`n,,${bare}`),
    next(serverToken) {
      const server = strictUtf8.decode(serverToken);
      const attrs = new Map(server.split(",").map((a) => [a.slice(0, 1), a.slice(2)]));
      if (expectedServerSignature) {
        if (attrs.has("e")) throw new Error(`SCRAM authentication failed: ${attrs.get("e")}`);
        const v = new Uint8Array(Buffer.from(attrs.get("v") ?? "", "base64"));
        if (v.length !== expectedServerSignature.length || !timingSafeEqual(v, expectedServerSignature))
          throw new Error("SCRAM authentication failed: the server's signature does not match (not the server holding this credential)");
        return null;
      }
      const nonce = attrs.get("r") ?? "";
      const salt = new Uint8Array(Buffer.from(attrs.get("s") ?? "", "base64"));
      const iterations = Number(attrs.get("i"));
      if (!nonce.startsWith(cnonce) || nonce.length <= cnonce.length) throw new Error("SCRAM: the server nonce does not extend the client nonce");
      if (!Number.isInteger(iterations) || iterations < SCRAM_MIN_ITERATIONS) throw new Error(`SCRAM: refusing ${attrs.get("i")} iterations`);
      const salted = saltedPassword(m, c.password ?? "", salt, iterations);
      const clientKey = hmac(m, salted, "Client Key");
      const withoutProof = `c=biws,r=${nonce}`;
      const authMessage = `${bare},${server},${withoutProof}`;
      const signature = hmac(m, hash(m, clientKey), authMessage);
      const proof = clientKey.map((b, i) => b ^ signature[i]!);
      expectedServerSignature = hmac(m, hmac(m, salted, "Server Key"), authMessage);
      return utf8.encode(`${withoutProof},p=${Buffer.from(proof).toString("base64")}`);
    },
  };
}
