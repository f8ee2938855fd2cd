// TLS listeners (SSL), configured with Kafka's ssl.* properties and per-listener overrides, against a test
// PKI made with openssl: stock clients over server-verified TLS and mutual TLS; key stores as PEM (file,
// encrypted key, inline), PKCS12 and legacy PKCS12; trust stores as PEM and PKCS12; the client's principal
// from its certificate through ssl.principal.mapping.rules; refused clients (no certificate, an untrusted
// one, a client that does not trust the broker, garbage instead of a ClientHello) leave the broker serving.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { Kafka, logLevel } from "kafkajs";
import { SaslHandshake } from "../protocol/apis/17-sasl-handshake.ts";
import { startBroker } from "../src/broker.ts";
import { KafkaClient, WireClient } from "../src/client.ts";
import { DescribeConfigs } from "../protocol/apis/index.ts";
import { ConfigError } from "../src/config.ts";
import { handler } from "../src/handlers/handler.ts";
import { buildRegistry, handlers } from "../src/handlers/index.ts";
import { clientSecurity } from "../src/security/client-config.ts";
import { SslPrincipalMapper, subjectName } from "../src/security/principal.ts";
import { spawnBroker, type SpawnedBroker } from "./helpers/broker.ts";
import { CLIENT_DN, KEY_PASSWORD, makePki, rdkafkaTls, STORE_PASSWORD, type TestPki } from "./helpers/certs.ts";
import { confluentConsume, confluentProduce, kcat, kcatConsume, pyScript, requireTools } from "./helpers/clients.ts";
import { until } from "./helpers/poll.ts";
import { run } from "./helpers/run.ts";
import { kcatArgs } from "./helpers/sasl.ts";
import { tempDir, topicName, type TempDir } from "./helpers/tmp.ts";

setDefaultTimeout(90_000);

let dir: TempDir;
let pki: TestPki;
let broker: SpawnedBroker;
/** listener name → "host:port" */
const at: Record<string, string> = {};

const MAPPING_RULE = "RULE:^O=(.*?),OU=(.*?),CN=(.*?)$/$3@$1/L,DEFAULT";

beforeAll(async () => {
  await requireTools();
  dir = await tempDir();
  pki = await makePki(dir.join(""));
  const names = ["SSL", "MTLS", "REQ", "TLS12"];
  broker = await spawnBroker({
    dataDir: dir.join("data"),
    listenerCount: names.length,
    overrides: {
      listeners: names.map((n) => `${n}://127.0.0.1:0`).join(","),
      "listener.security.protocol.map": names.map((n) => `${n}:SSL`).join(","),
      // Broker-wide: a PEM key store file with key and chain.
      "ssl.keystore.type": "PEM",
      "ssl.keystore.location": pki.brokerKeystorePem,
      // MTLS: PKCS12 key and trust stores, client certificates required.
      "listener.name.mtls.ssl.keystore.type": "PKCS12",
      "listener.name.mtls.ssl.keystore.location": pki.brokerKeystoreP12,
      "listener.name.mtls.ssl.keystore.password": STORE_PASSWORD,
      "listener.name.mtls.ssl.truststore.type": "PKCS12",
      "listener.name.mtls.ssl.truststore.location": pki.truststoreP12,
      "listener.name.mtls.ssl.truststore.password": STORE_PASSWORD,
      "listener.name.mtls.ssl.client.auth": "required",
      // REQ: encrypted PEM key, PEM trust store, client certificates requested.
      "listener.name.req.ssl.keystore.location": pki.brokerKeystoreEncryptedPem,
      "listener.name.req.ssl.key.password": KEY_PASSWORD,
      "listener.name.req.ssl.truststore.type": "PEM",
      "listener.name.req.ssl.truststore.location": pki.caPem,
      "listener.name.req.ssl.client.auth": "requested",
      // TLS12: a legacy PKCS12 under Kafka's default type name JKS, TLS 1.2 with one cipher suite only.
      "listener.name.tls12.ssl.keystore.type": "JKS",
      "listener.name.tls12.ssl.keystore.location": pki.brokerKeystoreLegacyP12,
      "listener.name.tls12.ssl.keystore.password": STORE_PASSWORD,
      "listener.name.tls12.ssl.enabled.protocols": "TLSv1.2",
      "listener.name.tls12.ssl.cipher.suites": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    },
  });
  names.forEach((n, i) => (at[n] = broker.addresses[i]!));
});

afterAll(async () => {
  await broker?.stop();
  await dir?.remove();
});

const ssl = (extra: Record<string, string> = {}) => kcatArgs({ "security.protocol": "SSL", ...rdkafkaTls(pki), ...extra });
const logged = (text: string) => until(`"${text}" in the broker log`, () => broker.output().stderr.includes(text));

describe("stock clients over TLS", () => {
  test("kcat produces and consumes over server-verified TLS; confluent_kafka reads it", async () => {
    const topic = topicName("tls-kcat");
    await kcat(["-b", at.SSL!, ...ssl(), "-P", "-t", topic, "-K:"], { stdin: "a:1\nb:2\n" });
    expect((await kcatConsume(at.SSL!, topic, { extra: ssl() })).map((m) => [m.key, m.payload])).toEqual([
      ["a", "1"],
      ["b", "2"],
    ]);
    const c = await confluentConsume({ bootstrap: at.SSL!, topic, config: { "security.protocol": "SSL", ...rdkafkaTls(pki) } });
    expect(c.lines.map((m) => m.value)).toEqual(["1", "2"]);
  });

  test("mutual TLS: a client with a certificate from the trusted CA produces and consumes (confluent_kafka, kcat)", async () => {
    const topic = topicName("tls-mutual");
    const config = { "security.protocol": "SSL", ...rdkafkaTls(pki, { clientCert: "trusted" }) };
    const p = await confluentProduce({ bootstrap: at.MTLS!, topic, config, generate: { count: 10 } });
    expect(p.summary.delivered).toBe(10);
    const msgs = await kcatConsume(at.MTLS!, topic, { extra: kcatArgs(config) });
    expect(msgs.map((m) => m.payload)).toEqual(Array.from({ length: 10 }, (_, i) => `v${i}`));
  });

  test("PEM key with ssl.key.password, PEM trust store, requested client auth: with and without a certificate", async () => {
    for (const clientCert of [undefined, "trusted"] as const) {
      const topic = topicName("tls-requested");
      const args = kcatArgs({ "security.protocol": "SSL", ...rdkafkaTls(pki, { clientCert }) });
      await kcat(["-b", at.REQ!, ...args, "-P", "-t", topic], { stdin: "x\n" });
      expect((await kcatConsume(at.REQ!, topic, { extra: args })).map((m) => m.payload)).toEqual(["x"]);
    }
  });

  test("kafkajs produces and consumes in a group over mutual TLS", async () => {
    const topic = topicName("tls-kafkajs");
    const kafka = new Kafka({
      clientId: "tls-kafkajs",
      brokers: [at.MTLS!],
      logLevel: logLevel.NOTHING,
      ssl: { ca: [readFileSync(pki.caPem, "utf8")], cert: readFileSync(pki.clientCert, "utf8"), key: readFileSync(pki.clientKey, "utf8") },
    });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: "k", value: "over mutual TLS" }] });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: `g-${topic}`, maxWaitTimeInMs: 200 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const got: string[] = [];
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message }) => {
            got.push(message.value!.toString());
            resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    expect(got).toEqual(["over mutual TLS"]);
  });
});

describe("refused clients", () => {
  test("mutual TLS without a certificate, or with one from an untrusted CA, fails; the broker goes on serving", async () => {
    const none = await kcat(["-b", at.MTLS!, ...ssl(), "-L", "-m", "3"], { allowFailure: true });
    expect(none.exitCode).not.toBe(0);
    expect(none.stderr).toMatch(/certificate required|alert/i);
    await logged("TLS handshake failed on listener MTLS");
    const untrusted = await kcat(["-b", at.MTLS!, ...kcatArgs({ "security.protocol": "SSL", ...rdkafkaTls(pki, { clientCert: "untrusted" }) }), "-L", "-m", "3"], {
      allowFailure: true,
    });
    expect(untrusted.exitCode).not.toBe(0);
    await logged("client certificate refused on listener MTLS");
    // A requested certificate that does not verify is refused too (Java refuses it under "requested" as well).
    const badRequested = await kcat(["-b", at.REQ!, ...kcatArgs({ "security.protocol": "SSL", ...rdkafkaTls(pki, { clientCert: "untrusted" }) }), "-L", "-m", "3"], {
      allowFailure: true,
    });
    expect(badRequested.exitCode).not.toBe(0);
    await logged("client certificate refused on listener REQ");
    const md = await kcat(["-b", at.MTLS!, ...kcatArgs({ "security.protocol": "SSL", ...rdkafkaTls(pki, { clientCert: "trusted" }) }), "-L", "-J"]);
    expect(JSON.parse(md.stdout).brokers.length).toBe(1);
  });

  test("a client that does not trust the broker's CA fails with certificate verify failed (kcat, confluent_kafka)", async () => {
    const r = await kcat(["-b", at.SSL!, ...kcatArgs({ "security.protocol": "SSL", "ssl.ca.location": pki.otherCaPem }), "-L", "-m", "3"], { allowFailure: true });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain("certificate verify failed");
    const c = await pyScript("confluent_connect.py", { bootstrap: at.SSL!, config: { "security.protocol": "SSL", "ssl.ca.location": pki.otherCaPem } }, { allowFailure: true });
    expect(c.summary.metadata).toBe(false);
    expect(c.summary.errors.join("\n")).toContain("certificate verify failed");
  });

  test("garbage instead of a TLS ClientHello closes the connection with a log line", async () => {
    const [host, port] = at.SSL!.split(":");
    const closed = await new Promise<boolean>((resolve) => {
      Bun.connect({
        hostname: host!,
        port: Number(port),
        socket: {
          open: (s) => void s.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
          data: () => {},
          close: () => resolve(true),
          error: () => resolve(true),
        },
      });
    });
    expect(closed).toBe(true);
    await logged("TLS handshake failed on listener SSL");
    expect((await kcatConsume(at.SSL!, "__no_such_topic_is_fine", { extra: ssl() }).catch(() => [])).length).toBe(0);
    const md = await kcat(["-b", at.SSL!, ...ssl(), "-L", "-J"]);
    expect(JSON.parse(md.stdout).brokers.length).toBe(1);
  });

  test("ssl.enabled.protocols=TLSv1.2 refuses TLS 1.3; ssl.cipher.suites limits TLS 1.2 suites", async () => {
    const sClient = (...args: string[]) =>
      run(["openssl", "s_client", "-connect", at.TLS12!, "-CAfile", pki.caPem, ...args], { stdin: "", timeoutMs: 20_000 });
    expect((await sClient("-tls1_3")).exitCode).not.toBe(0);
    const ok = await sClient("-tls1_2");
    expect(ok.stdout).toMatch(/Cipher\s+(is|:)\s+ECDHE-RSA-AES128-GCM-SHA256/);
    expect((await sClient("-tls1_2", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384")).exitCode).not.toBe(0);
    // A stock client still gets through on what is left.
    const md = await kcat(["-b", at.TLS12!, ...ssl(), "-L", "-J"]);
    expect(JSON.parse(md.stdout).brokers.length).toBe(1);
  });
});

describe("principal and configuration (in-process broker)", () => {
  // After authentication SaslHandshake reaches the handlers; this one answers with the session's principal.
  const registry = buildRegistry([
    ...handlers.filter((h) => h.api.key !== SaslHandshake.key),
    handler(SaslHandshake, (_req, ctx) => ({ errorCode: 34, mechanisms: [ctx.session.principal] })),
  ]);
  const principalOf = async (address: string, props: Record<string, string>) => {
    const c = await WireClient.connect(address, { security: clientSecurity(new Map(Object.entries(props))) });
    try {
      return (await c.request(SaslHandshake, { mechanism: "PLAIN" }, 1)).mechanisms[0];
    } finally {
      c.close();
    }
  };

  test("the principal is User: + the certificate subject, mapped by ssl.principal.mapping.rules; User:ANONYMOUS without one", async () => {
    await using d = await tempDir();
    await using b = await startBroker(
      {
        dataDir: d.path,
        logLevel: "warn",
        overrides: {
          listeners: "MAPPED://127.0.0.1:0,PLAINDN://127.0.0.1:0",
          "listener.security.protocol.map": "MAPPED:SSL,PLAINDN:SSL",
          "ssl.keystore.type": "PKCS12",
          "ssl.keystore.location": pki.brokerKeystoreP12,
          "ssl.keystore.password": STORE_PASSWORD,
          "ssl.truststore.type": "PEM",
          "ssl.truststore.certificates": readFileSync(pki.caPem, "utf8"),
          "ssl.client.auth": "requested",
          "listener.name.mapped.ssl.principal.mapping.rules": MAPPING_RULE,
        },
      },
      registry,
    );
    const [mapped, plainDn] = b.listeners.map((l) => l.address);
    // Brook's own client reads Kafka client properties: a PKCS12 client key store, a PEM trust store.
    const withCert = {
      "security.protocol": "SSL",
      "ssl.truststore.type": "PEM",
      "ssl.truststore.location": pki.caPem,
      "ssl.keystore.type": "PKCS12",
      "ssl.keystore.location": pki.clientKeystoreP12,
      "ssl.keystore.password": STORE_PASSWORD,
    };
    expect(await principalOf(mapped!, withCert)).toBe("User:alice@example");
    expect(await principalOf(plainDn!, withCert)).toBe(`User:${CLIENT_DN}`);
    expect(await principalOf(plainDn!, { "security.protocol": "SSL", "ssl.truststore.location": pki.caPem, "ssl.truststore.type": "PEM" })).toBe("User:ANONYMOUS");
  });

  test("inline PEM key store (ssl.keystore.key / ssl.keystore.certificate.chain)", async () => {
    await using d = await tempDir();
    await using b = await startBroker({
      dataDir: d.path,
      logLevel: "warn",
      overrides: {
        listeners: "SSL://127.0.0.1:0",
        "ssl.keystore.type": "PEM",
        "ssl.keystore.key": readFileSync(pki.brokerKey, "utf8"),
        "ssl.keystore.certificate.chain": readFileSync(pki.brokerCert, "utf8"),
      },
    });
    const md = await kcat(["-b", b.address, ...ssl(), "-L", "-J"]);
    expect(JSON.parse(md.stdout).brokers.map((x: { name: string }) => x.name)).toEqual([b.address]);
  });

  test("DescribeConfigs reports key and trust store passwords as sensitive, without their values", async () => {
    await using d = await tempDir();
    await using b = await startBroker({
      dataDir: d.path,
      logLevel: "warn",
      overrides: {
        listeners: "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0",
        "ssl.keystore.type": "PKCS12",
        "ssl.keystore.location": pki.brokerKeystoreP12,
        "ssl.keystore.password": STORE_PASSWORD,
      },
    });
    await using c = await KafkaClient.connect(b.address);
    const r = await c.request(DescribeConfigs, 4, {
      resources: [{ resourceType: 4, resourceName: "1", configurationKeys: ["ssl.keystore.password", "ssl.keystore.type"] }],
      includeSynonyms: true,
    });
    const byName = new Map(r.results[0]!.configs.map((x) => [x.name, x]));
    const pw = byName.get("ssl.keystore.password")!;
    expect([pw.value, pw.isSensitive, pw.configType, pw.synonyms.map((s) => s.value)]).toEqual([null, true, 9, [null]]);
    expect(byName.get("ssl.keystore.type")!.value).toBe("PKCS12");
    expect(JSON.stringify(r)).not.toContain(STORE_PASSWORD);
  });

  const refused: [string, () => Record<string, string>, RegExp][] = [
    ["no key store", () => ({}), /needs a key store/],
    [
      "a wrong PKCS12 password",
      () => ({ "ssl.keystore.type": "PKCS12", "ssl.keystore.location": pki.brokerKeystoreP12, "ssl.keystore.password": "nope" }),
      /cannot read the PKCS12 store \(wrong password\)/,
    ],
    [
      "a Java JKS file",
      () => {
        writeFileSync(pki.dir + "/fake.jks", Buffer.from([0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2]));
        return { "ssl.keystore.location": pki.dir + "/fake.jks", "ssl.keystore.password": "x" };
      },
      /JKS key stores are not supported by Brook; convert it to PKCS12/,
    ],
    [
      "an encrypted key without ssl.key.password",
      () => ({ "ssl.keystore.type": "PEM", "ssl.keystore.location": pki.brokerKeystoreEncryptedPem }),
      /cannot read the private key \(is ssl\.key\.password right\?\)/,
    ],
    [
      "a key that does not belong to the certificate",
      () => ({ "ssl.keystore.type": "PEM", "ssl.keystore.key": readFileSync(pki.clientKey, "utf8"), "ssl.keystore.certificate.chain": readFileSync(pki.brokerCert, "utf8") }),
      /the private key does not belong to the certificate/,
    ],
    [
      "client auth without a trust store",
      () => ({ "ssl.keystore.type": "PEM", "ssl.keystore.location": pki.brokerKeystorePem, "ssl.client.auth": "required" }),
      /needs a trust store/,
    ],
    [
      "an unknown protocol",
      () => ({ "ssl.keystore.type": "PEM", "ssl.keystore.location": pki.brokerKeystorePem, "ssl.enabled.protocols": "SSLv3" }),
      /unknown protocol SSLv3/,
    ],
  ];
  for (const [label, overrides, message] of refused) {
    test(`refused at startup: ${label}`, async () => {
      await using d = await tempDir();
      const start = startBroker({ dataDir: d.path, logLevel: "silent", overrides: { listeners: "SSL://127.0.0.1:0", ...overrides() } });
      await expect(start).rejects.toBeInstanceOf(ConfigError);
      await expect(start).rejects.toThrow(message);
    });
  }
});

describe("distinguished names and mapping rules", () => {
  test("RFC 2253 subject as Java writes it: last RDN first, multi-valued RDNs, escapes, unknown attributes as OID=#hex", async () => {
    await using d = await tempDir();
    const r = await run(
      ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "k.pem", "-out", "c.pem", "-days", "1", "-multivalue-rdn", "-subj", "/C=US/O=Acme\\, Inc./OU=Eng+UID=u1/CN=bob/emailAddress=b@x.io"],
      { cwd: d.path },
    );
    expect(r.exitCode).toBe(0);
    const der = new Uint8Array(Buffer.from(readFileSync(d.join("c.pem"), "utf8").replace(/-----[A-Z ]+-----|\s/g, ""), "base64"));
    expect(subjectName(der)).toBe("1.2.840.113549.1.9.1=#16066240782e696f,CN=bob,OU=Eng+UID=u1,O=Acme\\, Inc.,C=US");
  });

  test("ssl.principal.mapping.rules as Kafka parses and applies them", () => {
    const dn = "CN=kafka-client,OU=Service,O=Example,L=Here,C=US";
    expect(new SslPrincipalMapper("DEFAULT").name(dn)).toBe(dn);
    expect(new SslPrincipalMapper("RULE:^CN=(.*?),OU=Service.*$/$1/").name(dn)).toBe("kafka-client");
    expect(new SslPrincipalMapper("RULE:^CN=(.*?),OU=(.*?),.*$/$1@$2/U, DEFAULT").name(dn)).toBe("KAFKA-CLIENT@SERVICE");
    expect(new SslPrincipalMapper("RULE:^CN=nomatch$/x/,DEFAULT").name(dn)).toBe(dn);
    // A back reference to a group that does not exist stays literal.
    expect(new SslPrincipalMapper("RULE:^CN=(.*?),.*$/$1-$2/").name(dn)).toBe("kafka-client-$2");
    expect(() => new SslPrincipalMapper("RULE:^CN=nomatch$/x/").name(dn)).toThrow(/No rules apply to CN=kafka-client/);
    expect(() => new SslPrincipalMapper("RULE:^CN=(.*?)/$1/X")).toThrow(ConfigError);
  });
});
