// DescribeCluster v0–v1: the cluster id, this broker as the only broker and the controller. Asked for
// controllers (endpoint type 2, v1) a broker answers UNSUPPORTED_ENDPOINT_TYPE, as Kafka's brokers do.
// The cluster authorized-operations bitfield, when asked for, lists every cluster operation: Brook has
// no authorizer, so everything is allowed.
import { DescribeCluster } from "../../protocol/apis/60-describe-cluster.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { handler } from "./handler.ts";

const UNSUPPORTED_ENDPOINT_TYPE = 119;
// AclOperation ids that apply to the cluster resource: CREATE 5, ALTER 7, DESCRIBE 8, CLUSTER_ACTION 9,
// DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12.
const CLUSTER_OPERATIONS = [5, 7, 8, 9, 10, 11, 12].reduce((bits, op) => bits | (1 << op), 0);
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
    clusterAuthorizedOperations: req.includeClusterAuthorizedOperations ? CLUSTER_OPERATIONS : NOT_REQUESTED,
  };
});
