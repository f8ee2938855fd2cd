// DescribeProducers v0: the producers a partition tracks (producer id, epoch, last sequence, last
// timestamp, coordinator epoch, first offset of the open transaction or -1). Unknown partitions get
// UNKNOWN_TOPIC_OR_PARTITION. With an authorizer each topic needs READ (TOPIC_AUTHORIZATION_FAILED, before
// the existence check).
import { DescribeProducers } from "../../protocol/apis/61-describe-producers.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

export default handler(DescribeProducers, (req, ctx) => {
  const { broker } = ctx;
  return {
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((partitionIndex) => {
        if (!ctx.authorize(AclOperation.READ, ResourceType.TOPIC, t.name))
          return { partitionIndex, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: "Topic authorization failed.", activeProducers: [] };
        const p = broker.topics.partition(t.name, partitionIndex);
        if (!p)
          return { partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: "This server does not host this topic-partition.", activeProducers: [] };
        const state = broker.txn.states.of(p);
        return {
          partitionIndex,
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          activeProducers: [...state.producers.values()].map((e) => ({
            producerId: e.producerId,
            producerEpoch: e.epoch,
            lastSequence: e.batches.length > 0 ? e.batches[e.batches.length - 1]!.lastSeq : -1,
            lastTimestamp: e.lastTimestamp,
            coordinatorEpoch: e.coordinatorEpoch,
            currentTxnStartOffset: e.txnFirstOffset,
          })),
        };
      }),
    })),
  };
});
