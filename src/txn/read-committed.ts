// What a read_committed consumer may see of fetched batches: only those below the last stable offset
// (the fetched slice is cut at the first batch at or after it — the LSO is always a batch boundary, the
// first offset of a transaction's first batch), plus the aborted transactions overlapping the data
// returned, so the client can drop their records (Kafka's collectAbortedTxns).
import { LAST_OFFSET_DELTA, dataView, iterateBatchHeaders, readInt64 } from "../../protocol/records/batch.ts";
import type { Partition } from "../topics.ts";
import type { TransactionCoordinator } from "./coordinator.ts";

export interface CommittedView {
  records: Uint8Array;
  abortedTransactions: { producerId: number; firstOffset: number }[];
}

export function committedView(txn: TransactionCoordinator, p: Partition, fetchOffset: number, data: Uint8Array, lastStableOffset: number): CommittedView {
  if (data.length === 0) return { records: data, abortedTransactions: [] };
  let upperBound = fetchOffset;
  const end = iterateBatchHeaders(data, 0, data.length, (pos, _size, view) => {
    const base = readInt64(view, pos);
    if (base >= lastStableOffset) return false;
    upperBound = base + view.getInt32(pos + LAST_OFFSET_DELTA) + 1;
  }, dataView(data));
  const records = end === data.length ? data : data.subarray(0, end);
  if (records.length === 0) return { records, abortedTransactions: [] };
  return { records, abortedTransactions: txn.abortedTransactions(p, fetchOffset, upperBound) };
}
