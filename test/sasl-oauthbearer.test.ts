// OAUTHBEARER with Kafka's default unsecured JWS validation, and KIP-368 sessions: librdkafka's unsecured
// tokens (kcat, confluent_kafka) log in; an expired token fails with the clients' authentication error;
// the session lifetime in SaslAuthenticate v1 is the shorter of connections.max.reauth.ms and the token's
// life; an expired session closes the connection at its next request; re-authentication on the same
// connection keeps it (raw, and librdkafka 2.15 doing it by itself), and may not change the principal.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { spawnBroker, type SpawnedBroker } from "./helpers/broker.ts";
import { CLIENTS_DIR, kcat, kcatConsume, pyScript, requireTools } from "./helpers/clients.ts";
import { until } from "./helpers/poll.ts";
import { run } from "./helpers/run.ts";
import {
  authenticateFrame,
  handshakeFrame,
  kcatArgs,
  plainJaas,
  plainLogin,
  readAuthenticate,
  readHandshake,
  SASL_AUTHENTICATION_FAILED,
} from "./helpers/sasl.ts";
import { tempDir, topicName, type TempDir } from "./helpers/tmp.ts";
import { int32, RawClient, requestFrame } from "./helpers/wire.ts";

setDefaultTimeout(90_000);

const REAUTH_MS = 5000;
let dir: TempDir;
let broker: SpawnedBroker;
/** OAUTHBEARER only, sessions unbounded by configuration */
let oauth: string;
/** PLAIN and OAUTHBEARER with connections.max.reauth.ms */
let bounded: string;

beforeAll(async () => {
  await requireTools();
  dir = await tempDir();
  broker = await spawnBroker({
    dataDir: dir.path,
    listenerCount: 2,
    env: { BROOK_LOG_LEVEL: "debug" },
    overrides: {
      listeners: "OAUTH://127.0.0.1:0,BOUNDED://127.0.0.1:0",
      "listener.security.protocol.map": "OAUTH:SASL_PLAINTEXT,BOUNDED:SASL_PLAINTEXT",
      "sasl.enabled.mechanisms": "OAUTHBEARER",
      "listener.name.bounded.sasl.enabled.mechanisms": "PLAIN,OAUTHBEARER",
      "listener.name.bounded.plain.sasl.jaas.config": plainJaas({ alice: "alice-secret", bob: "bob-secret" }),
      "listener.name.bounded.connections.max.reauth.ms": REAUTH_MS,
      "connection.failed.authentication.delay.ms": 0,
    },
  });
  [oauth, bounded] = broker.addresses as [string, string];
});

afterAll(async () => {
  await broker?.stop();
  await dir?.remove();
});

const b64url = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
const token = (claims: Record<string, unknown>, header: object = { alg: "none" }) => `${b64url(header)}.${b64url(claims)}.`;
const now = () => Date.now() / 1000;
const oauthToken = (t: string) => `n,,\x01auth=Bearer ${t}\x01\x01`;
const connect = (address: string) => {
  const [host, port] = address.split(":");
  return RawClient.connect(host!, Number(port));
};
const unsecured = (principal: string) => ({
  "security.protocol": "SASL_PLAINTEXT",
  "sasl.mechanisms": "OAUTHBEARER",
  "enable.sasl.oauthbearer.unsecure.jwt": "true",
  "sasl.oauthbearer.config": `principal=${principal}`,
});

describe("unsecured tokens", () => {
  test("kcat with librdkafka's unsecured JWT produces and consumes", async () => {
    const topic = topicName("oauth-kcat");
    await kcat(["-b", oauth, ...kcatArgs(unsecured("alice")), "-P", "-t", topic], { stdin: "bearer\n" });
    expect((await kcatConsume(oauth, topic, { extra: kcatArgs(unsecured("alice")) })).map((m) => m.payload)).toEqual(["bearer"]);
  });

  test("confluent_kafka with an expired token fails with the authentication error; a valid one works afterwards", async () => {
    const r = await pyScript("confluent_connect.py", { bootstrap: oauth, expired_token: "bob" }, { allowFailure: true });
    expect(r.summary.errors.join("\n")).toContain('SASL authentication error: {"status":"invalid_token"}');
    await until("the log line", () => broker.output().stderr.includes("was on or after the Expiration Time value"));
    const valid = await pyScript("confluent_connect.py", { bootstrap: oauth, config: unsecured("bob") });
    expect(valid.summary).toEqual({ errors: [], metadata: true });
  });

  const rejected: [string, string][] = [
    ["a signed token (alg HS256)", token({ sub: "a", exp: now() + 60 }, { alg: "HS256" })],
    ["no exp", token({ sub: "a" })],
    ["no sub", token({ exp: now() + 60 })],
    ["iat in the future", token({ sub: "a", iat: now() + 600, exp: now() + 1200 })],
  ];
  for (const [label, t] of rejected) {
    test(`rejected: ${label} (error challenge, then SASL_AUTHENTICATION_FAILED)`, async () => {
      const c = await connect(oauth);
      c.send(handshakeFrame("OAUTHBEARER"));
      expect((await readHandshake(c)).errorCode).toBe(0);
      c.send(authenticateFrame(oauthToken(t)));
      const challenge = await readAuthenticate(c);
      expect([challenge.errorCode, new TextDecoder().decode(challenge.authBytes)]).toEqual([0, '{"status":"invalid_token"}']);
      c.send(authenticateFrame(Uint8Array.of(1), 1, 3));
      const fail = await readAuthenticate(c);
      expect([fail.errorCode, fail.errorMessage]).toEqual([SASL_AUTHENTICATION_FAILED, '{"status":"invalid_token"}']);
      expect((await c.next()).kind).toBe("closed");
    });
  }
});

describe("sessions (KIP-368)", () => {
  test("the session lifetime is the shorter of connections.max.reauth.ms and the token's remaining life", async () => {
    const long = await connect(bounded);
    long.send(handshakeFrame("OAUTHBEARER"));
    await readHandshake(long);
    long.send(authenticateFrame(oauthToken(token({ sub: "alice", exp: now() + 3600 }))));
    expect((await readAuthenticate(long)).sessionLifetimeMs).toBe(BigInt(REAUTH_MS));
    long.close();
    const short = await connect(oauth); // no connections.max.reauth.ms: the token alone bounds the session
    short.send(handshakeFrame("OAUTHBEARER"));
    await readHandshake(short);
    short.send(authenticateFrame(oauthToken(token({ sub: "alice", exp: now() + 60 }))));
    const lifetime = Number((await readAuthenticate(short)).sessionLifetimeMs);
    expect(lifetime).toBeGreaterThan(50_000);
    expect(lifetime).toBeLessThanOrEqual(60_000);
    short.close();
  });

  test("an expired session closes the connection at its next request, with a log line", async () => {
    const c = await connect(bounded);
    const auth = await plainLogin(c, "alice", "alice-secret");
    const expiresAt = Date.now() + Number(auth.sessionLifetimeMs);
    c.send(requestFrame({ apiKey: 3, apiVersion: 1, correlationId: 10 }, int32(-1)));
    expect((await c.response()).int32()).toBe(10);
    await until("the session to expire", () => Date.now() > expiresAt + 50, REAUTH_MS + 10_000);
    c.send(requestFrame({ apiKey: 3, apiVersion: 1, correlationId: 11 }, int32(-1)));
    expect((await c.next()).kind).toBe("closed");
    await until("the log line", () => broker.output().stderr.includes("the SASL session of User:alice expired and was not re-authenticated"));
  });

  test("re-authentication keeps the connection past the first session; another principal is refused", async () => {
    const c = await connect(bounded);
    const first = await plainLogin(c, "alice", "alice-secret");
    const firstExpiry = Date.now() + Number(first.sessionLifetimeMs);
    await until("half the session", () => Date.now() > firstExpiry - REAUTH_MS / 2, REAUTH_MS + 10_000);
    const again = await plainLogin(c, "alice", "alice-secret");
    expect([again.errorCode, again.sessionLifetimeMs]).toEqual([0, BigInt(REAUTH_MS)]);
    await until("the first session's end", () => Date.now() > firstExpiry + 100, REAUTH_MS + 10_000);
    c.send(requestFrame({ apiKey: 3, apiVersion: 1, correlationId: 20 }, int32(-1)));
    expect((await c.response()).int32()).toBe(20);
    // A second re-authentication as someone else.
    await until("a second since the last re-authentication", () => Date.now() > firstExpiry - REAUTH_MS / 2 + 1100, 10_000);
    const other = await plainLogin(c, "bob", "bob-secret");
    expect([other.errorCode, other.errorMessage]).toEqual([SASL_AUTHENTICATION_FAILED, "Cannot change principals during re-authentication from User.alice: User.bob"]);
    expect((await c.next()).kind).toBe("closed");
  });

  test("librdkafka 2.15 re-authenticates by itself and keeps producing on its connection", async () => {
    const topic = topicName("reauth-librdkafka");
    const r = await run(["node", join(CLIENTS_DIR, "node", "reauth_produce.cjs")], {
      stdin: {
        bootstrap: bounded,
        topic,
        count: 16,
        interval_ms: 500,
        config: { "security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": "PLAIN", "sasl.username": "bob", "sasl.password": "bob-secret" },
      },
      timeoutMs: 60_000,
    });
    expect(JSON.parse(r.stdout.trim().split("\n").pop()!)).toEqual({ delivered: 16, errors: [] });
    expect(broker.output().stderr).toMatch(/re-authenticated as User:bob with PLAIN on listener BOUNDED/);
    expect(broker.output().stderr).not.toContain("the SASL session of User:bob expired");
  });
});
