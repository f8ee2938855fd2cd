// Produce (key 0), v3–v12. v3 is the floor: the first version with a transactional id, and the one from
// which clients send v2 record batches. v5 adds the log start offset to the response, v7 permits zstd,
// v8 adds per-batch record errors and a partition error message, v9 is flexible, v10 adds the tagged
// leader hints of KIP-951 (current leader per partition, node endpoints), v11 allows
// TRANSACTION_ABORTABLE (KIP-890). v12 (Kafka 4.0, newer than the message specs beside the repository;
// the same fields as v11) is transactions v2: a transactional batch adds its partition to the
// transaction. Records stay an opaque blob here: the handler validates and appends the batches.
import { api, f, list, struct } from "../define.ts";

export const Produce = api({
  key: 0,
  name: "Produce",
  versions: [3, 12],
  // librdkafka < 2.10 only compresses with gzip/snappy/lz4 when the broker advertises Produce v2
  // (librdkafka #4956); like Kafka 4.0 (KAFKA-18659), advertise v0 and refuse v0–v2 requests.
  advertisedMin: 0,
  flexible: 9,
  request: [
    f("transactionalId", "string", { since: 3, nullable: true, default: null }),
    f("acks", "int16"),
    f("timeoutMs", "int32"),
    f("topicData", list(
      f("name", "string"),
      f("partitionData", list(
        f("index", "int32"),
        f("records", "records", { nullable: true }),
      )),
    )),
  ],
  response: [
    f("responses", list(
      f("name", "string"),
      f("partitionResponses", list(
        f("index", "int32"),
        f("errorCode", "int16"),
        f("baseOffset", "int64"),
        f("logAppendTimeMs", "int64", { since: 2, default: -1 }),
        f("logStartOffset", "int64", { since: 5, default: -1 }),
        f("recordErrors", list(
          f("batchIndex", "int32"),
          f("batchIndexErrorMessage", "string", { nullable: true, default: null }),
        ), { since: 8 }),
        f("errorMessage", "string", { since: 8, nullable: true, default: null }),
        f("currentLeader", struct(
          f("leaderId", "int32", { default: -1 }),
          f("leaderEpoch", "int32", { default: -1 }),
        ), { since: 10, tag: 0 }),
      )),
    )),
    f("throttleTimeMs", "int32", { since: 1 }),
    f("nodeEndpoints", list(
      f("nodeId", "int32"),
      f("host", "string"),
      f("port", "int32"),
      f("rack", "string", { nullable: true, default: null }),
    ), { since: 10, tag: 0 }),
  ],
});
