// Produce (key 0), v3–v9. v3 is the floor: the first version with a transactional id, and the one from
// which clients send v2 record batches. v5 adds the log start offset to the response, v7 permits zstd,
// v8 adds per-batch record errors and a partition error message, v9 is flexible. Records stay an opaque
// blob here: the handler validates and appends the batches. Not served: v10+ (KIP-951 leader hints).
import { api, f, list } from "../define.ts";

export const Produce = api({
  key: 0,
  name: "Produce",
  versions: [3, 9],
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
      )),
    )),
    f("throttleTimeMs", "int32", { since: 1 }),
  ],
});
