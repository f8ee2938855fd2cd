// SASL/SCRAM-SHA-256 and SCRAM-SHA-512 users and logins, on SASL_PLAINTEXT and SASL_SSL: users made before
// the broker starts (brook users --log-dir), with AlterUserScramCredentials from another client's encoder
// (@platformatic/kafka) and with `brook users --bootstrap-server`; logins with kcat, confluent_kafka,
// kafka-python (also PLAIN over SSL) and kafkajs, producing and consuming in groups; wrong passwords and
// unknown users fail with Kafka's message; users survive a restart; the APIs' errors are Kafka's.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { pbkdf2Sync, randomBytes } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { Connection, alterUserScramCredentialsV0, describeUserScramCredentialsV0 } from "@platformatic/kafka";
import { Kafka, logLevel } from "kafkajs";
import { CLI, spawnBroker, type SpawnedBroker } from "./helpers/broker.ts";
import { makePki, rdkafkaTls, type TestPki } from "./helpers/certs.ts";
import { confluentConsume, confluentProduce, kafkaPythonProduce, kcat, kcatConsume, pyScript, requireTools } from "./helpers/clients.ts";
import { until } from "./helpers/poll.ts";
import { run } from "./helpers/run.ts";
import { kcatArgs, plainJaas, rdkafkaSasl } from "./helpers/sasl.ts";
import { tempDir, topicName, type TempDir } from "./helpers/tmp.ts";

setDefaultTimeout(120_000);

let dir: TempDir;
let pki: TestPki;
let broker: SpawnedBroker;
let plain: string; // SASL_PLAINTEXT listener
let secure: string; // SASL_SSL listener

const ALICE = "alice-secret";
const users = (...args: string[]) => run([process.execPath, CLI, "users", ...args], { timeoutMs: 60_000 });

const brokerOverrides = () => ({
  listeners: "SASL_PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0",
  "sasl.enabled.mechanisms": "SCRAM-SHA-256,SCRAM-SHA-512",
  "listener.name.sasl_ssl.sasl.enabled.mechanisms": "SCRAM-SHA-256,SCRAM-SHA-512,PLAIN",
  "listener.name.sasl_ssl.plain.sasl.jaas.config": plainJaas({ paul: "paul-secret" }),
  "ssl.keystore.type": "PEM",
  "ssl.keystore.location": pki.brokerKeystorePem,
});

async function start(): Promise<void> {
  broker = await spawnBroker({ dataDir: dir.join("data"), listenerCount: 2, overrides: brokerOverrides() });
  [plain, secure] = broker.addresses as [string, string];
}

beforeAll(async () => {
  await requireTools();
  dir = await tempDir();
  pki = await makePki(dir.join(""));
  // Bootstrap users before the broker ever ran, as kafka-storage.sh format --add-scram does.
  const r = await users("--log-dir", dir.join("data"), "--alter", "--entity-type", "users", "--entity-name", "alice", "--add-config", `SCRAM-SHA-256=[iterations=8192,password=${ALICE}],SCRAM-SHA-512=[password=${ALICE}]`);
  expect([r.exitCode, r.stdout.trim()]).toEqual([0, "Completed updating config for user alice."]);
  await start();
});

afterAll(async () => {
  await broker?.stop();
  await dir?.remove();
});

const scram = (protocol: "SASL_PLAINTEXT" | "SASL_SSL", mechanism: string, user = "alice", password = ALICE) => ({
  ...rdkafkaSasl(protocol, mechanism, user, password),
  ...(protocol === "SASL_SSL" ? rdkafkaTls(pki) : {}),
});

describe("users made before the start", () => {
  test("the credential file holds no password and only its owner may read it", () => {
    const file = dir.join("data", "brook-scram-credentials.json");
    const text = readFileSync(file, "utf8");
    expect(text).not.toContain(ALICE);
    expect(JSON.parse(text).users.alice["SCRAM-SHA-256"].iterations).toBe(8192);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  test("kcat logs in with SCRAM-SHA-256 and SCRAM-SHA-512, produces and consumes", async () => {
    const topic = topicName("scram-kcat");
    await kcat(["-b", plain, ...kcatArgs(scram("SASL_PLAINTEXT", "SCRAM-SHA-256")), "-P", "-t", topic, "-K:"], { stdin: "k:256\n" });
    await kcat(["-b", plain, ...kcatArgs(scram("SASL_PLAINTEXT", "SCRAM-SHA-512")), "-P", "-t", topic, "-K:"], { stdin: "k:512\n" });
    const msgs = await kcatConsume(plain, topic, { extra: kcatArgs(scram("SASL_PLAINTEXT", "SCRAM-SHA-256")) });
    expect(msgs.map((m) => m.payload)).toEqual(["256", "512"]);
  });

  test("SASL_SSL with SCRAM-SHA-512: kcat and confluent_kafka", async () => {
    const topic = topicName("scram-sasl-ssl");
    const config = scram("SASL_SSL", "SCRAM-SHA-512");
    const p = await confluentProduce({ bootstrap: secure, topic, config, generate: { count: 30 } });
    expect(p.summary.delivered).toBe(30);
    const c = await confluentConsume({ bootstrap: secure, topic, config });
    expect(c.lines.length).toBe(30);
    expect((await kcatConsume(secure, topic, { extra: kcatArgs(config) })).map((m) => m.payload)).toEqual(Array.from({ length: 30 }, (_, i) => `v${i}`));
  });

  test("a wrong password and an unknown user fail with Kafka's message; the broker goes on serving", async () => {
    for (const creds of [scram("SASL_PLAINTEXT", "SCRAM-SHA-256", "alice", "wrong"), scram("SASL_PLAINTEXT", "SCRAM-SHA-512", "nobody", "x")]) {
      const r = await kcat(["-b", plain, ...kcatArgs(creds), "-L", "-m", "3"], { allowFailure: true });
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toContain(`Authentication failed during authentication due to invalid credentials with SASL mechanism ${creds["sasl.mechanisms"]}`);
    }
    await until("the failures in the log", () => broker.output().stderr.includes('no SCRAM-SHA-512 credential for user "nobody"'));
    expect(broker.output().stderr).toContain('invalid SCRAM-SHA-256 credentials for user "alice"');
    const md = await kcat(["-b", plain, ...kcatArgs(scram("SASL_PLAINTEXT", "SCRAM-SHA-512")), "-L", "-J"]);
    expect(JSON.parse(md.stdout).brokers.length).toBe(1);
  });

  test("confluent_kafka: SCRAM-SHA-256 produces and consumes; a wrong password is an authentication error", async () => {
    const topic = topicName("scram-confluent-256");
    const config = scram("SASL_PLAINTEXT", "SCRAM-SHA-256");
    expect((await confluentProduce({ bootstrap: plain, topic, config, generate: { count: 5 } })).summary.delivered).toBe(5);
    expect((await confluentConsume({ bootstrap: plain, topic, config })).lines.length).toBe(5);
    const bad = await pyScript("confluent_connect.py", { bootstrap: plain, config: scram("SASL_PLAINTEXT", "SCRAM-SHA-256", "alice", "wrong") }, { allowFailure: true });
    expect(bad.summary.metadata).toBe(false);
    expect(bad.summary.errors.join("\n")).toContain("Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256");
  });
});

describe("kafka-python and kafkajs", () => {
  const pythonSsl = { security_protocol: "SASL_SSL", ssl_cafile: "" };
  for (const [mechanism, user, password] of [
    ["PLAIN", "paul", "paul-secret"],
    ["SCRAM-SHA-256", "alice", ALICE],
  ] as const) {
    test(`kafka-python: ${mechanism} over SSL, produce and group consume`, async () => {
      const topic = topicName(`kp-${mechanism}`);
      const config = { ...pythonSsl, ssl_cafile: pki.caPem, sasl_mechanism: mechanism, sasl_plain_username: user, sasl_plain_password: password };
      const p = await kafkaPythonProduce({ bootstrap: secure, topic, config, messages: [{ key: "a", value: "x" }, { key: "b", value: "y" }] });
      expect(p.summary.delivered).toBe(2);
      const c = await pyScript("group_kafka_python_consume.py", { bootstrap: secure, topic, group: `g-${topic}`, config });
      expect(c.lines.map((m) => m.value)).toEqual(["x", "y"]);
      expect(c.summary.committed).toEqual({ "0": 2 });
    });
  }

  test("kafkajs: SCRAM-SHA-512 over SASL_SSL, producer and group consumer", async () => {
    const topic = topicName("kafkajs-scram");
    const kafka = new Kafka({
      clientId: "kafkajs-scram",
      brokers: [secure],
      logLevel: logLevel.NOTHING,
      ssl: { ca: [readFileSync(pki.caPem, "utf8")] },
      sasl: { mechanism: "scram-sha-512", username: "alice", password: ALICE },
    });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ value: "one" }, { value: "two" }] });
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
            if (got.length === 2) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    expect(got).toEqual(["one", "two"]);
  });
});

describe("Describe/AlterUserScramCredentials", () => {
  // @platformatic/kafka speaks these APIs with its own encoder; the salted password is computed here.
  async function admin(): Promise<Connection> {
    const [host, port] = plain.split(":");
    const c = new Connection("scram-admin", { sasl: { mechanism: "SCRAM-SHA-512", username: "alice", password: ALICE } });
    await c.connect(host!, Number(port));
    return c;
  }
  const upsert = (name: string, mechanism: 1 | 2, password: string, iterations: number) => {
    const salt = randomBytes(24);
    return { name, mechanism, iterations, salt, saltedPassword: pbkdf2Sync(password, salt, iterations, mechanism === 1 ? 32 : 64, mechanism === 1 ? "sha256" : "sha512") };
  };
  const results = async (p: Promise<any>) => {
    try {
      return (await p).results;
    } catch (e) {
      return (e as { response: { results: unknown[] } }).response.results;
    }
  };

  test("a user added by another client's AlterUserScramCredentials logs in; Describe reports it", async () => {
    const c = await admin();
    try {
      const r = await results(alterUserScramCredentialsV0.api.async(c, [], [upsert("carol", 1, "carol-pw", 4096)]));
      expect(r).toEqual([{ user: "carol", errorCode: 0, errorMessage: null }]);
      const d = await describeUserScramCredentialsV0.api.async(c, [{ name: "carol" }]);
      expect(d.results).toEqual([{ user: "carol", errorCode: 0, errorMessage: null, credentialInfos: [{ mechanism: 1, iterations: 4096 }] }]);
    } finally {
      c.close();
    }
    const md = await kcat(["-b", plain, ...kcatArgs(scram("SASL_PLAINTEXT", "SCRAM-SHA-256", "carol", "carol-pw")), "-L", "-J"]);
    expect(JSON.parse(md.stdout).brokers.length).toBe(1);
  });

  test("Kafka's errors: too few/many iterations, unknown mechanism, deleting what does not exist, one change per user, unknown users", async () => {
    const c = await admin();
    try {
      expect(await results(alterUserScramCredentialsV0.api.async(c, [], [upsert("erin", 1, "pw", 1000)]))).toEqual([
        { user: "erin", errorCode: 93, errorMessage: "Too few iterations" },
      ]);
      expect(await results(alterUserScramCredentialsV0.api.async(c, [], [upsert("erin", 2, "pw", 20000)]))).toEqual([
        { user: "erin", errorCode: 93, errorMessage: "Too many iterations" },
      ]);
      expect(await results(alterUserScramCredentialsV0.api.async(c, [], [{ ...upsert("erin", 1, "pw", 4096), mechanism: 7 }]))).toEqual([
        { user: "erin", errorCode: 33, errorMessage: "Unknown SCRAM mechanism" },
      ]);
      expect(await results(alterUserScramCredentialsV0.api.async(c, [{ name: "erin", mechanism: 1 }], []))).toEqual([
        { user: "erin", errorCode: 91, errorMessage: "Attempt to delete a user credential that does not exist" },
      ]);
      expect(await results(alterUserScramCredentialsV0.api.async(c, [], [upsert("erin", 1, "pw", 4096), upsert("erin", 2, "pw", 4096)]))).toEqual([
        { user: "erin", errorCode: 92, errorMessage: "A user credential cannot be altered twice in the same request" },
      ]);
      const d = await describeUserScramCredentialsV0.api.async(c, [{ name: "erin" }, { name: "alice" }, { name: "alice" }]).catch((e: any) => e.response);
      expect(d.results).toEqual([
        { user: "erin", errorCode: 91, errorMessage: "Attempt to describe a user credential that does not exist: erin", credentialInfos: [] },
        { user: "alice", errorCode: 92, errorMessage: "Cannot describe SCRAM credentials for the same user twice in a single request: alice", credentialInfos: [] },
      ]);
    } finally {
      c.close();
    }
    expect(broker.output().stderr).not.toContain("pw");
  });

  test("brook users against the running broker over SASL_SSL (--command-config), then a deleted credential stops working", async () => {
    const props = dir.join("admin.properties");
    writeFileSync(
      props,
      [
        "security.protocol=SASL_SSL",
        "sasl.mechanism=SCRAM-SHA-512",
        `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="${ALICE}";`,
        "ssl.truststore.type=PEM",
        `ssl.truststore.location=${pki.caPem}`,
      ].join("\n"),
    );
    const add = await users("--bootstrap-server", secure, "--command-config", props, "--alter", "--entity-name", "dave", "--add-config", "SCRAM-SHA-512=[iterations=4096,password=dave-pw]");
    expect([add.exitCode, add.stderr]).toEqual([0, ""]);
    const described = await users("--bootstrap-server", secure, "--command-config", props, "--describe", "--entity-name", "dave");
    expect(described.stdout.trim()).toBe("SCRAM credential configs for user-principal 'dave' are SCRAM-SHA-512=iterations=4096");
    const daveArgs = kcatArgs(scram("SASL_SSL", "SCRAM-SHA-512", "dave", "dave-pw"));
    expect((await kcat(["-b", secure, ...daveArgs, "-L", "-J"])).exitCode).toBe(0);
    const del = await users("--bootstrap-server", secure, "--command-config", props, "--alter", "--entity-name", "dave", "--delete-config", "SCRAM-SHA-512");
    expect(del.exitCode).toBe(0);
    expect((await kcat(["-b", secure, ...daveArgs, "-L", "-m", "3"], { allowFailure: true })).exitCode).not.toBe(0);
    const bad = await users("--bootstrap-server", secure, "--command-config", props, "--alter", "--entity-name", "dave", "--add-config", "SCRAM-SHA-512=[iterations=10,password=x]");
    expect([bad.exitCode, bad.stderr.trim()]).toEqual([1, "brook users: dave: Too few iterations (error 93)"]);
    const usage = await users("--describe");
    expect(usage.exitCode).toBe(2);
  });

  test("a user added to the log dir while the broker runs can log in at once", async () => {
    const r = await users("--log-dir", dir.join("data"), "--alter", "--entity-name", "frank", "--add-config", "SCRAM-SHA-256=[password=frank-pw]");
    expect(r.exitCode).toBe(0);
    const md = await kcat(["-b", plain, ...kcatArgs(scram("SASL_PLAINTEXT", "SCRAM-SHA-256", "frank", "frank-pw")), "-L", "-J"]);
    expect(JSON.parse(md.stdout).brokers.length).toBe(1);
    // ...and the broker's own next change keeps it.
    const c = await admin();
    try {
      expect(await results(alterUserScramCredentialsV0.api.async(c, [], [upsert("gina", 2, "gina-pw", 4096)]))).toEqual([{ user: "gina", errorCode: 0, errorMessage: null }]);
    } finally {
      c.close();
    }
    expect((await users("--log-dir", dir.join("data"), "--describe", "--entity-name", "frank")).stdout).toContain("'frank' are SCRAM-SHA-256=iterations=4096");
  });

  test("users survive a restart", async () => {
    await broker.stop();
    await start();
    const listed = await users("--log-dir", dir.join("data"), "--describe");
    expect(listed.stdout).toContain("SCRAM credential configs for user-principal 'carol' are SCRAM-SHA-256=iterations=4096");
    const md = await kcat(["-b", plain, ...kcatArgs(scram("SASL_PLAINTEXT", "SCRAM-SHA-256", "carol", "carol-pw")), "-L", "-J"]);
    expect(JSON.parse(md.stdout).brokers.length).toBe(1);
  });
});
