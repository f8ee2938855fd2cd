// AddPartitionsToTxn (key 24), v0–v5. v0–v3 are the client form: one transaction, its partitions. v1 is
// v0; v2 lets the coordinator answer PRODUCER_FENCED (older versions get INVALID_PRODUCER_EPOCH); v3 is
// flexible. v4 is the batched form Kafka's brokers send their transaction coordinator (KIP-890): several
// transactions, each with VerifyOnly (check that the partitions are in the transaction instead of adding
// them), and a top-level error code; v5 allows TRANSACTION_ABORTABLE. Some clients (@platformatic/kafka)
// send v4/v5 themselves to add partitions.
import { api, arr, f, list } from "../define.ts";

const topics = list(
  f("name", "string"),
  f("partitions", arr("int32")),
);

const topicResults = list(
  f("name", "string"),
  f("resultsByPartition", list(
    f("partitionIndex", "int32"),
    f("partitionErrorCode", "int16"),
  )),
);

export const AddPartitionsToTxn = api({
  key: 24,
  name: "AddPartitionsToTxn",
  versions: [0, 5],
  flexible: 3,
  request: [
    f("transactions", list(
      f("transactionalId", "string"),
      f("producerId", "int64"),
      f("producerEpoch", "int16"),
      f("verifyOnly", "bool", { default: false }),
      f("topics", topics),
    ), { since: 4 }),
    f("v3AndBelowTransactionalId", "string", { until: 3 }),
    f("v3AndBelowProducerId", "int64", { until: 3 }),
    f("v3AndBelowProducerEpoch", "int16", { until: 3 }),
    f("v3AndBelowTopics", topics, { until: 3 }),
  ],
  response: [
    f("throttleTimeMs", "int32"),
    f("errorCode", "int16", { since: 4 }),
    f("resultsByTransaction", list(
      f("transactionalId", "string"),
      f("topicResults", topicResults),
    ), { since: 4 }),
    f("resultsByTopicV3AndBelow", topicResults, { until: 3 }),
  ],
});
