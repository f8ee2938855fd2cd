// EndTxn (key 26), v0–v3: commit or abort the producer's ongoing transaction. v2 adds PRODUCER_FENCED
// (older versions get INVALID_PRODUCER_EPOCH), v3 is flexible. Not served: v4 (TRANSACTION_ABORTABLE)
// and v5 (an epoch bump with every transaction, KIP-890 part 2).
import { api, f } from "../define.ts";

export const EndTxn = api({
  key: 26,
  name: "EndTxn",
  versions: [0, 3],
  flexible: 3,
  request: [
    f("transactionalId", "string"),
    f("producerId", "int64"),
    f("producerEpoch", "int16"),
    f("committed", "bool"),
  ],
  response: [
    f("throttleTimeMs", "int32"),
    f("errorCode", "int16"),
  ],
});
