// InitProducerId v0–v4 for idempotent producers: a fresh producer id with epoch 0, or (v3+, KIP-360)
// the same id with a bumped epoch when the producer presents its current id and epoch. Transactional
// ids get a stable producer id per transactional.id whose epoch is bumped by every re-init; the
// transaction coordinator proper (fencing open transactions, timeouts) is a separate feature.
import { InitProducerId } from "../../protocol/apis/22-init-producer-id.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { handler } from "./handler.ts";

const MAX_EPOCH = 32767;

export default handler(InitProducerId, (req, ctx) => {
  const producers = ctx.broker.producers;
  if (req.transactionalId !== null) {
    if (req.transactionalId === "")
      return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, producerId: -1, producerEpoch: -1 };
    const { producerId, producerEpoch } = producers.initTransactional(req.transactionalId);
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId, producerEpoch };
  }
  if (req.producerId >= 0 && req.producerEpoch >= 0 && req.producerEpoch < MAX_EPOCH) {
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: req.producerId, producerEpoch: req.producerEpoch + 1 };
  }
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: producers.ids.allocate(), producerEpoch: 0 };
});
