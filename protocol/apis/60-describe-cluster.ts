// DescribeCluster (key 60), v0–v1, the full range, flexible throughout. v1 adds the endpoint type
// (1 = brokers, 2 = controllers; a broker answers only for brokers).
import { api, f, list } from "../define.ts";

export const DescribeCluster = api({
  key: 60,
  name: "DescribeCluster",
  versions: [0, 1],
  flexible: 0,
  request: [
    f("includeClusterAuthorizedOperations", "bool"),
    f("endpointType", "int8", { since: 1, default: 1 }),
  ],
  response: [
    f("throttleTimeMs", "int32"),
    f("errorCode", "int16"),
    f("errorMessage", "string", { nullable: true, default: null }),
    f("endpointType", "int8", { since: 1, default: 1 }),
    f("clusterId", "string"),
    f("controllerId", "int32", { default: -1 }),
    f("brokers", list(
      f("brokerId", "int32"),
      f("host", "string"),
      f("port", "int32"),
      f("rack", "string", { nullable: true, default: null }),
    )),
    f("clusterAuthorizedOperations", "int32", { default: -2147483648 }),
  ],
});
