// SASL/OAUTHBEARER (RFC 7628) with Kafka's default server-side validation, the unsecured JWS
// (OAuthBearerUnsecuredValidatorCallbackHandler): a token "header.claims." whose header says alg "none",
// with a string principal claim (sub, or unsecuredValidatorPrincipalClaimName), a numeric exp that has not
// passed, an iat (if any) not in the future and before exp, and the required scope (if configured), each
// with unsecuredValidatorAllowableClockSkewMs. A rejected token is answered as RFC 7628 says: an error
// challenge {"status":"invalid_token"}; the client acknowledges with a single 0x01 and the exchange then
// fails with that message. The session ends when the token expires (KIP-368).
import { SaslFailure, strictUtf8, utf8, type SaslServer } from "./mechanism.ts";

export interface OAuthBearerOptions {
  principalClaim: string;
  scopeClaim: string;
  requiredScope: string[];
  clockSkewMs: number;
}

class InvalidToken extends Error {
  constructor(
    message: string,
    readonly status = "invalid_token",
    readonly scope?: string,
  ) {
    super(message);
  }
}

function decodePart(part: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(part.replace(/-/g, "+").replace(/_/g, "/"), "base64").toString("utf8"));
  } catch {
    throw new InvalidToken("malformed Base64 URL encoded value or JSON");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new InvalidToken("malformed JSON");
  return json as Record<string, unknown>;
}

/** Validates an unsecured JWS; returns the principal and expiry (epoch ms). */
export function validateUnsecuredJws(token: string, o: OAuthBearerOptions, now = Date.now()): { principal: string; expiresAt: number } {
  if (token.includes("..")) throw new InvalidToken("Malformed compact serialization contains '..'");
  const parts = token.split(".");
  if (parts.length !== 3) throw new InvalidToken("Unsecured JWS compact serializations must have 3 dot-separated Base64URL-encoded values");
  const header = decodePart(parts[0]!);
  const claims = decodePart(parts[1]!);
  if (header.alg !== "none") throw new InvalidToken("Unsecured JWS must have 'none' for an algorithm");
  if (parts[2] !== "") throw new InvalidToken("Unsecured JWS must not contain a digital signature");
  const exp = claims.exp;
  if (exp === undefined) throw new InvalidToken("No expiration time in JWT");
  if (typeof exp !== "number") throw new InvalidToken("The 'exp' claim was not of type Number");
  const principal = claims[o.principalClaim];
  if (typeof principal !== "string" || principal.trim() === "") throw new InvalidToken(`No principal name in JWT claim: ${o.principalClaim}`);
  const expiresAt = Math.round(exp * 1000);
  const iat = claims.iat;
  if (iat !== undefined) {
    if (typeof iat !== "number") throw new InvalidToken("The 'iat' claim was not of type Number");
    const issuedAt = Math.round(iat * 1000);
    if (issuedAt > now + o.clockSkewMs)
      throw new InvalidToken(`The Issued At value (${issuedAt} ms) was after the indicated time (${now} ms) plus allowable clock skew (${o.clockSkewMs} ms)`);
    if (issuedAt >= expiresAt) throw new InvalidToken(`The Expiration Time time (${expiresAt} ms) was not after the Issued At time (${issuedAt} ms)`);
  }
  if (now >= expiresAt + o.clockSkewMs)
    throw new InvalidToken(`The indicated time (${now} ms) minus allowable clock skew (${o.clockSkewMs} ms) was on or after the Expiration Time value (${expiresAt} ms)`);
  if (o.requiredScope.length > 0) {
    const raw = claims[o.scopeClaim];
    const scope = new Set(typeof raw === "string" ? [raw.trim()] : Array.isArray(raw) ? raw.map((s) => String(s).trim()) : []);
    const missing = o.requiredScope.filter((s) => !scope.has(s));
    if (missing.length > 0) throw new InvalidToken(`The provided scope (${[...scope].join(" ")}) was missing a required scope value (${missing.join(" ")})`, "insufficient_scope", o.requiredScope.join(" "));
  }
  return { principal, expiresAt };
}

export function oauthBearerServer(options: OAuthBearerOptions): SaslServer {
  let complete = false;
  let user = "";
  let expiresAt: number | undefined;
  /** the error challenge sent for a rejected token, and why */
  let rejected: { message: string; detail: string } | null = null;
  return {
    mechanism: "OAUTHBEARER",
    get complete() {
      return complete;
    },
    get authorizationId() {
      return user;
    },
    get credentialExpiresAt() {
      return expiresAt;
    },
    evaluate(token) {
      if (rejected && token.length === 1 && token[0] === 0x01) throw new SaslFailure(rejected.detail, rejected.message);
      if (complete) throw new SaslFailure("OAUTHBEARER exchange already complete");
      let text: string;
      try {
        text = strictUtf8.decode(token);
      } catch {
        throw new SaslFailure("Invalid OAUTHBEARER client first message: not UTF-8");
      }
      // gs2-header "n,[a=authzid]," then \x01-separated key=value pairs, ending with \x01\x01.
      const m = /^n,(?:a=([^,]*))?,\x01((?:[A-Za-z]+=[\x21-\x7e \t\r\n]*\x01)*)\x01$/.exec(text);
      if (!m) throw new SaslFailure("Invalid OAUTHBEARER client first message");
      const authzid = (m[1] ?? "").replace(/=2C/g, ",").replace(/=3D/g, "=");
      const pairs = new Map(
        m[2]!
          .split("\x01")
          .filter((p) => p !== "")
          .map((p) => [p.slice(0, p.indexOf("=")), p.slice(p.indexOf("=") + 1)]),
      );
      const auth = /^([\w]+) +([-_.a-zA-Z0-9]+)$/.exec(pairs.get("auth") ?? "");
      if (!auth) throw new SaslFailure("Invalid OAUTHBEARER client first message: no auth=Bearer <token>");
      if (auth[1]!.toLowerCase() !== "bearer") throw new SaslFailure(`Invalid scheme in OAUTHBEARER client first message: ${auth[1]}`);
      let validated: { principal: string; expiresAt: number };
      try {
        validated = validateUnsecuredJws(auth[2]!, options);
      } catch (e) {
        if (!(e instanceof InvalidToken)) throw e;
        const message = JSON.stringify({ status: e.status, ...(e.scope ? { scope: e.scope } : {}) });
        rejected = { message, detail: `invalid token: ${e.message}` };
        return utf8.encode(message);
      }
      if (authzid !== "" && authzid !== validated.principal)
        throw new SaslFailure(
          `authorization id ${JSON.stringify(authzid)} differs from the token's principal ${JSON.stringify(validated.principal)}`,
          `Authentication failed: Client requested an authorization id (${authzid}) that is different from the token's principal name (${validated.principal})`,
        );
      user = validated.principal;
      expiresAt = validated.expiresAt;
      complete = true;
      return new Uint8Array(0);
    },
  };
}
