// EndTxn (key 26), v0–v5: commit or abort the producer's ongoing transaction. v2 adds PRODUCER_FENCED
// (older versions get INVALID_PRODUCER_EPOCH), v3 is flexible, v4 allows TRANSACTION_ABORTABLE. v5 is
// transactions v2 (KIP-890 part 2): the coordinator bumps the producer epoch with every transaction and
// answers the producer id and epoch the next transaction uses.
import { api, f } from "../define.ts";

export const EndTxn = api({
  key: 26,
  name: "EndTxn",
  versions: [0, 5],
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
    f("producerId", "int64", { since: 5, default: -1 }),
    f("producerEpoch", "int16", { since: 5, default: -1 }),
  ],
});
