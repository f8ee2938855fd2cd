// AddPartitionsToTxn (key 24), v0–v3: a transactional producer registers the partitions it is about to
// write to with the transaction coordinator. v1 is v0; v2 lets the coordinator answer PRODUCER_FENCED
// (older versions get INVALID_PRODUCER_EPOCH instead); v3 is flexible. Not served: v4+ (the broker-to-
// coordinator batched form with VerifyOnly, KIP-890), which clients never send.
import { api, arr, f, list } from "../define.ts";

export const AddPartitionsToTxn = api({
  key: 24,
  name: "AddPartitionsToTxn",
  versions: [0, 3],
  flexible: 3,
  request: [
    f("v3AndBelowTransactionalId", "string", { until: 3 }),
    f("v3AndBelowProducerId", "int64", { until: 3 }),
    f("v3AndBelowProducerEpoch", "int16", { until: 3 }),
    f("v3AndBelowTopics", list(
      f("name", "string"),
      f("partitions", arr("int32")),
    ), { until: 3 }),
  ],
  response: [
    f("throttleTimeMs", "int32"),
    f("resultsByTopicV3AndBelow", list(
      f("name", "string"),
      f("resultsByPartition", list(
        f("partitionIndex", "int32"),
        f("partitionErrorCode", "int16"),
      )),
    ), { until: 3 }),
  ],
});
