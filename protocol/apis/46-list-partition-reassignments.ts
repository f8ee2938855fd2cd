// ListPartitionReassignments (key 46), v0 (flexible): the reassignments in progress, for the given
// partitions or (null topics) all of them.
import { api, arr, f, list } from "../define.ts";

export const ListPartitionReassignments = api({
  key: 46,
  name: "ListPartitionReassignments",
  versions: [0, 0],
  flexible: 0,
  request: [
    f("timeoutMs", "int32", { default: 60000 }),
    f("topics", list(
      f("name", "string"),
      f("partitionIndexes", arr("int32")),
    ), { nullable: true, default: null }),
  ],
  response: [
    f("throttleTimeMs", "int32"),
    f("errorCode", "int16"),
    f("errorMessage", "string", { nullable: true }),
    f("topics", list(
      f("name", "string"),
      f("partitions", list(
        f("partitionIndex", "int32"),
        f("replicas", arr("int32")),
        f("addingReplicas", arr("int32")),
        f("removingReplicas", arr("int32")),
      )),
    )),
  ],
});
