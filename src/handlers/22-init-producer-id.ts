// InitProducerId v0–v5. Without a transactional id (an idempotent producer) the answer is always a fresh
// producer id with epoch 0, as in Kafka (ids come from durably reserved blocks, so they never repeat).
// With one, the transaction coordinator (src/txn/coordinator.ts) answers: the transactional id's
// producer id with its epoch bumped, fencing an older producer and aborting its open transaction
// (CONCURRENT_TRANSACTIONS, the client retries); transaction.timeout.ms above transaction.max.timeout.ms
// is INVALID_TRANSACTION_TIMEOUT. v3+ may carry the producer's current id/epoch (KIP-360): a retried bump
// gets the same epoch again, a stale epoch PRODUCER_FENCED (INVALID_PRODUCER_EPOCH before v4).
// With an authorizer a transactional id needs WRITE on it (TRANSACTIONAL_ID_AUTHORIZATION_FAILED), an
// idempotent producer IDEMPOTENT_WRITE on the cluster or WRITE on some topic (KIP-679;
// CLUSTER_AUTHORIZATION_FAILED otherwise).
// v5 only allows TRANSACTION_ABORTABLE (KIP-890), which this coordinator has no occasion to send.
import { InitProducerId } from "../../protocol/apis/22-init-producer-id.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

export default handler(InitProducerId, (req, ctx) => {
  const refuse = (errorCode: number) => ({ throttleTimeMs: 0, errorCode, producerId: -1, producerEpoch: -1 });
  if (req.transactionalId !== null) {
    if (!ctx.authorize(AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, req.transactionalId)) return refuse(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  } else if (
    !ctx.authorize(AclOperation.IDEMPOTENT_WRITE, ResourceType.CLUSTER, CLUSTER_NAME, false) &&
    !ctx.authz.authorizeAny(AclOperation.WRITE, ResourceType.TOPIC)
  ) {
    ctx.broker.log.info(`InitProducerId from ${ctx.peer}: ${ctx.session.principal} may neither IDEMPOTENT_WRITE on the cluster nor WRITE to any topic`);
    return refuse(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  }
  return {
    throttleTimeMs: 0,
    ...ctx.broker.txn.initProducerId(req.transactionalId, req.transactionTimeoutMs, req.producerId, req.producerEpoch, ctx.version),
  };
});
