// AlterPartitionReassignments (key 45), v0 (flexible): move partitions to new replica sets, or cancel a
// pending move (null replicas).
import { api, arr, f, list } from "../define.ts";

export const AlterPartitionReassignments = api({
  key: 45,
  name: "AlterPartitionReassignments",
  versions: [0, 0],
  flexible: 0,
  request: [
    f("timeoutMs", "int32", { default: 60000 }),
    f("topics", list(
      f("name", "string"),
      f("partitions", list(
        f("partitionIndex", "int32"),
        f("replicas", arr("int32"), { nullable: true, default: null }),
      )),
    )),
  ],
  response: [
    f("throttleTimeMs", "int32"),
    f("errorCode", "int16"),
    f("errorMessage", "string", { nullable: true }),
    f("responses", list(
      f("name", "string"),
      f("partitions", list(
        f("partitionIndex", "int32"),
        f("errorCode", "int16"),
        f("errorMessage", "string", { nullable: true }),
      )),
    )),
  ],
});
