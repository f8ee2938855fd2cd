// InitProducerId v0–v5. Without a transactional id (an idempotent producer) the answer is always a fresh
// producer id with epoch 0, as in Kafka (ids come from durably reserved blocks, so they never repeat).
// With one, the transaction coordinator (src/txn/coordinator.ts) answers: the transactional id's
// producer id with its epoch bumped, fencing an older producer and aborting its open transaction
// (CONCURRENT_TRANSACTIONS, the client retries); transaction.timeout.ms above transaction.max.timeout.ms
// is INVALID_TRANSACTION_TIMEOUT. v3+ may carry the producer's current id/epoch (KIP-360): a retried bump
// gets the same epoch again, a stale epoch PRODUCER_FENCED (INVALID_PRODUCER_EPOCH before v4).
// v5 only allows TRANSACTION_ABORTABLE (KIP-890), which this coordinator has no occasion to send.
import { InitProducerId } from "../../protocol/apis/22-init-producer-id.ts";
import { handler } from "./handler.ts";

export default handler(InitProducerId, (req, ctx) => ({
  throttleTimeMs: 0,
  ...ctx.broker.txn.initProducerId(req.transactionalId, req.transactionTimeoutMs, req.producerId, req.producerEpoch, ctx.version),
}));
