// DescribeProducers (key 61), v0 (the only version, flexible): the active idempotent/transactional
// producers of partitions as the partition leader tracks them (KIP-664).
import { api, arr, f, list } from "../define.ts";

export const DescribeProducers = api({
  key: 61,
  name: "DescribeProducers",
  versions: [0, 0],
  flexible: 0,
  request: [
    f("topics", list(
      f("name", "string"),
      f("partitionIndexes", arr("int32")),
    )),
  ],
  response: [
    f("throttleTimeMs", "int32"),
    f("topics", list(
      f("name", "string"),
      f("partitions", list(
        f("partitionIndex", "int32"),
        f("errorCode", "int16"),
        f("errorMessage", "string", { nullable: true, default: null }),
        f("activeProducers", list(
          f("producerId", "int64"),
          f("producerEpoch", "int32"),
          f("lastSequence", "int32", { default: -1 }),
          f("lastTimestamp", "int64", { default: -1 }),
          f("coordinatorEpoch", "int32"),
          f("currentTxnStartOffset", "int64", { default: -1 }),
        )),
      )),
    )),
  ],
});
