// The authorizer's decisions, against the rules Kafka's StandardAuthorizer applies (each case states the
// rule it checks), its filters (DescribeAcls / DeleteAcls), the KIP-679 "any resource of a type" question,
// durability of the ACL file and the configuration that turns it on.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  AclOperation as Op,
  PatternType,
  Permission,
  ResourceType as Res,
  filterMatches,
  invalidBinding,
  type AclBinding,
  type AclFilter,
} from "../src/acl/acl.ts";
import { Authorizer, authorizerSettings, hostAddress } from "../src/acl/authorizer.ts";
import { buildConfig, ConfigError } from "../src/config.ts";
import { Logger } from "../src/log.ts";
import { tempDir } from "./helpers/tmp.ts";

const log = new Logger("silent");
const HOST = "10.0.0.1";

function acl(principal: string, operation: number, resourceType: number, resourceName: string, more: Partial<AclBinding> = {}): AclBinding {
  return { principal, operation, resourceType, resourceName, patternType: PatternType.LITERAL, host: "*", permission: Permission.ALLOW, ...more };
}
const denyAcl = (principal: string, operation: number, resourceType: number, resourceName: string, more: Partial<AclBinding> = {}) =>
  acl(principal, operation, resourceType, resourceName, { permission: Permission.DENY, ...more });

async function authorizerWith(acls: AclBinding[], settings: { superUsers?: string[]; allowEveryoneIfNoAcl?: boolean } = {}) {
  const dir = await tempDir();
  const a = Authorizer.open(dir.path, { superUsers: new Set(settings.superUsers ?? []), allowEveryoneIfNoAcl: settings.allowEveryoneIfNoAcl ?? false }, log);
  expect(a.create(acls, "test")).toEqual(acls.map(() => null));
  return { a, dir };
}

const can = (a: Authorizer, principal: string, op: number, type: number, name: string, host = HOST) => a.authorize(principal, host, op, type, name);

describe("decisions", () => {
  test("no ACL on a resource: allow.everyone.if.no.acl.found decides; an ACL for anyone else closes it", async () => {
    const closed = await authorizerWith([]);
    expect(can(closed.a, "User:alice", Op.READ, Res.TOPIC, "t")).toBe(false);
    const open = await authorizerWith([acl("User:bob", Op.READ, Res.TOPIC, "guarded")], { allowEveryoneIfNoAcl: true });
    expect(can(open.a, "User:alice", Op.READ, Res.TOPIC, "t")).toBe(true);
    expect(can(open.a, "User:alice", Op.READ, Res.TOPIC, "guarded")).toBe(false);
    expect(can(open.a, "User:bob", Op.READ, Res.TOPIC, "guarded")).toBe(true);
    // Another principal's ACL on the resource is enough to close it, whatever operation it names.
    expect(can(open.a, "User:alice", Op.WRITE, Res.TOPIC, "guarded")).toBe(false);
    await closed.dir.remove();
    await open.dir.remove();
  });

  test("ALLOW READ, WRITE, DELETE or ALTER implies DESCRIBE; ALTER_CONFIGS implies DESCRIBE_CONFIGS; nothing else is implied", async () => {
    const { a, dir } = await authorizerWith([
      acl("User:r", Op.READ, Res.TOPIC, "t"),
      acl("User:w", Op.WRITE, Res.TOPIC, "t"),
      acl("User:d", Op.DELETE, Res.TOPIC, "t"),
      acl("User:al", Op.ALTER, Res.TOPIC, "t"),
      acl("User:ac", Op.ALTER_CONFIGS, Res.TOPIC, "t"),
      acl("User:c", Op.CREATE, Res.TOPIC, "t"),
    ]);
    for (const u of ["User:r", "User:w", "User:d", "User:al"]) expect(can(a, u, Op.DESCRIBE, Res.TOPIC, "t")).toBe(true);
    expect(can(a, "User:c", Op.DESCRIBE, Res.TOPIC, "t")).toBe(false);
    expect(can(a, "User:ac", Op.DESCRIBE, Res.TOPIC, "t")).toBe(false);
    expect(can(a, "User:ac", Op.DESCRIBE_CONFIGS, Res.TOPIC, "t")).toBe(true);
    expect(can(a, "User:r", Op.DESCRIBE_CONFIGS, Res.TOPIC, "t")).toBe(false);
    expect(can(a, "User:r", Op.WRITE, Res.TOPIC, "t")).toBe(false);
    expect(can(a, "User:w", Op.READ, Res.TOPIC, "t")).toBe(false);
    await dir.remove();
  });

  test("ALL allows every operation; a DENY of ALL refuses every one", async () => {
    const { a, dir } = await authorizerWith([acl("User:x", Op.ALL, Res.GROUP, "g"), acl("User:y", Op.ALL, Res.GROUP, "*"), denyAcl("User:y", Op.ALL, Res.GROUP, "g")]);
    for (const op of [Op.READ, Op.DESCRIBE, Op.DELETE]) {
      expect(can(a, "User:x", op, Res.GROUP, "g")).toBe(true);
      expect(can(a, "User:y", op, Res.GROUP, "g")).toBe(false);
      expect(can(a, "User:y", op, Res.GROUP, "other")).toBe(true);
    }
    await dir.remove();
  });

  test("DENY wins over ALLOW wherever each comes from: literal, prefixed, wildcard", async () => {
    const { a, dir } = await authorizerWith([
      acl("User:u", Op.READ, Res.TOPIC, "*"),
      acl("User:u", Op.READ, Res.TOPIC, "pay-", { patternType: PatternType.PREFIXED }),
      acl("User:u", Op.READ, Res.TOPIC, "pay-eu"),
      denyAcl("User:u", Op.READ, Res.TOPIC, "pay-eu"),
      denyAcl("User:u", Op.READ, Res.TOPIC, "pay-us", { patternType: PatternType.PREFIXED }),
      denyAcl("User:*", Op.READ, Res.TOPIC, "audit"),
    ]);
    expect(can(a, "User:u", Op.READ, Res.TOPIC, "pay-asia")).toBe(true);
    expect(can(a, "User:u", Op.READ, Res.TOPIC, "pay-eu")).toBe(false);
    expect(can(a, "User:u", Op.READ, Res.TOPIC, "pay-us-east")).toBe(false);
    expect(can(a, "User:u", Op.READ, Res.TOPIC, "audit")).toBe(false);
    // A DENY of READ does not deny DESCRIBE, which the ALLOWs still imply.
    expect(can(a, "User:u", Op.DESCRIBE, Res.TOPIC, "pay-eu")).toBe(true);
    await dir.remove();
  });

  test("a prefixed ACL covers the names that start with it, and only those; names are case-sensitive", async () => {
    const { a, dir } = await authorizerWith([acl("User:u", Op.WRITE, Res.TOPIC, "fam-", { patternType: PatternType.PREFIXED })]);
    expect(can(a, "User:u", Op.WRITE, Res.TOPIC, "fam-")).toBe(true);
    expect(can(a, "User:u", Op.WRITE, Res.TOPIC, "fam-1")).toBe(true);
    expect(can(a, "User:u", Op.WRITE, Res.TOPIC, "fam")).toBe(false);
    expect(can(a, "User:u", Op.WRITE, Res.TOPIC, "Fam-1")).toBe(false);
    expect(can(a, "User:u", Op.WRITE, Res.TOPIC, "other")).toBe(false);
    // A prefixed "*" is a prefix like any other, not the wildcard.
    const star = await authorizerWith([acl("User:u", Op.READ, Res.TOPIC, "*", { patternType: PatternType.PREFIXED })]);
    expect(can(star.a, "User:u", Op.READ, Res.TOPIC, "x")).toBe(false);
    expect(can(star.a, "User:u", Op.READ, Res.TOPIC, "*x")).toBe(true);
    await dir.remove();
    await star.dir.remove();
  });

  test("principals and hosts: exact, User:* and * match; nothing else does", async () => {
    const { a, dir } = await authorizerWith([
      acl("User:*", Op.READ, Res.TOPIC, "public"),
      acl("User:alice", Op.READ, Res.TOPIC, "from-one-host", { host: "10.0.0.1" }),
      acl("Group:alice", Op.READ, Res.TOPIC, "typed"),
    ]);
    expect(can(a, "User:anyone", Op.READ, Res.TOPIC, "public")).toBe(true);
    expect(can(a, "User:alice", Op.READ, Res.TOPIC, "from-one-host", "10.0.0.1")).toBe(true);
    expect(can(a, "User:alice", Op.READ, Res.TOPIC, "from-one-host", "10.0.0.2")).toBe(false);
    expect(can(a, "User:ALICE", Op.READ, Res.TOPIC, "from-one-host", "10.0.0.1")).toBe(false);
    expect(can(a, "User:alice", Op.READ, Res.TOPIC, "typed")).toBe(false);
    await dir.remove();
  });

  test("resource types are separate: a topic ACL says nothing about a group of the same name", async () => {
    const { a, dir } = await authorizerWith([acl("User:u", Op.READ, Res.TOPIC, "same")], { allowEveryoneIfNoAcl: false });
    expect(can(a, "User:u", Op.READ, Res.GROUP, "same")).toBe(false);
    expect(can(a, "User:u", Op.READ, Res.TOPIC, "same")).toBe(true);
    await dir.remove();
  });

  test("super users are allowed everything, DENYs included", async () => {
    const { a, dir } = await authorizerWith([denyAcl("User:root", Op.ALL, Res.TOPIC, "*")], { superUsers: ["User:root"] });
    expect(can(a, "User:root", Op.WRITE, Res.TOPIC, "t")).toBe(true);
    expect(can(a, "User:root", Op.ALTER, Res.CLUSTER, "kafka-cluster")).toBe(true);
    expect(can(a, "User:other", Op.WRITE, Res.TOPIC, "t")).toBe(false);
    await dir.remove();
  });
});

describe("authorizeByResourceType (KIP-679: IDEMPOTENT_WRITE or WRITE on any topic)", () => {
  const any = (a: Authorizer, principal = "User:u") => a.authorizeByResourceType(principal, HOST, Op.WRITE, Res.TOPIC);

  test("an ALLOW on one topic is enough", async () => {
    const { a, dir } = await authorizerWith([acl("User:u", Op.WRITE, Res.TOPIC, "t")]);
    expect(any(a)).toBe(true);
    expect(any(a, "User:v")).toBe(false);
    await dir.remove();
  });

  test("an ALLOW cancelled by a DENY of the same literal name, or by a DENY prefix covering it, does not count", async () => {
    const literal = await authorizerWith([acl("User:u", Op.WRITE, Res.TOPIC, "t"), denyAcl("User:u", Op.WRITE, Res.TOPIC, "t")]);
    expect(any(literal.a)).toBe(false);
    const prefixed = await authorizerWith([
      acl("User:u", Op.WRITE, Res.TOPIC, "team-a", { patternType: PatternType.PREFIXED }),
      denyAcl("User:u", Op.WRITE, Res.TOPIC, "team-", { patternType: PatternType.PREFIXED }),
    ]);
    expect(any(prefixed.a)).toBe(false);
    const wildcardDeny = await authorizerWith([acl("User:u", Op.WRITE, Res.TOPIC, "t"), denyAcl("User:u", Op.WRITE, Res.TOPIC, "*")]);
    expect(any(wildcardDeny.a)).toBe(false);
    const elsewhere = await authorizerWith([acl("User:u", Op.WRITE, Res.TOPIC, "t"), denyAcl("User:u", Op.WRITE, Res.TOPIC, "s")]);
    expect(any(elsewhere.a)).toBe(true);
    for (const x of [literal, prefixed, wildcardDeny, elsewhere]) await x.dir.remove();
  });

  test("open resources (no ACLs, allow.everyone.if.no.acl.found) and super users pass", async () => {
    const open = await authorizerWith([], { allowEveryoneIfNoAcl: true });
    expect(any(open.a)).toBe(true);
    const root = await authorizerWith([denyAcl("User:root", Op.WRITE, Res.TOPIC, "*")], { superUsers: ["User:root"] });
    expect(any(root.a, "User:root")).toBe(true);
    await open.dir.remove();
    await root.dir.remove();
  });
});

describe("filters", () => {
  const literalA = acl("User:u", Op.READ, Res.TOPIC, "a");
  const prefixedA = acl("User:u", Op.READ, Res.TOPIC, "a", { patternType: PatternType.PREFIXED });
  const wildcard = acl("User:u", Op.READ, Res.TOPIC, "*");
  const f = (more: Partial<AclFilter>): AclFilter => ({
    resourceType: Res.ANY,
    resourceName: null,
    patternType: PatternType.ANY,
    principal: null,
    host: null,
    operation: Op.ANY,
    permission: Permission.ANY,
    ...more,
  });

  test("pattern types: ANY and a concrete type compare names exactly; MATCH finds what applies to the name", () => {
    expect([literalA, prefixedA, wildcard].map((b) => filterMatches(f({ resourceName: "a" }), b))).toEqual([true, true, false]);
    expect([literalA, prefixedA, wildcard].map((b) => filterMatches(f({ resourceName: "a", patternType: PatternType.LITERAL }), b))).toEqual([true, false, false]);
    expect([literalA, prefixedA, wildcard].map((b) => filterMatches(f({ resourceName: "a", patternType: PatternType.PREFIXED }), b))).toEqual([false, true, false]);
    expect([literalA, prefixedA, wildcard].map((b) => filterMatches(f({ resourceName: "abc", patternType: PatternType.MATCH }), b))).toEqual([false, true, true]);
    expect([literalA, prefixedA, wildcard].map((b) => filterMatches(f({ patternType: PatternType.MATCH }), b))).toEqual([true, true, true]);
  });

  test("entries: principal and host compare exactly (User:* only matches User:*), ANY operation and permission match all", () => {
    expect(filterMatches(f({ principal: "User:*" }), literalA)).toBe(false);
    expect(filterMatches(f({ principal: "User:u", host: "*" }), literalA)).toBe(true);
    expect(filterMatches(f({ host: "10.0.0.1" }), literalA)).toBe(false);
    expect(filterMatches(f({ operation: Op.WRITE }), literalA)).toBe(false);
    expect(filterMatches(f({ permission: Permission.DENY }), literalA)).toBe(false);
    expect(filterMatches(f({ resourceType: Res.GROUP }), literalA)).toBe(false);
  });
});

describe("validation (Kafka's messages)", () => {
  const good = acl("User:u", Op.READ, Res.TOPIC, "t");
  test.each([
    [{ resourceType: Res.CLUSTER, resourceName: "my-cluster" }, "The only valid name for the CLUSTER resource is kafka-cluster"],
    [{ resourceName: "" }, "Invalid empty resource name"],
    [{ resourceType: Res.ANY }, "Invalid resourceType ANY"],
    [{ patternType: PatternType.MATCH }, "Invalid patternType MATCH"],
    [{ operation: Op.ANY }, "Invalid operation ANY"],
    [{ operation: 42 }, "Invalid operation UNKNOWN"],
    [{ permission: Permission.ANY }, "Invalid permissionType ANY"],
    [{ principal: "alice" }, "Could not parse principal from `alice` (no colon is present separating the principal type from the principal name)"],
  ] as [Partial<AclBinding>, string][])("%j is refused", (change, message) => {
    expect(invalidBinding({ ...good, ...change })).toBe(message);
  });

  test("valid bindings, delegation-token and user resources included (Kafka stores those too)", () => {
    expect(invalidBinding(good)).toBeNull();
    expect(invalidBinding(acl("User:u", Op.DESCRIBE, Res.DELEGATION_TOKEN, "token-1"))).toBeNull();
    expect(invalidBinding(acl("User:u", Op.CREATE_TOKENS, Res.USER, "User:u"))).toBeNull();
    expect(invalidBinding(acl("User:u", Op.ALTER, Res.CLUSTER, "kafka-cluster"))).toBeNull();
  });
});

describe("durability", () => {
  test("ACLs are in brook-acls.json before create/delete return, and a new authorizer over the directory decides the same", async () => {
    await using dir = await tempDir();
    const settings = { superUsers: new Set<string>(), allowEveryoneIfNoAcl: false };
    const a = Authorizer.open(dir.path, settings, log);
    a.create([acl("User:u", Op.READ, Res.TOPIC, "keep"), acl("User:u", Op.READ, Res.TOPIC, "drop", { patternType: PatternType.PREFIXED })], "test");
    // Creating an ACL that exists changes nothing.
    expect(a.create([acl("User:u", Op.READ, Res.TOPIC, "keep")], "test")).toEqual([null]);
    expect(a.size).toBe(2);
    const deleted = a.delete([{ resourceType: Res.TOPIC, resourceName: "drop", patternType: PatternType.PREFIXED, principal: null, host: null, operation: Op.ANY, permission: Permission.ANY }], "test");
    expect(deleted.map((d) => d.deleted.map((b) => b.resourceName))).toEqual([["drop"]]);
    const file = join(dir.path, "brook-acls.json");
    expect(existsSync(file)).toBe(true);
    expect(JSON.parse(readFileSync(file, "utf8")).acls).toEqual([
      { resourceType: "TOPIC", name: "keep", patternType: "LITERAL", principal: "User:u", host: "*", operation: "READ", permissionType: "ALLOW" },
    ]);
    const reopened = Authorizer.open(dir.path, settings, log);
    expect(reopened.size).toBe(1);
    expect(can(reopened, "User:u", Op.READ, Res.TOPIC, "keep")).toBe(true);
    expect(can(reopened, "User:u", Op.READ, Res.TOPIC, "drop-1")).toBe(false);
  });

  test("an unreadable ACL file stops the start instead of running with fewer ACLs", async () => {
    await using dir = await tempDir();
    writeFileSync(join(dir.path, "brook-acls.json"), "{not json");
    expect(() => Authorizer.open(dir.path, { superUsers: new Set(), allowEveryoneIfNoAcl: false }, log)).toThrow(/cannot read the ACLs/);
  });
});

describe("configuration", () => {
  const settingsOf = (props: Record<string, string>) => authorizerSettings(buildConfig(Object.entries(props)));

  test("authorizer.class.name: empty = no authorizer; Kafka's StandardAuthorizer and AclAuthorizer enable it; anything else is refused", () => {
    expect(settingsOf({})).toBeNull();
    expect(settingsOf({ "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer" })).toEqual({ superUsers: new Set(), allowEveryoneIfNoAcl: false });
    expect(settingsOf({ "authorizer.class.name": "kafka.security.authorizer.AclAuthorizer" })).not.toBeNull();
    expect(() => settingsOf({ "authorizer.class.name": "com.example.MyAuthorizer" })).toThrow(ConfigError);
  });

  test("super.users is semicolon-separated; allow.everyone.if.no.acl.found is a boolean", () => {
    const s = settingsOf({
      "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
      "super.users": "User:admin; User:ops;",
      "allow.everyone.if.no.acl.found": "true",
    });
    expect(s).toEqual({ superUsers: new Set(["User:admin", "User:ops"]), allowEveryoneIfNoAcl: true });
    expect(() => settingsOf({ "authorizer.class.name": "kafka.security.authorizer.AclAuthorizer", "super.users": "admin" })).toThrow(ConfigError);
    expect(() => buildConfig([["allow.everyone.if.no.acl.found", "maybe"]])).toThrow(ConfigError);
  });
});

test("client addresses are compared in Java's InetAddress.getHostAddress() form", () => {
  expect(hostAddress("127.0.0.1")).toBe("127.0.0.1");
  expect(hostAddress("::ffff:10.1.2.3")).toBe("10.1.2.3");
  expect(hostAddress("::1")).toBe("0:0:0:0:0:0:0:1");
  expect(hostAddress("fe80::1%eth0")).toBe("fe80:0:0:0:0:0:0:1%eth0");
  expect(hostAddress("2001:db8::0:1")).toBe("2001:db8:0:0:0:0:0:1");
});
