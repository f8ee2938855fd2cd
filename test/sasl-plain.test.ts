// SASL/PLAIN on a SASL_PLAINTEXT listener, configured as in Kafka (sasl.enabled.mechanisms and the
// listener's PlainLoginModule JAAS entry): stock clients authenticate, produce and consume; wrong
// credentials fail with Kafka's error and message and leave the broker serving others; nothing but
// ApiVersions and the SASL exchange is served before authentication; the session's principal is the user.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { SaslHandshake } from "../protocol/apis/17-sasl-handshake.ts";
import { startBroker } from "../src/broker.ts";
import { ConfigError } from "../src/config.ts";
import { handler } from "../src/handlers/handler.ts";
import { buildRegistry, handlers } from "../src/handlers/index.ts";
import { spawnBroker, type SpawnedBroker } from "./helpers/broker.ts";
import {
  confluentConsume,
  confluentProduce,
  kafkaPythonConsume,
  kafkaPythonProduce,
  kcat,
  kcatConsume,
  requireTools,
} from "./helpers/clients.ts";
import { until } from "./helpers/poll.ts";
import {
  authenticateFrame,
  handshakeFrame,
  ILLEGAL_SASL_STATE,
  kcatArgs,
  plainJaas,
  plainLogin,
  rdkafkaSasl,
  readAuthenticate,
  readHandshake,
  SASL_AUTHENTICATION_FAILED,
  UNSUPPORTED_SASL_MECHANISM,
} from "./helpers/sasl.ts";
import { tempDir, topicName, type TempDir } from "./helpers/tmp.ts";
import { bytes, int32, RawClient, requestFrame } from "./helpers/wire.ts";

setDefaultTimeout(60_000);

const USERS = { alice: "alice-secret", bob: "bob secret with spaces" };
const FAILED_AUTH_DELAY_MS = 300;

let dir: TempDir;
let broker: SpawnedBroker;

beforeAll(async () => {
  await requireTools();
  dir = await tempDir();
  broker = await spawnBroker({
    dataDir: dir.path,
    overrides: {
      listeners: "SASL_PLAINTEXT://127.0.0.1:0",
      "sasl.enabled.mechanisms": "PLAIN",
      "listener.name.sasl_plaintext.plain.sasl.jaas.config": plainJaas(USERS),
      "connection.failed.authentication.delay.ms": FAILED_AUTH_DELAY_MS,
    },
  });
});

afterAll(async () => {
  await broker?.stop();
  await dir?.remove();
});

const as = (user: keyof typeof USERS, password: string = USERS[user]) => rdkafkaSasl("SASL_PLAINTEXT", "PLAIN", user, password);
const connect = () => RawClient.connect(broker.host, broker.port);

describe("stock clients", () => {
  test("kcat produces and consumes as alice", async () => {
    const topic = topicName("plain-kcat");
    await kcat(["-b", broker.address, ...kcatArgs(as("alice")), "-P", "-t", topic, "-K:"], { stdin: "k1:v1\nk2:v2\n" });
    const msgs = await kcatConsume(broker.address, topic, { extra: kcatArgs(as("alice")) });
    expect(msgs.map((m) => [m.key, m.payload])).toEqual([
      ["k1", "v1"],
      ["k2", "v2"],
    ]);
  });

  test("confluent_kafka produces and consumes as bob (a password with spaces)", async () => {
    const topic = topicName("plain-confluent");
    const p = await confluentProduce({ bootstrap: broker.address, topic, config: as("bob"), generate: { count: 20 } });
    expect(p.summary.delivered).toBe(20);
    const c = await confluentConsume({ bootstrap: broker.address, topic, config: as("bob") });
    expect(c.lines.map((m) => m.value)).toEqual(Array.from({ length: 20 }, (_, i) => `v${i}`));
  });

  test("kafka-python (SaslHandshake v0, bare tokens) produces and consumes", async () => {
    const topic = topicName("plain-kafka-python");
    const config = { security_protocol: "SASL_PLAINTEXT", sasl_mechanism: "PLAIN", sasl_plain_username: "alice", sasl_plain_password: USERS.alice };
    const p = await kafkaPythonProduce({ bootstrap: broker.address, topic, config, messages: [{ key: "a", value: "1" }, { key: "b", value: "2" }] });
    expect(p.summary.delivered).toBe(2);
    const c = await kafkaPythonConsume({ bootstrap: broker.address, topic, config });
    expect(c.lines.map((m) => [m.key, m.value])).toEqual([
      ["a", "1"],
      ["b", "2"],
    ]);
  });

  test("a wrong password and an unknown user fail with Kafka's message, and the broker goes on serving", async () => {
    for (const creds of [as("alice", "not-her-password"), rdkafkaSasl("SASL_PLAINTEXT", "PLAIN", "mallory", "x")]) {
      const r = await kcat(["-b", broker.address, ...kcatArgs(creds), "-L", "-m", "3"], { allowFailure: true });
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toContain("SASL authentication error: Authentication failed: Invalid username or password");
    }
    await until("the failures in the broker log", () => (broker.output().stderr.match(/failed authentication with 127\.0\.0\.1 on listener SASL_PLAINTEXT \(PLAIN\)/g) ?? []).length >= 2);
    expect(broker.output().stderr).not.toContain("not-her-password");
    const topic = topicName("plain-after-failures");
    await kcat(["-b", broker.address, ...kcatArgs(as("bob")), "-P", "-t", topic], { stdin: "still here\n" });
    expect((await kcatConsume(broker.address, topic, { extra: kcatArgs(as("bob")) })).map((m) => m.payload)).toEqual(["still here"]);
  });

  test("kafka-python with a wrong password gets no session", async () => {
    const config = {
      security_protocol: "SASL_PLAINTEXT",
      sasl_mechanism: "PLAIN",
      sasl_plain_username: "alice",
      sasl_plain_password: "wrong",
      max_block_ms: 3000,
    };
    const p = await kafkaPythonProduce({ bootstrap: broker.address, topic: topicName("plain-kp-wrong"), config, messages: [{ value: "x" }] }, { allowFailure: true });
    expect(p.run.exitCode).not.toBe(0);
  });
});

describe("the SASL exchange on the wire", () => {
  test("ApiVersions is served before authentication and lists SaslHandshake and SaslAuthenticate", async () => {
    const c = await connect();
    c.send(requestFrame({ apiKey: 18, apiVersion: 0, correlationId: 7 }, new Uint8Array(0)));
    const r = await c.response();
    expect(r.int32()).toBe(7);
    expect(r.int16()).toBe(0);
    const keys = new Map<number, [number, number]>();
    for (let n = r.int32(); n > 0; n--) keys.set(r.int16(), [r.int16(), r.int16()]);
    expect(keys.get(17)).toEqual([0, 1]);
    expect(keys.get(36)).toEqual([0, 2]);
    // Then the exchange.
    const auth = await plainLogin(c, "alice", USERS.alice);
    expect([auth.errorCode, auth.errorMessage, auth.sessionLifetimeMs]).toEqual([0, null, 0n]);
    c.close();
  });

  test("a request other than ApiVersions before authentication closes the connection, with a log line", async () => {
    const c = await connect();
    // Metadata v1 for all topics: topics = null array.
    c.send(requestFrame({ apiKey: 3, apiVersion: 1, correlationId: 1 }, int32(-1)));
    expect((await c.next()).kind).toBe("closed");
    await until("the log line", () => broker.output().stderr.includes("Metadata request before SASL authentication"));
  });

  test("a request in the middle of the exchange closes the connection", async () => {
    const c = await connect();
    c.send(handshakeFrame("PLAIN"));
    expect((await readHandshake(c)).errorCode).toBe(0);
    c.send(requestFrame({ apiKey: 3, apiVersion: 1, correlationId: 2 }, int32(-1)));
    expect((await c.next()).kind).toBe("closed");
    await until("the log line", () => broker.output().stderr.includes("Metadata request during SASL authentication"));
  });

  test("an unknown mechanism gets UNSUPPORTED_SASL_MECHANISM with the enabled list, then the connection closes", async () => {
    const c = await connect();
    c.send(handshakeFrame("SCRAM-SHA-256"));
    expect(await readHandshake(c)).toEqual({ correlationId: 1, errorCode: UNSUPPORTED_SASL_MECHANISM, mechanisms: ["PLAIN"] });
    expect((await c.next()).kind).toBe("closed");
  });

  test("a failed authentication is answered after connection.failed.authentication.delay.ms, then closed", async () => {
    const c = await connect();
    c.send(handshakeFrame("PLAIN"));
    await readHandshake(c);
    const sent = performance.now();
    c.send(authenticateFrame("\0alice\0wrong"));
    const r = await readAuthenticate(c);
    const elapsed = performance.now() - sent;
    expect([r.errorCode, r.errorMessage]).toEqual([SASL_AUTHENTICATION_FAILED, "Authentication failed: Invalid username or password"]);
    expect(elapsed).toBeGreaterThanOrEqual(FAILED_AUTH_DELAY_MS - 20);
    expect((await c.next()).kind).toBe("closed");
  });

  test("a malformed PLAIN token gets Kafka's generic message", async () => {
    const c = await connect();
    c.send(handshakeFrame("PLAIN"));
    await readHandshake(c);
    c.send(authenticateFrame("no separators"));
    const r = await readAuthenticate(c);
    expect([r.errorCode, r.errorMessage]).toEqual([SASL_AUTHENTICATION_FAILED, "Authentication failed during authentication due to invalid credentials with SASL mechanism PLAIN"]);
  });

  test("SaslHandshake v0 then a bare token: an empty bare token answers success (kafka-python's exchange)", async () => {
    const c = await connect();
    c.send(handshakeFrame("PLAIN", 0));
    expect((await readHandshake(c)).errorCode).toBe(0);
    const token = new TextEncoder().encode("\0bob\0" + USERS.bob);
    c.send(new Uint8Array([...int32(token.length), ...token]));
    const r = await c.response();
    expect(r.buf.length).toBe(0);
    // Authenticated: an ordinary request is served.
    c.send(requestFrame({ apiKey: 3, apiVersion: 1, correlationId: 9 }, int32(-1)));
    expect((await c.response()).int32()).toBe(9);
    c.close();
  });

  test("a token over sasl.server.max.receive.size closes the connection", async () => {
    const c = await connect();
    c.send(handshakeFrame("PLAIN"));
    await readHandshake(c);
    // Only the size prefix is needed: the broker refuses the frame from its announced size.
    c.send(int32(600_000));
    expect((await c.next()).kind).toBe("closed");
    await until("the log line", () => broker.output().stderr.includes("request frame of 600000 bytes is over the limit (524288 bytes)"));
  });

  test("an exchange cut in the middle leaves the broker serving", async () => {
    for (let i = 0; i < 3; i++) {
      const c = await connect();
      c.send(handshakeFrame("PLAIN"));
      await readHandshake(c);
      // Half a SaslAuthenticate frame, then the client goes away.
      c.send(authenticateFrame("\0alice\0alice-secret").subarray(0, 20));
      c.close();
    }
    const c = await connect();
    expect((await plainLogin(c, "alice", USERS.alice)).errorCode).toBe(0);
    c.close();
  });
});

describe("principal and configuration (in-process broker)", () => {
  // A registry whose SaslHandshake handler (reached after authentication) answers with the session's
  // principal, so the test can see it.
  const echoPrincipal = handler(SaslHandshake, (_req, ctx) => ({ errorCode: ILLEGAL_SASL_STATE, mechanisms: [ctx.session.principal] }));
  const registry = buildRegistry([...handlers.filter((h) => h.api.key !== SaslHandshake.key), echoPrincipal]);

  test("the session principal is User:<name> after authentication, User:ANONYMOUS on PLAINTEXT", async () => {
    await using d = await tempDir();
    await using b = await startBroker(
      {
        dataDir: d.path,
        logLevel: "warn",
        overrides: {
          listeners: "SASL_PLAINTEXT://127.0.0.1:0,PLAINTEXT://127.0.0.1:0",
          "sasl.enabled.mechanisms": "PLAIN",
          "listener.name.sasl_plaintext.plain.sasl.jaas.config": plainJaas(USERS),
        },
      },
      registry,
    );
    const [sasl, plain] = b.listeners;
    const c = await RawClient.connect(sasl!.host, sasl!.port);
    expect((await plainLogin(c, "bob", USERS.bob)).errorCode).toBe(0);
    c.send(handshakeFrame("PLAIN", 1, 5));
    expect(await readHandshake(c)).toEqual({ correlationId: 5, errorCode: ILLEGAL_SASL_STATE, mechanisms: ["User:bob"] });
    c.close();
    const p = await RawClient.connect(plain!.host, plain!.port);
    p.send(handshakeFrame("PLAIN", 1, 6));
    expect(await readHandshake(p)).toEqual({ correlationId: 6, errorCode: ILLEGAL_SASL_STATE, mechanisms: ["User:ANONYMOUS"] });
    p.close();
  });

  test("SaslAuthenticate outside an exchange is ILLEGAL_SASL_STATE", async () => {
    await using d = await tempDir();
    await using b = await startBroker({ dataDir: d.path, logLevel: "warn" });
    const c = await RawClient.connect(b.host, b.port);
    c.send(requestFrame({ apiKey: 36, apiVersion: 1, correlationId: 3 }, bytes(new Uint8Array(0))));
    const r = await readAuthenticate(c);
    expect([r.errorCode, r.errorMessage]).toEqual([ILLEGAL_SASL_STATE, "SaslAuthenticate request received after successful authentication"]);
    c.close();
  });

  const refused: [string, Record<string, string>, RegExp][] = [
    ["PLAIN without a JAAS entry", { "sasl.enabled.mechanisms": "PLAIN" }, /PLAIN needs its users in listener\.name\.sasl_plaintext\.plain\.sasl\.jaas\.config/],
    ["Kafka's default mechanism, GSSAPI", {}, /GSSAPI \(Kerberos.*\) is not supported/],
    ["an unknown mechanism", { "sasl.enabled.mechanisms": "PLAIN,DIGEST-MD5" }, /unknown SASL mechanism DIGEST-MD5/],
    [
      "a JAAS entry without the PlainLoginModule",
      { "sasl.enabled.mechanisms": "PLAIN", "listener.name.sasl_plaintext.plain.sasl.jaas.config": 'com.example.Other required user_a="b";' },
      /PLAIN users are read from a org\.apache\.kafka\.common\.security\.plain\.PlainLoginModule entry/,
    ],
    [
      "an unterminated JAAS entry (the secret stays out of the message)",
      { "sasl.enabled.mechanisms": "PLAIN", "listener.name.sasl_plaintext.plain.sasl.jaas.config": `${"org.apache.kafka.common.security.plain.PlainLoginModule"} required user_a="s3cret"` },
      /^(?!.*s3cret).*an entry must end with ';'/,
    ],
  ];
  for (const [label, overrides, message] of refused) {
    test(`refused at startup: ${label}`, async () => {
      await using d = await tempDir();
      const start = startBroker({ dataDir: d.path, logLevel: "silent", overrides: { listeners: "SASL_PLAINTEXT://127.0.0.1:0", ...overrides } });
      await expect(start).rejects.toBeInstanceOf(ConfigError);
      await expect(start).rejects.toThrow(message);
    });
  }

  test("the listener prefix overrides per listener; an unknown prefixed property is refused", async () => {
    await using d = await tempDir();
    await using b = await startBroker({
      dataDir: d.path,
      logLevel: "warn",
      overrides: {
        listeners: "A://127.0.0.1:0,B://127.0.0.1:0",
        "listener.security.protocol.map": "A:SASL_PLAINTEXT,B:SASL_PLAINTEXT",
        "sasl.enabled.mechanisms": "PLAIN",
        "listener.name.a.plain.sasl.jaas.config": plainJaas({ alice: "a-pass" }),
        "listener.name.B.PLAIN.sasl.jaas.config": plainJaas({ alice: "b-pass" }),
      },
    });
    const [a, bl] = b.listeners;
    for (const [l, good, bad] of [
      [a!, "a-pass", "b-pass"],
      [bl!, "b-pass", "a-pass"],
    ] as const) {
      const ok = await RawClient.connect(l.host, l.port);
      expect((await plainLogin(ok, "alice", good)).errorCode).toBe(0);
      ok.close();
      const no = await RawClient.connect(l.host, l.port);
      expect((await plainLogin(no, "alice", bad)).errorCode).toBe(SASL_AUTHENTICATION_FAILED);
      no.close();
    }
    await using d2 = await tempDir();
    await expect(startBroker({ dataDir: d2.path, logLevel: "silent", overrides: { "listener.name.a.plain.sasl.no.such": "x" } })).rejects.toThrow(
      "unknown property: listener.name.a.plain.sasl.no.such",
    );
  });
});

test("the CLI refuses a SASL listener it cannot serve with exit status 2 before listening", async () => {
  await using d = await tempDir();
  const r = spawnBroker({ dataDir: d.path, overrides: { listeners: "SASL_PLAINTEXT://127.0.0.1:0" } });
  await expect(r).rejects.toThrow(/exited \(code 2[\s\S]*GSSAPI/);
});
