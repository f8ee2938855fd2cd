// DescribeCluster v0–v1: the cluster id, this broker as the only broker and the controller. Asked for
// controllers (endpoint type 2, v1) a broker answers UNSUPPORTED_ENDPOINT_TYPE, as Kafka's brokers do.
// The cluster authorized-operations bitfield, when asked for, lists the cluster operations the principal
// may perform (all of them without an authorizer), and is 0 without DESCRIBE on the cluster; as in Kafka,
// the request itself needs no permission.
import { DescribeCluster } from "../../protocol/apis/60-describe-cluster.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

const UNSUPPORTED_ENDPOINT_TYPE = 119;
const NOT_REQUESTED = -2147483648;

export default handler(DescribeCluster, (req, ctx) => {
  const { broker } = ctx;
  if (req.endpointType !== 1) {
    return {
      throttleTimeMs: 0,
      errorCode: UNSUPPORTED_ENDPOINT_TYPE,
      errorMessage: req.endpointType === 2 ? "The request was sent to a broker, which cannot describe controllers" : `Unknown endpoint type ${req.endpointType}`,
      endpointType: req.endpointType,
      clusterId: broker.clusterId,
      controllerId: -1,
      brokers: [],
    };
  }
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    endpointType: 1,
    clusterId: broker.clusterId,
    controllerId: broker.nodeId,
    brokers: [{ brokerId: broker.nodeId, host: ctx.listener.advertisedHost, port: ctx.listener.advertisedPort, rack: null }],
    clusterAuthorizedOperations: !req.includeClusterAuthorizedOperations
      ? NOT_REQUESTED
      : ctx.authorize(AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME)
        ? ctx.authz.authorizedOperations(ResourceType.CLUSTER, CLUSTER_NAME)
        : 0,
  };
});
