// The ACL vocabulary with Kafka's wire numbers (AclOperation, ResourceType, PatternType, AclPermissionType),
// ACL bindings and the filters DescribeAcls / DeleteAcls match them with. Pure data and predicates: the
// decisions are in authorizer.ts.

export const AclOperation = {
  UNKNOWN: 0,
  ANY: 1,
  ALL: 2,
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
  CREATE_TOKENS: 13,
  DESCRIBE_TOKENS: 14,
  TWO_PHASE_COMMIT: 15,
} as const;
export type AclOperation = (typeof AclOperation)[keyof typeof AclOperation];

export const ResourceType = {
  UNKNOWN: 0,
  ANY: 1,
  TOPIC: 2,
  GROUP: 3,
  CLUSTER: 4,
  TRANSACTIONAL_ID: 5,
  DELEGATION_TOKEN: 6,
  USER: 7,
} as const;
export type ResourceType = (typeof ResourceType)[keyof typeof ResourceType];

export const PatternType = { UNKNOWN: 0, ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 } as const;
export type PatternType = (typeof PatternType)[keyof typeof PatternType];

export const Permission = { UNKNOWN: 0, ANY: 1, DENY: 2, ALLOW: 3 } as const;
export type Permission = (typeof Permission)[keyof typeof Permission];

/** The one name the cluster resource has. */
export const CLUSTER_NAME = "kafka-cluster";
/** A literal resource name that matches every resource of its type. */
export const WILDCARD_RESOURCE = "*";
/** The principal that matches every user, and the host that matches every client. */
export const WILDCARD_PRINCIPAL = "User:*";
export const WILDCARD_HOST = "*";

const nameOf = (table: Record<string, number>) => {
  const names: string[] = [];
  for (const [k, v] of Object.entries(table)) names[v] = k;
  // Kafka maps codes it does not know to UNKNOWN, and so do its messages.
  return (code: number) => names[code] ?? "UNKNOWN";
};
export const operationName = nameOf(AclOperation);
export const resourceTypeName = nameOf(ResourceType);
export const patternTypeName = nameOf(PatternType);
export const permissionName = nameOf(Permission);

/** Operations a resource type has (Kafka's AclEntry.supportedOperations): the bits of authorized-operations fields. */
export const SUPPORTED_OPERATIONS: Readonly<Record<number, readonly AclOperation[]>> = {
  [ResourceType.TOPIC]: [
    AclOperation.READ,
    AclOperation.WRITE,
    AclOperation.CREATE,
    AclOperation.DESCRIBE,
    AclOperation.DELETE,
    AclOperation.ALTER,
    AclOperation.DESCRIBE_CONFIGS,
    AclOperation.ALTER_CONFIGS,
  ],
  [ResourceType.GROUP]: [AclOperation.READ, AclOperation.DESCRIBE, AclOperation.DELETE],
  [ResourceType.CLUSTER]: [
    AclOperation.CREATE,
    AclOperation.CLUSTER_ACTION,
    AclOperation.DESCRIBE_CONFIGS,
    AclOperation.ALTER_CONFIGS,
    AclOperation.IDEMPOTENT_WRITE,
    AclOperation.ALTER,
    AclOperation.DESCRIBE,
  ],
  [ResourceType.TRANSACTIONAL_ID]: [AclOperation.DESCRIBE, AclOperation.WRITE],
  [ResourceType.DELEGATION_TOKEN]: [AclOperation.DESCRIBE],
  [ResourceType.USER]: [AclOperation.CREATE_TOKENS, AclOperation.DESCRIBE_TOKENS],
};

/** The 32-bit field of Kafka's authorized-operations responses: bit n set = operation n allowed. */
export function operationsBitfield(ops: Iterable<number>): number {
  let bits = 0;
  for (const op of ops) bits |= 1 << op;
  return bits;
}

/** One ACL: a resource pattern and an access control entry. */
export interface AclBinding {
  resourceType: number;
  resourceName: string;
  patternType: number;
  principal: string;
  host: string;
  operation: number;
  permission: number;
}

/** A DescribeAcls / DeleteAcls filter: null strings and ANY codes match everything. */
export interface AclFilter {
  resourceType: number;
  resourceName: string | null;
  patternType: number;
  principal: string | null;
  host: string | null;
  operation: number;
  permission: number;
}

const isKnown = (code: number, max: number) => code >= 1 && code <= max;
const MAX_OPERATION = AclOperation.TWO_PHASE_COMMIT;
const MAX_RESOURCE_TYPE = ResourceType.USER;

/** Why a filter cannot be used (an unknown code), or null. Kafka answers it with INVALID_REQUEST. */
export function invalidFilter(f: AclFilter): string | null {
  if (!isKnown(f.resourceType, MAX_RESOURCE_TYPE) || !isKnown(f.patternType, PatternType.PREFIXED)) return "Unknown patternFilter.";
  if (!isKnown(f.operation, MAX_OPERATION) || !isKnown(f.permission, Permission.ALLOW)) return "Unknown entryFilter.";
  return null;
}

/** Why an ACL cannot be created, or null (Kafka's checks, with its messages). */
export function invalidBinding(b: AclBinding): string | null {
  // The broker's own checks first, then the controller's (AclControlManager.validateNewAcl).
  if (b.resourceType === ResourceType.CLUSTER && b.resourceName !== CLUSTER_NAME) return `The only valid name for the CLUSTER resource is ${CLUSTER_NAME}`;
  if (b.resourceName === "") return "Invalid empty resource name";
  if (b.resourceType <= ResourceType.ANY || b.resourceType > MAX_RESOURCE_TYPE) return `Invalid resourceType ${resourceTypeName(b.resourceType)}`;
  if (b.patternType !== PatternType.LITERAL && b.patternType !== PatternType.PREFIXED) return `Invalid patternType ${patternTypeName(b.patternType)}`;
  if (b.operation <= AclOperation.ANY || b.operation > MAX_OPERATION) return `Invalid operation ${operationName(b.operation)}`;
  if (b.permission !== Permission.ALLOW && b.permission !== Permission.DENY) return `Invalid permissionType ${permissionName(b.permission)}`;
  const colon = b.principal.indexOf(":");
  if (colon <= 0 || colon === b.principal.length - 1)
    return `Could not parse principal from \`${b.principal}\` (no colon is present separating the principal type from the principal name)`;
  return null;
}

/** Kafka's ResourcePatternFilter.matches: MATCH also finds the wildcard and the prefixes that cover the name. */
function patternMatches(f: AclFilter, b: AclBinding): boolean {
  if (f.resourceType !== ResourceType.ANY && f.resourceType !== b.resourceType) return false;
  if (f.patternType !== PatternType.ANY && f.patternType !== PatternType.MATCH && f.patternType !== b.patternType) return false;
  if (f.resourceName === null) return true;
  if (f.patternType === PatternType.ANY || f.patternType === b.patternType) return f.resourceName === b.resourceName;
  // MATCH
  if (b.patternType === PatternType.LITERAL) return f.resourceName === b.resourceName || b.resourceName === WILDCARD_RESOURCE;
  return f.resourceName.startsWith(b.resourceName);
}

/** Kafka's AccessControlEntryFilter.matches: exact principal and host (no wildcard expansion). */
function entryMatches(f: AclFilter, b: AclBinding): boolean {
  if (f.principal !== null && f.principal !== b.principal) return false;
  if (f.host !== null && f.host !== b.host) return false;
  if (f.operation !== AclOperation.ANY && f.operation !== b.operation) return false;
  return f.permission === Permission.ANY || f.permission === b.permission;
}

export function filterMatches(f: AclFilter, b: AclBinding): boolean {
  return patternMatches(f, b) && entryMatches(f, b);
}

export function sameBinding(a: AclBinding, b: AclBinding): boolean {
  return (
    a.resourceType === b.resourceType &&
    a.resourceName === b.resourceName &&
    a.patternType === b.patternType &&
    a.principal === b.principal &&
    a.host === b.host &&
    a.operation === b.operation &&
    a.permission === b.permission
  );
}

/** The form Kafka's logs and kafka-acls.sh use. */
export function describeBinding(b: AclBinding): string {
  return (
    `(principal=${b.principal}, host=${b.host}, operation=${operationName(b.operation)}, permissionType=${permissionName(b.permission)}) ` +
    `on ${resourceTypeName(b.resourceType)}:${patternTypeName(b.patternType)}:${b.resourceName}`
  );
}
