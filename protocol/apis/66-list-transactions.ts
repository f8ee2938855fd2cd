// ListTransactions (key 66), v0–v1 (flexible): the transactional ids the coordinator knows, filtered by
// state and producer id (KIP-664); v1 adds a minimum running duration (KIP-994).
import { api, arr, f, list } from "../define.ts";

export const ListTransactions = api({
  key: 66,
  name: "ListTransactions",
  versions: [0, 1],
  flexible: 0,
  request: [
    f("stateFilters", arr("string")),
    f("producerIdFilters", arr("int64")),
    f("durationFilter", "int64", { since: 1, default: -1 }),
  ],
  response: [
    f("throttleTimeMs", "int32"),
    f("errorCode", "int16"),
    f("unknownStateFilters", arr("string")),
    f("transactionStates", list(
      f("transactionalId", "string"),
      f("producerId", "int64"),
      f("transactionState", "string"),
    )),
  ],
});
