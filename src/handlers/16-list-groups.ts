// ListGroups v0–v5. Every group the coordinator knows (including groups that only hold committed offsets,
// listed with an empty protocol type); v4 filters by state (case-insensitive, as Kafka) and returns it;
// v5 filters by type (classic, consumer; an unknown type matches nothing) and returns it. Consumer groups
// (KIP-848) are listed with protocol type "consumer" and their states (Empty, Assigning, Reconciling,
// Stable).
// With an authorizer, DESCRIBE on the cluster lists every group, else only the groups the principal may
// DESCRIBE.
import { ListGroups } from "../../protocol/apis/16-list-groups.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

export default handler(ListGroups, (req, ctx) => {
  const r = ctx.broker.groups.listGroups(ctx.version >= 4 ? req.statesFilter : [], ctx.version >= 5 ? req.typesFilter : []);
  const groups = ctx.authorize(AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME, false)
    ? r.groups
    : r.groups.filter((g) => ctx.authorize(AclOperation.DESCRIBE, ResourceType.GROUP, g.groupId, false));
  return { throttleTimeMs: 0, errorCode: r.errorCode, groups };
});
