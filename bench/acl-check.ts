// Micro-benchmark: what an authorization check costs a handler. Produce and Fetch ask once per topic per
// request (ctx.authorize), so this is the whole added cost of ACLs on the hot path. Measured: the
// per-connection cached answer (the normal case), the uncached decision over many ACLs (the first
// request of a connection, or the first after the ACLs change), and the no-authorizer path.
//   bun bench/acl-check.ts [ACL count, default 10000]
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { AclOperation, PatternType, Permission, ResourceType, type AclBinding } from "../src/acl/acl.ts";
import { ALLOW_EVERYTHING, Authorizer, requestAuthorizer } from "../src/acl/authorizer.ts";
import { Logger } from "../src/log.ts";

const aclCount = Number(process.argv[2] ?? 10_000);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "acl-check-"));
const log = new Logger("silent");
const authorizer = Authorizer.open(dir, { superUsers: new Set(), allowEveryoneIfNoAcl: false }, log);

// Many principals, each with a literal WRITE on its own topic and a prefixed READ on its family; the
// measured principal's topic is among them.
const acls: AclBinding[] = [];
for (let i = 0; i < aclCount; i++) {
  const pattern = i % 10 === 0 ? PatternType.PREFIXED : PatternType.LITERAL;
  acls.push({ resourceType: ResourceType.TOPIC, resourceName: pattern === PatternType.PREFIXED ? `fam-${i}-` : `topic-${i}`, patternType: pattern, principal: `User:u${i}`, host: "*", operation: AclOperation.WRITE, permission: Permission.ALLOW });
}
acls.push({ resourceType: ResourceType.TOPIC, resourceName: "orders", patternType: PatternType.LITERAL, principal: "User:me", host: "*", operation: AclOperation.WRITE, permission: Permission.ALLOW });
authorizer.create(acls, "bench");
const session = { principal: "User:me", clientHost: "127.0.0.1" };

function measure(name: string, n: number, check: () => boolean): void {
  for (let i = 0; i < 1000; i++) check(); // warm up
  const t0 = Bun.nanoseconds();
  let allowed = 0;
  for (let i = 0; i < n; i++) if (check()) allowed++;
  const ns = (Bun.nanoseconds() - t0) / n;
  console.log(`${name.padEnd(58)} ${ns.toFixed(1).padStart(9)} ns/check  (${allowed === n ? "allowed" : allowed === 0 ? "denied" : "mixed"})`);
}

const cached = requestAuthorizer(authorizer, session, log);
measure("no authorizer (ALLOW_EVERYTHING)", 10_000_000, () => ALLOW_EVERYTHING.authorize(AclOperation.WRITE, ResourceType.TOPIC, "orders"));
measure("cached per connection, allowed", 10_000_000, () => cached.authorize(AclOperation.WRITE, ResourceType.TOPIC, "orders"));
measure("cached per connection, denied", 10_000_000, () => cached.authorize(AclOperation.READ, ResourceType.TOPIC, "orders", false));
measure(`uncached decision over ${acls.length} ACLs (${Math.ceil(aclCount / 10)} prefixed), allowed`, 1_000_000, () =>
  authorizer.authorize("User:me", "127.0.0.1", AclOperation.WRITE, ResourceType.TOPIC, "orders"));
measure(`uncached decision over ${acls.length} ACLs, no ACL on the topic`, 1_000_000, () =>
  authorizer.authorize("User:me", "127.0.0.1", AclOperation.WRITE, ResourceType.TOPIC, "nobody-has-this"));
fs.rmSync(dir, { recursive: true, force: true });
