// Brook's authorizer, enabled by authorizer.class.name naming Kafka's StandardAuthorizer (or the older
// AclAuthorizer), with Kafka's decision rules:
//   - super.users are allowed everything;
//   - the ACLs that apply to a resource are its literal ones, the literal wildcard "*" of its type, and
//     every prefixed ACL whose name starts the resource name; of those, the ones naming the principal (or
//     User:*) and the client's host (or *) and the operation (or ALL) decide;
//   - a matching DENY wins over any ALLOW; an ALLOW of READ, WRITE, DELETE or ALTER also allows DESCRIBE,
//     and an ALLOW of ALTER_CONFIGS also allows DESCRIBE_CONFIGS (DENY implies nothing);
//   - with no ACL at all on the resource, allow.everyone.if.no.acl.found decides; with ACLs but none
//     allowing, the answer is no.
// ACLs live in brook-acls.json in the first log dir, replaced atomically (and the directory fsynced) before
// a CreateAcls / DeleteAcls is answered, so they survive restarts and crashes.
//
// Handlers ask through a per-connection RequestAuthorizer (ctx.authorize, ctx.authz), which caches
// decisions by (operation, resource type, name) until the ACLs change or the principal does: a produce
// or fetch pays a map lookup per topic, and without an authorizer nothing but a call that returns true.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, type BrokerConfig } from "../config.ts";
import { syncDir } from "../framed-file.ts";
import type { Logger } from "../log.ts";
import { writeFileAtomic } from "../topics.ts";
import {
  AclOperation,
  PatternType,
  Permission,
  ResourceType,
  SUPPORTED_OPERATIONS,
  WILDCARD_HOST,
  WILDCARD_PRINCIPAL,
  WILDCARD_RESOURCE,
  describeBinding,
  filterMatches,
  invalidBinding,
  invalidFilter,
  operationName,
  operationsBitfield,
  patternTypeName,
  permissionName,
  resourceTypeName,
  sameBinding,
  type AclBinding,
  type AclFilter,
} from "./acl.ts";

/** Class names that turn the authorizer on (Kafka 4's and the ZooKeeper-era one). */
export const AUTHORIZER_CLASS_NAMES = ["org.apache.kafka.metadata.authorizer.StandardAuthorizer", "kafka.security.authorizer.AclAuthorizer"];

const FILE = "brook-acls.json";

export interface AuthorizerSettings {
  /** principals allowed everything (super.users, "User:alice;User:bob") */
  superUsers: ReadonlySet<string>;
  allowEveryoneIfNoAcl: boolean;
}

/** The authorizer settings, or null when authorizer.class.name is empty (no authorization, Kafka's default). */
export function authorizerSettings(config: BrokerConfig): AuthorizerSettings | null {
  const className = (config.get("authorizer.class.name") as string | null) ?? "";
  if (className === "") return null;
  if (!AUTHORIZER_CLASS_NAMES.includes(className))
    throw new ConfigError(`authorizer.class.name: ${className} is not an authorizer Brook provides (use ${AUTHORIZER_CLASS_NAMES[0]}, or leave it empty)`);
  const superUsers = new Set<string>();
  for (const p of ((config.get("super.users") as string | null) ?? "").split(";")) {
    const principal = p.trim();
    if (principal === "") continue;
    if (principal.indexOf(":") <= 0) throw new ConfigError(`super.users: "${principal}" is not a principal (expected e.g. User:alice)`);
    superUsers.add(principal);
  }
  return { superUsers, allowEveryoneIfNoAcl: config.get("allow.everyone.if.no.acl.found") as boolean };
}

interface TypeIndex {
  literal: Map<string, AclBinding[]>;
  prefixed: Map<string, AclBinding[]>;
  /** the distinct lengths of the prefixes, ascending: a name is looked up by its prefixes of these lengths */
  prefixLengths: number[];
}

/** Operations an ALLOW of another operation implies (only for ALLOW ACLs). */
const IMPLIES_DESCRIBE: ReadonlySet<number> = new Set([AclOperation.DESCRIBE, AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER]);
const IMPLIES_DESCRIBE_CONFIGS: ReadonlySet<number> = new Set([AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS]);

const NO_MATCH = 0;
const ALLOWED = 1;
const DENIED = 2;
const DENIED_LOGGED = 3;

/** The strongest of the ACLs' results: DENIED if any denies, else ALLOWED if any allows, else NO_MATCH. */
function decideAll(acls: AclBinding[], principal: string, host: string, op: number): number {
  let result = NO_MATCH;
  for (let i = 0; i < acls.length; i++) {
    const r = decide(acls[i]!, principal, host, op);
    if (r === DENIED) return DENIED;
    if (r === ALLOWED) result = ALLOWED;
  }
  return result;
}

/** Kafka's StandardAuthorizerData.findResult for an ACL already known to cover the resource. */
function decide(acl: AclBinding, principal: string, host: string, op: number): number {
  if (acl.principal !== principal && acl.principal !== WILDCARD_PRINCIPAL) return NO_MATCH;
  if (acl.host !== WILDCARD_HOST && acl.host !== host) return NO_MATCH;
  if (acl.operation !== AclOperation.ALL) {
    if (acl.permission === Permission.ALLOW) {
      if (op === AclOperation.DESCRIBE) {
        if (!IMPLIES_DESCRIBE.has(acl.operation)) return NO_MATCH;
      } else if (op === AclOperation.DESCRIBE_CONFIGS) {
        if (!IMPLIES_DESCRIBE_CONFIGS.has(acl.operation)) return NO_MATCH;
      } else if (acl.operation !== op) return NO_MATCH;
    } else if (acl.operation !== op) return NO_MATCH;
  }
  return acl.permission === Permission.ALLOW ? ALLOWED : DENIED;
}

// ---- the file -------------------------------------------------------------------------------------

interface StoredAcl {
  resourceType: string;
  name: string;
  patternType: string;
  principal: string;
  host: string;
  operation: string;
  permissionType: string;
}

function codeOf(table: Record<string, number>, name: string, what: string, path: string): number {
  const code = table[name];
  if (code === undefined) throw new Error(`${path}: unknown ${what} ${JSON.stringify(name)}`);
  return code;
}

function load(path: string): AclBinding[] {
  if (!existsSync(path)) return [];
  let stored: { acls?: StoredAcl[] };
  try {
    stored = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    // Refuse to start rather than run with fewer ACLs than were granted or denied.
    throw new Error(`cannot read the ACLs in ${path}: ${(e as Error).message}`);
  }
  return (stored.acls ?? []).map((s) => ({
    resourceType: codeOf(ResourceType, s.resourceType, "resource type", path),
    resourceName: s.name,
    patternType: codeOf(PatternType, s.patternType, "pattern type", path),
    principal: s.principal,
    host: s.host,
    operation: codeOf(AclOperation, s.operation, "operation", path),
    permission: codeOf(Permission, s.permissionType, "permission type", path),
  }));
}

function toStored(b: AclBinding): StoredAcl {
  return {
    resourceType: resourceTypeName(b.resourceType),
    name: b.resourceName,
    patternType: patternTypeName(b.patternType),
    principal: b.principal,
    host: b.host,
    operation: operationName(b.operation),
    permissionType: permissionName(b.permission),
  };
}

// ---- the authorizer -------------------------------------------------------------------------------

export interface DeleteResult {
  /** why the filter was refused (INVALID_REQUEST), else null */
  error: string | null;
  deleted: AclBinding[];
}

export class Authorizer {
  private bindings: AclBinding[] = [];
  private index = new Map<number, TypeIndex>();
  /** Moves on every change of the ACLs: sessions drop their cached decisions. */
  generation = 0;

  private constructor(
    private readonly path: string,
    readonly settings: AuthorizerSettings,
    private readonly log: Logger,
  ) {}

  /** The broker's authorizer (its ACLs loaded), or null when authorizer.class.name is not set. */
  static forBroker(config: BrokerConfig, log: Logger): Authorizer | null {
    const settings = authorizerSettings(config);
    if (!settings) return null;
    const a = new Authorizer(join(config.logDirs[0]!, FILE), settings, log);
    a.replace(load(a.path));
    const supers = settings.superUsers.size > 0 ? `, super users ${[...settings.superUsers].join(", ")}` : "";
    log.info(
      `authorizer enabled with ${a.bindings.length} ACL(s) from ${a.path}${supers}; ` +
        `resources without ACLs are ${settings.allowEveryoneIfNoAcl ? "open to everyone" : "closed"} (allow.everyone.if.no.acl.found)`,
    );
    return a;
  }

  /** An authorizer over ACLs kept in dir (tests, tools). */
  static open(dir: string, settings: AuthorizerSettings, log: Logger): Authorizer {
    const a = new Authorizer(join(dir, FILE), settings, log);
    a.replace(load(a.path));
    return a;
  }

  get size(): number {
    return this.bindings.length;
  }

  private replace(bindings: AclBinding[]): void {
    const index = new Map<number, TypeIndex>();
    for (const b of bindings) {
      let t = index.get(b.resourceType);
      if (!t) index.set(b.resourceType, (t = { literal: new Map(), prefixed: new Map(), prefixLengths: [] }));
      const byName = b.patternType === PatternType.PREFIXED ? t.prefixed : t.literal;
      const list = byName.get(b.resourceName);
      if (list) list.push(b);
      else byName.set(b.resourceName, [b]);
    }
    for (const t of index.values()) t.prefixLengths = [...new Set([...t.prefixed.keys()].map((p) => p.length))].sort((a, b) => a - b);
    this.bindings = bindings;
    this.index = index;
    this.generation++;
  }

  private persist(bindings: AclBinding[]): void {
    writeFileAtomic(this.path, JSON.stringify({ version: 1, acls: bindings.map(toStored) }, null, 1));
    syncDir(join(this.path, ".."));
  }

  /** Whether principal, connected from host, may perform op on the resource. */
  authorize(principal: string, host: string, op: number, resourceType: number, name: string): boolean {
    if (this.settings.superUsers.has(principal)) return true;
    const t = this.index.get(resourceType);
    if (!t) return this.settings.allowEveryoneIfNoAcl;
    let found = false;
    let allowed = false;
    let acls = t.literal.get(name);
    if (acls) {
      found = true;
      const r = decideAll(acls, principal, host, op);
      if (r === DENIED) return false;
      allowed = r === ALLOWED;
    }
    if (name !== WILDCARD_RESOURCE && (acls = t.literal.get(WILDCARD_RESOURCE))) {
      found = true;
      const r = decideAll(acls, principal, host, op);
      if (r === DENIED) return false;
      allowed ||= r === ALLOWED;
    }
    for (const length of t.prefixLengths) {
      if (length > name.length) break;
      acls = t.prefixed.get(length === name.length ? name : name.slice(0, length));
      if (!acls) continue;
      found = true;
      const r = decideAll(acls, principal, host, op);
      if (r === DENIED) return false;
      allowed ||= r === ALLOWED;
    }
    if (allowed) return true;
    return found ? false : this.settings.allowEveryoneIfNoAcl;
  }

  /**
   * Whether principal may perform op on at least one resource of the type that no DENY covers (Kafka's
   * Authorizer.authorizeByResourceType, used by InitProducerId for idempotent producers, KIP-679).
   */
  authorizeByResourceType(principal: string, host: string, op: number, resourceType: number): boolean {
    // As Kafka: a made-up name first, so super users and open resources pass whatever the DENYs say.
    if (this.authorize(principal, host, op, resourceType, "hardcode")) return true;
    const t = this.index.get(resourceType);
    if (!t) return false;
    const denyLiteral = new Set<string>();
    const denyPrefixed = new Set<string>();
    const allowLiteral = new Set<string>();
    const allowPrefixed = new Set<string>();
    let wildcardAllow = false;
    for (const acl of [...[...t.literal.values()].flat(), ...[...t.prefixed.values()].flat()]) {
      if (acl.host !== host && acl.host !== WILDCARD_HOST) continue;
      if (acl.principal !== principal && acl.principal !== WILDCARD_PRINCIPAL) continue;
      if (acl.operation !== op && acl.operation !== AclOperation.ALL) continue;
      const literal = acl.patternType === PatternType.LITERAL;
      if (acl.permission === Permission.DENY) {
        if (literal && acl.resourceName === WILDCARD_RESOURCE) return false;
        (literal ? denyLiteral : denyPrefixed).add(acl.resourceName);
      } else if (acl.permission === Permission.ALLOW) {
        if (literal && acl.resourceName === WILDCARD_RESOURCE) wildcardAllow = true;
        else (literal ? allowLiteral : allowPrefixed).add(acl.resourceName);
      }
    }
    if (wildcardAllow) return true;
    const deniedByPrefix = (name: string) => {
      for (let i = 1; i <= name.length; i++) if (denyPrefixed.has(name.slice(0, i))) return true;
      return false;
    };
    for (const name of allowLiteral) if (!denyLiteral.has(name) && !deniedByPrefix(name)) return true;
    for (const name of allowPrefixed) if (!deniedByPrefix(name)) return true;
    return false;
  }

  /** The ACLs a DescribeAcls filter matches. */
  acls(filter: AclFilter): AclBinding[] {
    return this.bindings.filter((b) => filterMatches(filter, b));
  }

  /** CreateAcls: one error message (INVALID_REQUEST) or null per binding; an ACL that exists already is a success. */
  create(bindings: AclBinding[], by: string): (string | null)[] {
    const next = [...this.bindings];
    const added: AclBinding[] = [];
    const results = bindings.map((b) => {
      const invalid = invalidBinding(b);
      if (invalid) return invalid;
      if (!next.some((x) => sameBinding(x, b))) {
        next.push({ ...b });
        added.push(b);
      }
      return null;
    });
    if (added.length > 0) {
      this.persist(next);
      this.replace(next);
      for (const b of added) this.log.info(`${by} added ACL ${describeBinding(b)}`);
    }
    return results;
  }

  /** DeleteAcls: every filter sees the ACLs as they were before the request, as in Kafka. */
  delete(filters: AclFilter[], by: string): DeleteResult[] {
    const gone = new Set<AclBinding>();
    const results = filters.map((f): DeleteResult => {
      const invalid = invalidFilter(f);
      if (invalid) return { error: invalid, deleted: [] };
      const deleted = this.bindings.filter((b) => filterMatches(f, b));
      for (const b of deleted) gone.add(b);
      return { error: null, deleted };
    });
    if (gone.size > 0) {
      const next = this.bindings.filter((b) => !gone.has(b));
      this.persist(next);
      this.replace(next);
      for (const b of gone) this.log.info(`${by} removed ACL ${describeBinding(b)}`);
    }
    return results;
  }
}

// ---- per connection -------------------------------------------------------------------------------

/** What a handler asks (ctx.authz); ctx.authorize is its authorize method. */
export interface RequestAuthorizer {
  /** false without an authorizer: every check passes and nothing is logged */
  readonly enabled: boolean;
  /**
   * Whether the connection's principal may perform the operation on the resource. A refusal is logged
   * (once per connection and resource while the ACLs stay the same) unless logIfDenied is false, which
   * handlers pass when they only filter what they show (Metadata of all topics, ListGroups).
   */
  authorize(operation: AclOperation, resourceType: ResourceType, name: string, logIfDenied?: boolean): boolean;
  /** The operation is allowed on some resource of the type (authorizeByResourceType). */
  authorizeAny(operation: AclOperation, resourceType: ResourceType): boolean;
  /** Kafka's authorized-operations bitfield of the resource (every supported operation without an authorizer). */
  authorizedOperations(resourceType: ResourceType, name: string): number;
}

const ALL_SUPPORTED = new Map<number, number>(Object.entries(SUPPORTED_OPERATIONS).map(([t, ops]) => [Number(t), operationsBitfield(ops)]));

/** Without an authorizer every operation is allowed, and authorized-operations fields list every supported one. */
export const ALLOW_EVERYTHING: RequestAuthorizer = {
  enabled: false,
  authorize: () => true,
  authorizeAny: () => true,
  authorizedOperations: (resourceType) => ALL_SUPPORTED.get(resourceType) ?? 0,
};

/** Cached decisions per (operation, resource type) are dropped past this many names (a Metadata of everything). */
const MAX_CACHED_NAMES = 10_000;

/** Java's InetAddress.getHostAddress() form, which is what ACL hosts are written against. */
export function hostAddress(address: string): string {
  const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (v4mapped) return v4mapped[1]!;
  if (!address.includes(":")) return address;
  const [addr, scope] = address.split("%", 2) as [string, string | undefined];
  const halves = addr.split("::");
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length > 1 && halves[1] ? halves[1].split(":") : [];
  const groups = halves.length > 1 ? [...head, ...Array(Math.max(0, 8 - head.length - tail.length)).fill("0"), ...tail] : head;
  const full = groups.map((g) => (g.includes(".") ? g : parseInt(g, 16).toString(16))).join(":");
  return scope ? `${full}%${scope}` : full;
}

class SessionAuthorizer implements RequestAuthorizer {
  readonly enabled = true;
  private generation = -1;
  private principal = "";
  private readonly host: string;
  /** (resourceType << 5 | operation) → name → ALLOWED, DENIED, or DENIED_LOGGED once the refusal is logged */
  private readonly cache = new Map<number, Map<string, number>>();

  constructor(
    private readonly authorizer: Authorizer,
    private readonly session: { readonly principal: string; readonly clientHost: string },
    private readonly log: Logger,
  ) {
    this.host = hostAddress(session.clientHost);
  }

  readonly authorize = (op: AclOperation, resourceType: ResourceType, name: string, logIfDenied = true): boolean => {
    if (this.generation !== this.authorizer.generation || this.principal !== this.session.principal) {
      this.cache.clear();
      this.generation = this.authorizer.generation;
      this.principal = this.session.principal;
    }
    const key = (resourceType << 5) | op;
    let byName = this.cache.get(key);
    if (!byName) this.cache.set(key, (byName = new Map()));
    let decision = byName.get(name);
    if (decision === undefined) {
      decision = this.authorizer.authorize(this.principal, this.host, op, resourceType, name) ? ALLOWED : DENIED;
      if (byName.size >= MAX_CACHED_NAMES) byName.clear();
      byName.set(name, decision);
    }
    if (decision === ALLOWED) return true;
    if (decision === DENIED && logIfDenied) {
      // Like Kafka's authorizer log, once per connection and resource while the ACLs stay the same.
      byName.set(name, DENIED_LOGGED);
      this.log.info(
        `Principal = ${this.principal} is Denied operation = ${operationName(op)} from host = ${this.host} on resource = ` +
          `${resourceTypeName(resourceType)}:LITERAL:${name}`,
      );
    }
    return false;
  };

  authorizeAny(op: AclOperation, resourceType: ResourceType): boolean {
    return this.authorizer.authorizeByResourceType(this.session.principal, this.host, op, resourceType);
  }

  authorizedOperations(resourceType: ResourceType, name: string): number {
    let bits = 0;
    for (const op of SUPPORTED_OPERATIONS[resourceType] ?? []) if (this.authorize(op, resourceType, name, false)) bits |= 1 << op;
    return bits;
  }
}

/** The view of the authorizer one connection's handlers get. */
export function requestAuthorizer(
  authorizer: Authorizer | null,
  session: { readonly principal: string; readonly clientHost: string },
  log: Logger,
): RequestAuthorizer {
  return authorizer ? new SessionAuthorizer(authorizer, session, log) : ALLOW_EVERYTHING;
}
