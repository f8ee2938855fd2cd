// CreateAcls v0–v3: each creation is checked as Kafka does (a known resource type other than ANY, LITERAL
// or PREFIXED, an operation other than ANY, ALLOW or DENY, a non-empty name, "kafka-cluster" for the
// cluster, a Type:name principal; INVALID_REQUEST with Kafka's message otherwise), the valid ones are
// written to brook-acls.json before the answer, and an ACL that exists already succeeds without a copy.
// Needs ALTER on the cluster (every result CLUSTER_AUTHORIZATION_FAILED); without an authorizer every
// result is SECURITY_DISABLED. ACLs on delegation tokens and users are stored like Kafka stores them,
// though Brook has no API they would gate.
import { CreateAcls } from "../../protocol/apis/30-create-acls.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

export default handler(CreateAcls, (req, ctx) => {
  const all = (errorCode: number, errorMessage: string) => ({ throttleTimeMs: 0, results: req.creations.map(() => ({ errorCode, errorMessage })) });
  if (!ctx.authorize(AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_NAME)) return all(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed.");
  const authorizer = ctx.broker.authorizer;
  if (!authorizer) return all(ErrorCode.SECURITY_DISABLED, "No Authorizer is configured.");
  const errors = authorizer.create(
    req.creations.map((c) => ({
      resourceType: c.resourceType,
      resourceName: c.resourceName,
      patternType: c.resourcePatternType,
      principal: c.principal,
      host: c.host,
      operation: c.operation,
      permission: c.permissionType,
    })),
    `${ctx.session.principal} (${ctx.peer})`,
  );
  return {
    throttleTimeMs: 0,
    results: errors.map((e) => (e === null ? { errorCode: ErrorCode.NONE, errorMessage: null } : { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: e })),
  };
});
