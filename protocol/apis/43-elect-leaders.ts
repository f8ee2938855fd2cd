// ElectLeaders (key 43), v0–v2: run preferred (0) or unclean (1) leader elections for partitions, or
// for every partition (null topic list). v1 adds the election type and a top-level error code, v2 is
// flexible.
import { api, arr, f, list } from "../define.ts";

export const ElectLeaders = api({
  key: 43,
  name: "ElectLeaders",
  versions: [0, 2],
  flexible: 2,
  request: [
    f("electionType", "int8", { since: 1 }),
    f("topicPartitions", list(
      f("topic", "string"),
      f("partitions", arr("int32")),
    ), { nullable: true }),
    f("timeoutMs", "int32", { default: 60000 }),
  ],
  response: [
    f("throttleTimeMs", "int32"),
    f("errorCode", "int16", { since: 1 }),
    f("replicaElectionResults", list(
      f("topic", "string"),
      f("partitionResult", list(
        f("partitionId", "int32"),
        f("errorCode", "int16"),
        f("errorMessage", "string", { nullable: true }),
      )),
    )),
  ],
});
