// ACLs end to end with stock clients, configured as in Kafka: authorizer.class.name (Kafka's
// StandardAuthorizer), super.users, SASL/PLAIN users from the listener's JAAS entry so that principals
// differ. ACLs are granted with kafka-python's KafkaAdminClient (and round-trip through @platformatic/kafka's
// Admin, which speaks the flexible v3); what each user may then do is observed through kafka-python,
// confluent_kafka (librdkafka) and kcat, with the errors those clients raise.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Admin } from "@platformatic/kafka";
import { startBroker } from "../src/broker.ts";
import { spawnBroker, type SpawnedBroker } from "./helpers/broker.ts";
import { confluentProduce, kcat, kcatConsume, pyScript, requireTools } from "./helpers/clients.ts";
import { kcatArgs, plainJaas, rdkafkaSasl } from "./helpers/sasl.ts";
import { tempDir, type TempDir } from "./helpers/tmp.ts";

setDefaultTimeout(90_000);

const STANDARD_AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer";
const USERS = {
  admin: "admin-secret",
  alice: "alice-secret",
  bob: "bob-secret",
  carol: "carol-secret",
  dave: "dave-secret",
  erin: "erin-secret",
  eve: "eve-secret",
};
type User = keyof typeof USERS;

const brokerProps = (extra: Record<string, string> = {}) => ({
  listeners: "SASL_PLAINTEXT://127.0.0.1:0",
  "sasl.enabled.mechanisms": "PLAIN",
  "listener.name.sasl_plaintext.plain.sasl.jaas.config": plainJaas(USERS),
  "authorizer.class.name": STANDARD_AUTHORIZER,
  "super.users": "User:admin",
  "num.partitions": "1",
  "group.initial.rebalance.delay.ms": "0",
  ...extra,
});

// Client settings per user.
const rdkafka = (u: User) => rdkafkaSasl("SASL_PLAINTEXT", "PLAIN", u, USERS[u]);
const kcatAs = (u: User) => kcatArgs(rdkafka(u));
const kafkaPython = (u: User) => ({ security_protocol: "SASL_PLAINTEXT", sasl_mechanism: "PLAIN", sasl_plain_username: u, sasl_plain_password: USERS[u] });

interface Acl {
  principal: string;
  host?: string;
  operation: string;
  permission: string;
  resource_type: string;
  name: string;
  pattern?: string;
}
const allow = (user: string, operation: string, resource_type: string, name: string, pattern = "LITERAL"): Acl => ({
  principal: user.includes(":") ? user : `User:${user}`,
  host: "*",
  operation,
  permission: "ALLOW",
  resource_type,
  name,
  pattern,
});
const deny = (user: string, operation: string, resource_type: string, name: string, pattern = "LITERAL"): Acl => ({
  ...allow(user, operation, resource_type, name, pattern),
  permission: "DENY",
});

async function aclAdmin(address: string, user: User, ops: object[]) {
  const r = await pyScript("acl_kafka_python.py", { bootstrap: address, config: kafkaPython(user), ops });
  return r.lines;
}

async function probe(address: string, user: User, steps: object[]) {
  const r = await pyScript("acl_probe_kafka_python.py", { bootstrap: address, config: kafkaPython(user), steps }, { timeoutMs: 60_000 });
  return r.lines;
}

async function produceAs(address: string, user: User, topic: string, values: string[]) {
  await kcat(["-b", address, ...kcatAs(user), "-P", "-t", topic], { stdin: values.join("\n") + "\n" });
}

/** kcat -L as a user: the topics its metadata shows. */
async function topicsSeenBy(address: string, user: User, topic?: string) {
  const r = await kcat(["-b", address, ...kcatAs(user), "-L", "-J", ...(topic ? ["-t", topic] : [])]);
  return (JSON.parse(r.stdout).topics as { topic: string; error?: string }[]).map((t) => ({ topic: t.topic, error: t.error ?? null }));
}

const GRANTS: Acl[] = [
  allow("alice", "READ", "TOPIC", "a"),
  allow("alice", "READ", "GROUP", "g"),
  allow("bob", "WRITE", "TOPIC", "fam-", "PREFIXED"),
  allow("bob", "READ", "TOPIC", "fam-", "PREFIXED"),
  allow("carol", "READ", "TOPIC", "*"),
  deny("carol", "READ", "TOPIC", "secret"),
  allow("carol", "READ", "GROUP", "*"),
  allow("dave", "WRITE", "TOPIC", "a"),
  allow("erin", "WRITE", "TOPIC", "a"),
  allow("erin", "WRITE", "TRANSACTIONAL_ID", "tx-erin"),
];

const aclKey = (a: Acl) => [a.resource_type, a.pattern, a.name, a.principal, a.host, a.operation, a.permission].join("|");
const sortAcls = (acls: Acl[]) => [...acls].map((a) => ({ host: "*", pattern: "LITERAL", ...a })).sort((x, y) => (aclKey(x) < aclKey(y) ? -1 : 1));

let dir: TempDir;
let broker: SpawnedBroker;

beforeAll(async () => {
  await requireTools();
  dir = await tempDir();
  broker = await spawnBroker({ dataDir: dir.path, overrides: brokerProps() });
  const [created] = await aclAdmin(broker.address, "admin", [{ op: "create", acls: GRANTS }]);
  expect(created.failed).toEqual([]);
  expect(created.succeeded).toHaveLength(GRANTS.length);
  // The super user needs no ACL to create topics and write to them.
  for (const t of ["a", "b", "secret", "fam-1", "fam-2", "other"]) await produceAs(broker.address, "admin", t, [`${t}-0`, `${t}-1`, `${t}-2`]);
});

afterAll(async () => {
  await broker?.stop();
  await dir?.remove();
});

describe("kafka-python KafkaAdminClient", () => {
  test("create_acls, describe_acls with literal, prefixed, match and any filters, delete_acls", async () => {
    const temp = [allow("zed", "DESCRIBE", "TOPIC", "zed-", "PREFIXED"), deny("zed", "WRITE", "TOPIC", "zed-topic"), allow("zed", "ALL", "GROUP", "zed-group")];
    const [created, byPrincipal, literalOnly, matching, cluster, deleted, after] = await aclAdmin(broker.address, "admin", [
      { op: "create", acls: temp },
      { op: "describe", filter: { principal: "User:zed" } },
      { op: "describe", filter: { principal: "User:zed", pattern: "LITERAL" } },
      // MATCH finds what applies to one resource: the literal zed-topic ACL, the prefixed zed- one and
      // the literal wildcard (carol's READ on every topic).
      { op: "describe", filter: { resource_type: "TOPIC", name: "zed-topic", pattern: "MATCH" } },
      { op: "describe", filter: { resource_type: "CLUSTER" } },
      { op: "delete", filters: [{ principal: "User:zed", resource_type: "TOPIC" }, { principal: "User:zed", operation: "ALL" }] },
      { op: "describe", filter: { principal: "User:zed" } },
    ]);
    expect(created.failed).toEqual([]);
    expect(byPrincipal.error).toBe("NoError");
    expect(byPrincipal.acls).toEqual(sortAcls(temp));
    expect(literalOnly.acls).toEqual(sortAcls([temp[1]!, temp[2]!]));
    expect(matching.acls).toEqual(sortAcls([temp[0]!, temp[1]!, allow("carol", "READ", "TOPIC", "*")]));
    expect(cluster.acls).toEqual([]);
    expect(deleted.results).toEqual([
      { filter_error: "NoError", acls: sortAcls([temp[0]!, temp[1]!]).map((a) => [a, "NoError"]) },
      { filter_error: "NoError", acls: [[sortAcls([temp[2]!])[0], "NoError"]] },
    ]);
    expect(after.acls).toEqual([]);
    // The grants made at the start are untouched.
    const [all] = await aclAdmin(broker.address, "admin", [{ op: "describe", filter: {} }]);
    expect(all.acls).toEqual(sortAcls(GRANTS));
  });

  test("a user without ALTER / DESCRIBE on the cluster is refused with CLUSTER_AUTHORIZATION_FAILED", async () => {
    const [created, described] = await aclAdmin(broker.address, "alice", [
      { op: "create", acls: [allow("alice", "ALL", "TOPIC", "*")] },
      { op: "describe", filter: {} },
    ]);
    expect(created.succeeded).toEqual([]);
    expect(created.failed.map((f: [Acl, string]) => f[1])).toEqual(["ClusterAuthorizationFailedError"]);
    expect(described.raised).toBe("ClusterAuthorizationFailedError");
  });
});

test("@platformatic/kafka's Admin (CreateAcls / DescribeAcls / DeleteAcls v3, flexible): create, match, delete", async () => {
  const admin = new Admin({ clientId: "acl-test", bootstrapBrokers: [broker.address], sasl: { mechanism: "PLAIN", username: "admin", password: USERS.admin } });
  try {
    // Kafka's codes: TOPIC 2, LITERAL 3, PREFIXED 4, MATCH 2, ANY 1, WRITE 4, ALLOW 3.
    const acl = { resourceType: 2, resourceName: "plat-", resourcePatternType: 4, principal: "User:plat", host: "*", operation: 4, permissionType: 3 } as const;
    await admin.createAcls({ creations: [acl] });
    const match = { resourceType: 2, resourceName: "plat-orders", resourcePatternType: 2, principal: "User:plat", host: null, operation: 1, permissionType: 1 } as const;
    expect(await admin.describeAcls({ filter: match })).toEqual([
      { resourceType: 2, resourceName: "plat-", resourcePatternType: 4, acls: [{ principal: "User:plat", host: "*", operation: 4, permissionType: 3 }] },
    ]);
    expect(await admin.deleteAcls({ filters: [match] })).toEqual([acl]);
    expect(await admin.describeAcls({ filter: match })).toEqual([]);
  } finally {
    await admin.close();
  }
});

describe("READ on topic a and group g only (alice)", () => {
  test("kafka-python consumes a in group g and commits; b and producing are TOPIC_AUTHORIZATION_FAILED", async () => {
    const [consumed, other, produced] = await probe(broker.address, "alice", [
      { op: "consume", topic: "a", group: "g", count: 3 },
      { op: "consume", topic: "b", group: "g", count: 1, timeout_s: 10 },
      { op: "produce", topic: "a", values: ["nope"] },
    ]);
    expect(consumed).toMatchObject({ ok: true, values: ["a-0", "a-1", "a-2"], committed: 3 });
    expect(other).toMatchObject({ ok: false, error: "TopicAuthorizationFailedError" });
    expect(produced).toMatchObject({ ok: false, error: "TopicAuthorizationFailedError" });
  });

  test("confluent_kafka consumes a in group g; b and producing are TOPIC_AUTHORIZATION_FAILED", async () => {
    // Group g may already have committed offsets (kafka-python's test above): the consumer resumes there.
    await produceAs(broker.address, "admin", "a", ["a-3"]);
    const a = await pyScript("group_confluent_consume.py", { bootstrap: broker.address, topic: "a", group: "g", config: rdkafka("alice") });
    const values = a.lines.filter((l) => "value" in l).map((l) => l.value);
    expect(values.length).toBeGreaterThan(0);
    expect(["a-0", "a-1", "a-2", "a-3"].slice(-values.length)).toEqual(values);
    expect(a.summary.committed).toEqual({ "0": 4 });

    const b = await pyScript("group_confluent_consume.py", { bootstrap: broker.address, topic: "b", group: "g", config: rdkafka("alice"), timeout_s: 20 }, { allowFailure: true });
    expect(b.run.exitCode).toBe(4);
    expect(b.lines.find((l) => "error" in l)?.error.name).toBe("TOPIC_AUTHORIZATION_FAILED");

    const p = await confluentProduce({ bootstrap: broker.address, topic: "a", config: rdkafka("alice"), messages: [{ value: "nope" }] }, { allowFailure: true });
    expect(p.lines.map((d) => (d.error as { name: string }).name)).toEqual(["TOPIC_AUTHORIZATION_FAILED"]);
  });

  test("Metadata shows a and hides b (kcat, kafka-python); asked for by name, b is TOPIC_AUTHORIZATION_FAILED", async () => {
    const seen = await topicsSeenBy(broker.address, "alice");
    expect(seen.map((t) => t.topic)).toEqual(["a"]);
    const [topics] = await probe(broker.address, "alice", [{ op: "topics" }]);
    expect(topics.topics).toEqual(["a"]);
    const named = await topicsSeenBy(broker.address, "alice", "b");
    expect(named).toEqual([{ topic: "b", error: "Broker: Topic authorization failed" }]);
    // The super user sees everything.
    expect((await topicsSeenBy(broker.address, "admin")).map((t) => t.topic).sort()).toEqual(["a", "b", "fam-1", "fam-2", "other", "secret"]);
  });
});

test("a prefixed ACL grants a family of topics (bob: READ and WRITE on fam-*)", async () => {
  await produceAs(broker.address, "bob", "fam-1", ["bob-1"]);
  await produceAs(broker.address, "bob", "fam-2", ["bob-2"]);
  expect((await kcatConsume(broker.address, "fam-2", { extra: kcatAs("bob") })).map((m) => m.payload)).toEqual(["fam-2-0", "fam-2-1", "fam-2-2", "bob-2"]);
  const p = await confluentProduce({ bootstrap: broker.address, topic: "other", config: rdkafka("bob"), messages: [{ value: "x" }] }, { allowFailure: true });
  expect(p.lines.map((d) => (d.error as { name: string }).name)).toEqual(["TOPIC_AUTHORIZATION_FAILED"]);
  expect((await topicsSeenBy(broker.address, "bob")).map((t) => t.topic).sort()).toEqual(["fam-1", "fam-2"]);
});

test("a DENY overrides an ALLOW (carol: READ on every topic, DENY READ on secret)", async () => {
  const [a, secret] = await probe(broker.address, "carol", [
    { op: "consume", topic: "a", group: "carol-group", count: 3 },
    { op: "consume", topic: "secret", group: "carol-group", count: 1, timeout_s: 10 },
  ]);
  expect(a.ok).toBe(true);
  expect(a.values.slice(0, 3)).toEqual(["a-0", "a-1", "a-2"]);
  expect(secret).toMatchObject({ ok: false, error: "TopicAuthorizationFailedError" });
  // DENY READ does not deny DESCRIBE (only ALLOWs imply it): the topic is still listed.
  expect((await topicsSeenBy(broker.address, "carol")).map((t) => t.topic).sort()).toContain("secret");
  const r = await kcat(["-b", broker.address, ...kcatAs("carol"), "-C", "-e", "-o", "beginning", "-t", "secret", "-q"], { allowFailure: true });
  expect(r.exitCode).not.toBe(0);
  expect(r.stderr).toContain("Topic authorization failed");
});

describe("transactions (confluent_kafka)", () => {
  test("a transactional producer without WRITE on its transactional id is refused", async () => {
    const r = await pyScript("txn_confluent.py", { bootstrap: broker.address, transactional_id: "tx-dave", config: rdkafka("dave"), steps: [{ op: "init", timeout_s: 20 }] }, { allowFailure: true });
    const init = r.lines.find((l) => l.op === "init");
    expect(init).toMatchObject({ ok: false, error: { name: "TRANSACTIONAL_ID_AUTHORIZATION_FAILED" } });
  });

  test("with WRITE on it the same producer commits", async () => {
    const r = await pyScript("txn_confluent.py", {
      bootstrap: broker.address,
      transactional_id: "tx-erin",
      config: rdkafka("erin"),
      steps: [{ op: "init" }, { op: "begin" }, { op: "produce", topic: "a", prefix: "erin-", count: 2 }, { op: "commit" }],
    });
    expect(r.lines.filter((l) => "op" in l).map((l) => [l.op, l.ok])).toEqual([
      ["init", true],
      ["begin", true],
      ["produce", true],
      ["commit", true],
    ]);
    const msgs = await kcatConsume(broker.address, "a", { extra: [...kcatAs("admin"), "-X", "isolation.level=read_committed"] });
    expect(msgs.map((m) => m.payload).slice(-2)).toEqual(["erin-0", "erin-1"]);
  });
});

test("super.users bypass every ACL, DENYs included", async () => {
  const secret = await kcatConsume(broker.address, "secret", { extra: kcatAs("admin") });
  expect(secret.map((m) => m.payload)).toEqual(["secret-0", "secret-1", "secret-2"]);
  const [added] = await aclAdmin(broker.address, "admin", [{ op: "create", acls: [deny("admin", "ALL", "TOPIC", "*")] }]);
  expect(added.failed).toEqual([]);
  await produceAs(broker.address, "admin", "secret", ["still-admin"]);
  await aclAdmin(broker.address, "admin", [{ op: "delete", filters: [{ principal: "User:admin" }] }]);
});

describe("allow.everyone.if.no.acl.found", () => {
  test("false (Kafka's default): a resource without ACLs is closed to everyone but super users", async () => {
    const p = await confluentProduce({ bootstrap: broker.address, topic: "other", config: rdkafka("eve"), messages: [{ value: "x" }] }, { allowFailure: true });
    expect(p.lines.map((d) => (d.error as { name: string }).name)).toEqual(["TOPIC_AUTHORIZATION_FAILED"]);
    expect(await topicsSeenBy(broker.address, "eve")).toEqual([]);
  });

  test("true: a resource without ACLs is open to everyone, one with ACLs only to whom they allow", async () => {
    await using d = await tempDir();
    await using open = await startBroker({ dataDir: d.path, logLevel: "warn", overrides: brokerProps({ "allow.everyone.if.no.acl.found": "true" }) });
    const [created] = await aclAdmin(open.address, "admin", [{ op: "create", acls: [allow("alice", "READ", "TOPIC", "guarded")] }]);
    expect(created.failed).toEqual([]);
    await produceAs(open.address, "eve", "anyone", ["e1", "e2"]);
    expect((await kcatConsume(open.address, "anyone", { extra: kcatAs("eve") })).map((m) => m.payload)).toEqual(["e1", "e2"]);
    const p = await confluentProduce({ bootstrap: open.address, topic: "guarded", config: rdkafka("eve"), messages: [{ value: "x" }] }, { allowFailure: true });
    expect(p.lines.map((d) => (d.error as { name: string }).name)).toEqual(["TOPIC_AUTHORIZATION_FAILED"]);
  });
});

test("ACLs survive a restart", async () => {
  const [before] = await aclAdmin(broker.address, "admin", [{ op: "describe", filter: {} }]);
  expect(before.acls).toEqual(sortAcls(GRANTS));
  expect(await broker.stop()).toBe(0);
  broker = await spawnBroker({ dataDir: dir.path, overrides: brokerProps() });
  const [after] = await aclAdmin(broker.address, "admin", [{ op: "describe", filter: {} }]);
  expect(after.acls).toEqual(before.acls);
  const [a, b] = await probe(broker.address, "alice", [
    { op: "consume", topic: "a", group: "g2-not-allowed", count: 1, timeout_s: 10 },
    { op: "consume", topic: "b", group: "g", count: 1, timeout_s: 10 },
  ]);
  expect(a).toMatchObject({ ok: false, error: "GroupAuthorizationFailedError" });
  expect(b).toMatchObject({ ok: false, error: "TopicAuthorizationFailedError" });
  expect((await topicsSeenBy(broker.address, "alice")).map((t) => t.topic)).toEqual(["a"]);
});
