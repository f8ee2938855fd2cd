// The security building blocks on their own: SCRAM against RFC 7677's published SCRAM-SHA-256 exchange,
// Brook's SCRAM client against its server, the JAAS syntax Kafka's sasl.jaas.config takes, and the
// unsecured-JWS validation rules.
import { describe, expect, test } from "bun:test";
import { ConfigError } from "../src/config.ts";
import { parseJaasConfig } from "../src/security/jaas.ts";
import { saslClient } from "../src/security/sasl/client.ts";
import { SaslFailure } from "../src/security/sasl/mechanism.ts";
import { validateUnsecuredJws } from "../src/security/sasl/oauthbearer.ts";
import { scramServer } from "../src/security/sasl/scram.ts";
import { credentialFromPassword, credentialFromSaltedPassword, saltedPassword, scramMechanism } from "../src/security/scram.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

describe("SCRAM", () => {
  test("RFC 7677 section 3: the server side of the published SCRAM-SHA-256 exchange", () => {
    const m = scramMechanism("SCRAM-SHA-256")!;
    const salt = new Uint8Array(Buffer.from("W22ZaJ0SNY7soEsUEjb6gQ==", "base64"));
    const credential = credentialFromSaltedPassword(m, salt, saltedPassword(m, "pencil", salt, 4096), 4096);
    const server = scramServer(m, (u) => (u === "user" ? credential : undefined), () => "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
    expect(dec(server.evaluate(enc("n,,n=user,r=rOprNGfwEbeRWgbNEkqO")))).toBe(
      "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
    );
    expect(dec(server.evaluate(enc("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")))).toBe(
      "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
    );
    expect([server.complete, server.authorizationId]).toEqual([true, "user"]);
  });

  test("a wrong proof, a changed nonce or channel binding, and unknown users fail", () => {
    const m = scramMechanism("SCRAM-SHA-512")!;
    const credential = credentialFromPassword(m, "right", 4096);
    const start = () => {
      const server = scramServer(m, (u) => (u === "a,b=c" ? credential : undefined));
      const first = dec(server.evaluate(enc("n,,n=a=2Cb=3Dc,r=abc")));
      return { server, nonce: /^r=([^,]+)/.exec(first)![1]! };
    };
    const { server, nonce } = start();
    expect(() => server.evaluate(enc(`c=biws,r=${nonce},p=${Buffer.alloc(64).toString("base64")}`))).toThrow(SaslFailure);
    const s2 = start();
    expect(() => s2.server.evaluate(enc(`c=biws,r=${s2.nonce}x,p=${Buffer.alloc(64).toString("base64")}`))).toThrow("Invalid client nonce");
    const s3 = start();
    expect(() => s3.server.evaluate(enc(`c=eSws,r=${s3.nonce},p=${Buffer.alloc(64).toString("base64")}`))).toThrow("channel binding");
    expect(() => scramServer(m, () => undefined).evaluate(enc("n,,n=nobody,r=abc"))).toThrow('no SCRAM-SHA-512 credential for user "nobody"');
    expect(() => scramServer(m, () => credential).evaluate(enc("p=tls-unique,,n=a,r=abc"))).toThrow("channel binding is not supported");
  });

  for (const name of ["SCRAM-SHA-256", "SCRAM-SHA-512"]) {
    test(`Brook's client and server agree (${name}), and the client checks the server's signature`, () => {
      const m = scramMechanism(name)!;
      const credential = credentialFromPassword(m, "pw, with = signs", 4096);
      const server = scramServer(m, () => credential);
      const client = saslClient({ mechanism: name, username: "u=1", password: "pw, with = signs" });
      const final = client.next(server.evaluate(client.first()))!;
      expect(client.next(server.evaluate(final))).toBeNull();
      expect([server.complete, server.authorizationId]).toEqual([true, "u=1"]);
      // A server that does not hold the credential cannot forge the signature.
      const impostor = saslClient({ mechanism: name, username: "u", password: "pw" });
      const other = scramServer(m, () => credentialFromPassword(m, "pw", 4096));
      impostor.next(other.evaluate(impostor.first()));
      expect(() => impostor.next(enc("v=" + Buffer.alloc(m.keyLength).toString("base64")))).toThrow("server's signature does not match");
    });
  }
});

describe("JAAS configuration", () => {
  test("entries, flags, quoted values with escapes, bare words and comments", () => {
    const entries = parseJaasConfig(
      `org.apache.kafka.common.security.plain.PlainLoginModule required
         user_alice="a \\"quoted\\" secret" /* a comment */ user_bob=bare-word;
       com.example.Other optional // trailing comment
         key="v";`,
      "p",
    );
    expect(entries.map((e) => [e.loginModule, e.flag, Object.fromEntries(e.options)])).toEqual([
      ["org.apache.kafka.common.security.plain.PlainLoginModule", "required", { user_alice: 'a "quoted" secret', user_bob: "bare-word" }],
      ["com.example.Other", "optional", { key: "v" }],
    ]);
  });

  for (const [label, text] of [
    ["no flag", "Module user_a=\"b\";"],
    ["no semicolon", 'Module required user_a="b"'],
    ["an unterminated string", 'Module required user_a="b;'],
    ["an option without a value", "Module required user_a=;"],
    ["nothing", "   "],
  ]) {
    test(`refused: ${label}`, () => {
      expect(() => parseJaasConfig(text!, "p")).toThrow(ConfigError);
    });
  }
});

describe("unsecured JWS validation", () => {
  const o = { principalClaim: "sub", scopeClaim: "scope", requiredScope: [], clockSkewMs: 0 };
  const b64 = (x: object) => Buffer.from(JSON.stringify(x)).toString("base64url");
  const jws = (claims: object) => `${b64({ alg: "none" })}.${b64(claims)}.`;
  const now = 1_800_000_000_000;

  test("a valid token gives the principal and its expiry", () => {
    expect(validateUnsecuredJws(jws({ sub: "alice", iat: now / 1000 - 10, exp: now / 1000 + 60 }), o, now)).toEqual({ principal: "alice", expiresAt: now + 60_000 });
  });

  test("expiry with clock skew, the principal claim name, required scope", () => {
    const t = jws({ sub: "alice", exp: now / 1000 - 1 });
    expect(() => validateUnsecuredJws(t, o, now)).toThrow("on or after the Expiration Time");
    expect(validateUnsecuredJws(t, { ...o, clockSkewMs: 5000 }, now).principal).toBe("alice");
    expect(validateUnsecuredJws(jws({ user: "bob", exp: now / 1000 + 5 }), { ...o, principalClaim: "user" }, now).principal).toBe("bob");
    expect(() => validateUnsecuredJws(jws({ sub: "a", exp: now / 1000 + 5, scope: ["x"] }), { ...o, requiredScope: ["kafka"] }, now)).toThrow("missing a required scope");
    expect(validateUnsecuredJws(jws({ sub: "a", exp: now / 1000 + 5, scope: ["kafka", "x"] }), { ...o, requiredScope: ["kafka"] }, now).principal).toBe("a");
  });
});
