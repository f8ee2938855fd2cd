// DescribeAcls v0–v3: the ACLs one filter matches, grouped by resource pattern (Kafka's filter rules:
// null strings and ANY match everything, MATCH also finds the literal "*" and the prefixed ACLs that cover
// the name; principal and host are compared exactly). Needs DESCRIBE on the cluster
// (CLUSTER_AUTHORIZATION_FAILED); without an authorizer the answer is SECURITY_DISABLED. A filter with an
// unknown code gets INVALID_REQUEST. v0 filters are literal (the field's default), so v0 answers never
// carry prefixed ACLs, which it could not express.
import { DescribeAcls } from "../../protocol/apis/29-describe-acls.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, CLUSTER_NAME, ResourceType, invalidFilter, type AclBinding } from "../acl/acl.ts";
import { handler } from "./handler.ts";

export default handler(DescribeAcls, (req, ctx) => {
  const fail = (errorCode: number, errorMessage: string) => ({ throttleTimeMs: 0, errorCode, errorMessage, resources: [] });
  if (!ctx.authorize(AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME))
    return fail(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed.");
  const authorizer = ctx.broker.authorizer;
  if (!authorizer) return fail(ErrorCode.SECURITY_DISABLED, "No Authorizer is configured on the broker");
  const filter = {
    resourceType: req.resourceTypeFilter,
    resourceName: req.resourceNameFilter,
    patternType: req.patternTypeFilter,
    principal: req.principalFilter,
    host: req.hostFilter,
    operation: req.operation,
    permission: req.permissionType,
  };
  const invalid = invalidFilter(filter);
  if (invalid) {
    ctx.broker.log.warn(`DescribeAcls from ${ctx.peer} refused: ${invalid}`);
    return fail(ErrorCode.INVALID_REQUEST, invalid);
  }
  const byPattern = new Map<string, { resourceType: number; resourceName: string; patternType: number; acls: AclBinding[] }>();
  for (const b of authorizer.acls(filter)) {
    const key = `${b.resourceType}\0${b.patternType}\0${b.resourceName}`;
    let entry = byPattern.get(key);
    if (!entry) byPattern.set(key, (entry = { resourceType: b.resourceType, resourceName: b.resourceName, patternType: b.patternType, acls: [] }));
    entry.acls.push(b);
  }
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    resources: [...byPattern.values()].map((r) => ({
      resourceType: r.resourceType,
      resourceName: r.resourceName,
      patternType: r.patternType,
      acls: r.acls.map((a) => ({ principal: a.principal, host: a.host, operation: a.operation, permissionType: a.permission })),
    })),
  };
});
