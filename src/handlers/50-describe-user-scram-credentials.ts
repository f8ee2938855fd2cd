// DescribeUserScramCredentials v0. A null or empty list describes every user that has a credential;
// named users that have none get RESOURCE_NOT_FOUND, a user named twice DUPLICATE_RESOURCE, with
// Kafka's messages. Only mechanisms and iteration counts are ever returned. With an authorizer it needs
// DESCRIBE on the cluster (else CLUSTER_AUTHORIZATION_FAILED), as in Kafka.
import { DescribeUserScramCredentials } from "../../protocol/apis/50-describe-user-scram-credentials.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { scramMechanism } from "../security/scram.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

export default handler(DescribeUserScramCredentials, (req, ctx) => {
  if (!ctx.authorize(AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME))
    return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, results: [] };
  const store = ctx.broker.scram;
  const infos = (user: string) => store.credentialsOf(user).map((c) => ({ mechanism: scramMechanism(c.mechanism)!.type, iterations: c.iterations }));
  if (!req.users || req.users.length === 0) {
    const results = store.userNames().map((user) => ({ user, errorCode: ErrorCode.NONE, errorMessage: null, credentialInfos: infos(user) }));
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, results };
  }
  const counts = new Map<string, number>();
  for (const { name } of req.users) counts.set(name, (counts.get(name) ?? 0) + 1);
  const results = [...counts].map(([user, n]) => {
    if (n > 1)
      return { user, errorCode: ErrorCode.DUPLICATE_RESOURCE, errorMessage: `Cannot describe SCRAM credentials for the same user twice in a single request: ${user}` };
    const credentialInfos = infos(user);
    if (credentialInfos.length === 0)
      return { user, errorCode: ErrorCode.RESOURCE_NOT_FOUND, errorMessage: `Attempt to describe a user credential that does not exist: ${user}` };
    return { user, errorCode: ErrorCode.NONE, errorMessage: null, credentialInfos };
  });
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, results };
});
