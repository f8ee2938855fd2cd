// AddOffsetsToTxn (key 25), v0–v4: a transactional producer announces that it will commit offsets of a
// consumer group inside its transaction (TxnOffsetCommit follows). v2 adds PRODUCER_FENCED (older
// versions get INVALID_PRODUCER_EPOCH), v3 is flexible, v4 allows TRANSACTION_ABORTABLE (KIP-890).
import { api, f } from "../define.ts";

export const AddOffsetsToTxn = api({
  key: 25,
  name: "AddOffsetsToTxn",
  versions: [0, 4],
  flexible: 3,
  request: [
    f("transactionalId", "string"),
    f("producerId", "int64"),
    f("producerEpoch", "int16"),
    f("groupId", "string"),
  ],
  response: [
    f("throttleTimeMs", "int32"),
    f("errorCode", "int16"),
  ],
});
