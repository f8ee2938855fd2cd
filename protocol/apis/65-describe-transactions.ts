// DescribeTransactions (key 65), v0 (the only version, flexible): the transaction coordinator's view of
// transactional ids — state, timeout, start time, producer id/epoch and the partitions in the
// transaction (KIP-664).
import { api, arr, f, list } from "../define.ts";

export const DescribeTransactions = api({
  key: 65,
  name: "DescribeTransactions",
  versions: [0, 0],
  flexible: 0,
  request: [
    f("transactionalIds", arr("string")),
  ],
  response: [
    f("throttleTimeMs", "int32"),
    f("transactionStates", list(
      f("errorCode", "int16"),
      f("transactionalId", "string"),
      f("transactionState", "string"),
      f("transactionTimeoutMs", "int32"),
      f("transactionStartTimeMs", "int64"),
      f("producerId", "int64"),
      f("producerEpoch", "int16"),
      f("topics", list(
        f("topic", "string"),
        f("partitions", arr("int32")),
      )),
    )),
  ],
});
