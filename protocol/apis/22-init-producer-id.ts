// InitProducerId (key 22), v0–v5. Hands out producer ids for idempotent (and, given a transactional id,
// transactional) producers. v2 is flexible; v3 lets a producer pass its current id/epoch to bump the
// epoch instead of starting over; v4 allows PRODUCER_FENCED, v5 TRANSACTION_ABORTABLE (KIP-890).
import { api, f } from "../define.ts";

export const InitProducerId = api({
  key: 22,
  name: "InitProducerId",
  versions: [0, 5],
  flexible: 2,
  request: [
    f("transactionalId", "string", { nullable: true }),
    f("transactionTimeoutMs", "int32"),
    f("producerId", "int64", { since: 3, default: -1 }),
    f("producerEpoch", "int16", { since: 3, default: -1 }),
  ],
  response: [
    f("throttleTimeMs", "int32"),
    f("errorCode", "int16"),
    f("producerId", "int64", { default: -1 }),
    f("producerEpoch", "int16"),
  ],
});
