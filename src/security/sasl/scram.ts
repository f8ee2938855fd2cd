// SASL/SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) as Kafka's ScramSaslServer serves them:
//   client-first  n,[a=authzid],n=user,r=cnonce[,ext=value...]
//   server-first  r=cnonce+snonce,s=salt,i=iterations
//   client-final  c=base64(gs2 header),r=nonce[,ext...],p=proof
//   server-final  v=server signature
// No channel binding ("p=..." is refused). Kafka's extension tokenauth=true asks for delegation-token
// credentials, which Brook does not have: such a login fails like an unknown user.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { SCRAM_MIN_ITERATIONS, hash, hmac, type ScramCredential, type ScramMechanismInfo } from "../scram.ts";
import { SaslFailure, strictUtf8, utf8, type SaslServer } from "./mechanism.ts";

const SASLNAME = /^(?:[^=,]|=2C|=3D)+$/;
const PRINTABLE = /^[\x21-\x2b\x2d-\x7e]+$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** SCRAM's saslname: ',' and '=' are escaped as =2C and =3D. */
export const decodeSaslName = (s: string) => s.replace(/=2C/g, ",").replace(/=3D/g, "=");
export const encodeSaslName = (s: string) => s.replace(/=/g, "=3D").replace(/,/g, "=2C");

export function scramServer(
  mechanism: ScramMechanismInfo,
  lookup: (user: string) => ScramCredential | undefined,
  /** the server's half of the nonce (random; fixed only by tests that replay RFC 7677's example) */
  serverNonce = () => randomBytes(24).toString("base64").replace(/[+/=]/g, "x"),
): SaslServer {
  let step: "first" | "final" | "complete" = "first";
  let user = "";
  let gs2Header = "";
  let clientFirstBare = "";
  let serverFirst = "";
  let nonce = "";
  let credential: ScramCredential | undefined;

  const fail = (detail: string, clientMessage?: string): never => {
    throw new SaslFailure(detail, clientMessage);
  };
  const text = (token: Uint8Array): string => {
    try {
      return strictUtf8.decode(token);
    } catch {
      return fail(`${mechanism.name} message is not UTF-8`);
    }
  };

  function clientFirst(message: string): Uint8Array {
    // gs2-header: the channel-binding flag and an optional authorization id.
    const m = /^([ny]),(?:a=([^,]*))?,(.*)$/s.exec(message);
    if (!m) {
      if (message.startsWith("p=")) fail(`${mechanism.name}: channel binding is not supported`);
      fail(`invalid ${mechanism.name} client-first message`);
    }
    gs2Header = message.slice(0, message.length - m![3]!.length);
    const authzid = m![2] !== undefined ? decodeSaslName(m![2]) : "";
    clientFirstBare = m![3]!;
    const attrs = clientFirstBare.split(",");
    if (attrs[0]?.startsWith("m=")) fail(`${mechanism.name}: mandatory extensions are not supported`);
    const name = attrs[0]?.startsWith("n=") ? attrs[0].slice(2) : null;
    const cnonce = attrs[1]?.startsWith("r=") ? attrs[1].slice(2) : null;
    if (name === null || !SASLNAME.test(name) || cnonce === null || !PRINTABLE.test(cnonce)) fail(`invalid ${mechanism.name} client-first message`);
    user = decodeSaslName(name!);
    const extensions = new Map(attrs.slice(2).map((a) => [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]));
    if (extensions.get("tokenauth") === "true") fail(`delegation-token login for ${JSON.stringify(user)}: Brook has no delegation tokens`);
    credential = lookup(user);
    if (!credential) fail(`no ${mechanism.name} credential for user ${JSON.stringify(user)}`);
    if (credential!.iterations < SCRAM_MIN_ITERATIONS)
      fail(`Iterations ${credential!.iterations} is less than the minimum ${SCRAM_MIN_ITERATIONS} for ${mechanism.name}`);
    if (authzid !== "" && authzid !== user)
      fail(
        `authorization id ${JSON.stringify(authzid)} differs from user ${JSON.stringify(user)}`,
        "Authentication failed: Client requested an authorization id that is different from username",
      );
    nonce = cnonce! + serverNonce();
    serverFirst = `r=${nonce},s=${Buffer.from(credential!.salt).toString("base64")},i=${credential!.iterations}`;
    step = "final";
    return utf8.encode(serverFirst);
  }

  function clientFinal(message: string): Uint8Array {
    const proofAt = message.lastIndexOf(",p=");
    if (proofAt < 0) fail(`invalid ${mechanism.name} client-final message`);
    const withoutProof = message.slice(0, proofAt);
    const proofB64 = message.slice(proofAt + 3);
    const attrs = withoutProof.split(",");
    const channel = attrs[0]?.startsWith("c=") ? attrs[0].slice(2) : null;
    const finalNonce = attrs[1]?.startsWith("r=") ? attrs[1].slice(2) : null;
    if (channel === null || finalNonce === null || !BASE64.test(proofB64) || !BASE64.test(channel)) fail(`invalid ${mechanism.name} client-final message`);
    if (Buffer.from(channel!, "base64").toString("latin1") !== gs2Header) fail(`${mechanism.name}: channel binding data does not match the client-first message`);
    // endsWith, as Kafka checks: librdkafka sends its own nonce again in front of the combined one.
    if (!finalNonce!.endsWith(nonce)) fail("Invalid client nonce in the final client message.");
    const proof = new Uint8Array(Buffer.from(proofB64, "base64"));
    const c = credential!;
    if (proof.length !== c.storedKey.length) fail(`invalid ${mechanism.name} client proof for user ${JSON.stringify(user)}`);
    const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
    const clientSignature = hmac(mechanism, c.storedKey, authMessage);
    const clientKey = proof.map((b, i) => b ^ clientSignature[i]!);
    if (!timingSafeEqual(hash(mechanism, clientKey), c.storedKey)) fail(`invalid ${mechanism.name} credentials for user ${JSON.stringify(user)}`);
    step = "complete";
    return utf8.encode(`v=${Buffer.from(hmac(mechanism, c.serverKey, authMessage)).toString("base64")}`);
  }

  return {
    mechanism: mechanism.name,
    get complete() {
      return step === "complete";
    },
    get authorizationId() {
      return user;
    },
    evaluate(token) {
      if (step === "first") return clientFirst(text(token));
      if (step === "final") return clientFinal(text(token));
      return fail(`${mechanism.name} exchange already complete`);
    },
  };
}
