// DeleteAcls v0–v3: each filter deletes the ACLs it matches (DescribeAcls' matching rules; every filter
// sees the ACLs as they were before the request, so one ACL may be listed under two filters) and lists
// them. The file is rewritten before the answer. A filter with an unknown code gets INVALID_REQUEST.
// Needs ALTER on the cluster (every filter CLUSTER_AUTHORIZATION_FAILED); without an authorizer every
// filter gets SECURITY_DISABLED.
import { DeleteAcls } from "../../protocol/apis/31-delete-acls.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

export default handler(DeleteAcls, (req, ctx) => {
  const all = (errorCode: number, errorMessage: string) => ({
    throttleTimeMs: 0,
    filterResults: req.filters.map(() => ({ errorCode, errorMessage, matchingAcls: [] })),
  });
  if (!ctx.authorize(AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_NAME)) return all(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed.");
  const authorizer = ctx.broker.authorizer;
  if (!authorizer) return all(ErrorCode.SECURITY_DISABLED, "No Authorizer is configured.");
  const results = authorizer.delete(
    req.filters.map((f) => ({
      resourceType: f.resourceTypeFilter,
      resourceName: f.resourceNameFilter,
      patternType: f.patternTypeFilter,
      principal: f.principalFilter,
      host: f.hostFilter,
      operation: f.operation,
      permission: f.permissionType,
    })),
    `${ctx.session.principal} (${ctx.peer})`,
  );
  return {
    throttleTimeMs: 0,
    filterResults: results.map((r) =>
      r.error !== null
        ? { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: r.error, matchingAcls: [] }
        : {
            errorCode: ErrorCode.NONE,
            errorMessage: null,
            matchingAcls: r.deleted.map((b) => ({
              errorCode: ErrorCode.NONE,
              errorMessage: null,
              resourceType: b.resourceType,
              resourceName: b.resourceName,
              patternType: b.patternType,
              principal: b.principal,
              host: b.host,
              operation: b.operation,
              permissionType: b.permission,
            })),
          },
    ),
  };
});
