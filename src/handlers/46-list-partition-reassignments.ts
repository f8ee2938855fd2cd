// ListPartitionReassignments v0: the reassignments in progress. With one broker a reassignment completes
// as soon as it is accepted (see AlterPartitionReassignments), so there are never any: the answer lists
// no topics, for named partitions (unknown ones are left out, as Kafka does) and for all (null). With an
// authorizer it needs DESCRIBE on the cluster (CLUSTER_AUTHORIZATION_FAILED), as in Kafka.
import { ListPartitionReassignments } from "../../protocol/apis/46-list-partition-reassignments.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

export default handler(ListPartitionReassignments, (_req, ctx) => ({
  throttleTimeMs: 0,
  errorCode: ctx.authorize(AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME) ? ErrorCode.NONE : ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
  errorMessage: null,
  topics: [],
}));
