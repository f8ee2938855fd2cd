// Produce v3–v12. Each partition's data must be exactly one v2 record batch; it is validated from its
// header (framing, magic, CRC-32C, offset delta vs count, size vs max.message.bytes, codec), appended
// whole with offsets written into its header, never decoded record by record. acks=0 gets no
// response; acks=1 and acks=-1 are answered after the append (one replica: the ISR is this broker, plus
// the nominal replicas of a topic created under brook.replication.factor.clamp; see inSyncReplicaCount).
// v8+ carries per-batch record errors and an error message. Batches with a producer id go through the
// partition's producer state first (src/txn, src/log/producer-state.ts): epoch and sequence checks,
// a duplicate is acknowledged with its original offset and not appended again, a transactional batch
// must belong to the producer's ongoing transaction (v12, transactions v2: the batch adds its partition to
// the transaction; v11 gets TRANSACTION_ABORTABLE where older versions get INVALID_TXN_STATE).
// LogAppendTime batches keep their records' own deltas. v10's leader hints (KIP-951) go with
// NOT_LEADER_OR_FOLLOWER, which the only broker never answers, so they stay unset.
// Appended batches carry the partition's leader epoch.
// Metrics (src/metrics.ts): per topic and in total, partition requests, failures, bytes in as received
// and records in from the batch header's record count.
// Authorization (with an authorizer): transactional batches need WRITE on the transactional id (else every
// partition answers TRANSACTIONAL_ID_AUTHORIZATION_FAILED), each topic WRITE (TOPIC_AUTHORIZATION_FAILED,
// checked before the topic's existence so unauthorized clients learn nothing about it).
// A partition whose log dir refuses the write (free space below brook.log.dir.min.free.bytes, ENOSPC)
// answers KAFKA_STORAGE_ERROR, as Kafka does for a log dir it cannot write; clients retry it.
import { Produce } from "../../protocol/apis/00-produce.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { ATTRIBUTES, HEADER_SIZE, codecOf, dataView, isTransactional, stampLogAppendTime, validateBatches } from "../../protocol/records/batch.ts";
import type { RequestOf, ResponseOf } from "../../protocol/types.ts";
import { cleanupPolicy, topicConfigValue } from "../topic-config.ts";
import { parseBatchRecords, rebuildBatch } from "../log/batch-rewrite.ts";
import { producedBatchOf } from "../log/producer-state.ts";
import { inSyncReplicaCount } from "../topics.ts";
import { AclOperation, ResourceType } from "../acl/acl.ts";
import { StorageError } from "../log/storage-error.ts";
import { NO_RESPONSE, handler } from "./handler.ts";

const CODEC_OF: Record<string, number> = { uncompressed: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

type PartitionResponse = NonNullable<NonNullable<ResponseOf<typeof Produce>["responses"]>[number]["partitionResponses"]>[number];

/** Kafka's RequestUtils.hasTransactionalRecords: any batch (read from its header) marked transactional. */
function hasTransactionalRecords(req: RequestOf<typeof Produce>): boolean {
  for (const t of req.topicData)
    for (const p of t.partitionData) {
      const r = p.records;
      if (r instanceof Uint8Array && r.length >= HEADER_SIZE && isTransactional(dataView(r).getInt16(ATTRIBUTES))) return true;
    }
  return false;
}

const failedPartition = (index: number, errorCode: number): PartitionResponse => ({
  index,
  errorCode,
  baseOffset: -1,
  logAppendTimeMs: -1,
  logStartOffset: -1,
  recordErrors: [],
  errorMessage: null,
});

export default handler(Produce, (req, ctx) => {
  const { broker, version } = ctx;
  const acks = req.acks;
  const all = broker.metrics.allTopics;
  const authz = ctx.authz.enabled;
  if (authz && hasTransactionalRecords(req) && (req.transactionalId === null || !ctx.authorize(AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, req.transactionalId))) {
    if (acks === 0) return NO_RESPONSE;
    const code = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    return { responses: req.topicData.map((t) => ({ name: t.name, partitionResponses: t.partitionData.map((p) => failedPartition(p.index, code)) })), throttleTimeMs: 0 };
  }
  const responses = req.topicData.map((t) => {
    if (authz && !ctx.authorize(AclOperation.WRITE, ResourceType.TOPIC, t.name))
      return { name: t.name, partitionResponses: t.partitionData.map((p) => failedPartition(p.index, ErrorCode.TOPIC_AUTHORIZATION_FAILED)) };
    const topic = broker.topics.get(t.name);
    const stats = topic ? broker.metrics.topic(t.name) : null;
    const partitionResponses = t.partitionData.map((p): PartitionResponse => {
      all.produceRequests++;
      if (stats) stats.produceRequests++;
      const fail = (errorCode: number, errorMessage: string | null = null, batchIndex = -1): PartitionResponse => {
        all.failedProduceRequests++;
        if (stats) stats.failedProduceRequests++;
        return {
          index: p.index,
          errorCode,
          baseOffset: -1,
          logAppendTimeMs: -1,
          logStartOffset: -1,
          recordErrors: batchIndex >= 0 ? [{ batchIndex, batchIndexErrorMessage: errorMessage }] : [],
          errorMessage,
        };
      };
      if (acks !== 0 && acks !== 1 && acks !== -1) return fail(ErrorCode.INVALID_REQUIRED_ACKS);
      const partition = topic?.partitions[p.index];
      if (!topic || !partition) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "This server does not host this topic-partition.");
      const config = (name: string) => topicConfigValue(topic.configs, name, broker.config);
      let records = p.records instanceof Uint8Array ? p.records : null;
      const bytesIn = records?.length ?? 0;
      if (!records || records.length === 0) return fail(ErrorCode.INVALID_RECORD, "produce data has no record batch", 0);
      const checked = validateBatches(records, {
        maxBatchBytes: Number(config("max.message.bytes")),
        singleBatch: true,
        allowZstd: version >= 7,
      });
      if (!checked.ok) {
        if (checked.error === "MESSAGE_TOO_LARGE") {
          all.bytesRejected += records.length;
          stats!.bytesRejected += records.length;
        }
        broker.log.warn(`rejected produce to ${t.name}-${p.index} from ${ctx.peer}: ${checked.error}: ${checked.message}`);
        return fail(ErrorCode[checked.error], checked.message, checked.error === "INVALID_RECORD" ? checked.batchIndex : -1);
      }
      if (acks === -1 && Number(config("min.insync.replicas")) > inSyncReplicaCount(topic, broker.config))
        return fail(ErrorCode.NOT_ENOUGH_REPLICAS, "Messages are rejected since there are fewer in-sync replicas than required.");
      const produced = producedBatchOf(checked);
      if (produced) {
        const check = broker.txn.checkProduce(partition, req.transactionalId, produced, version);
        if (check.kind === "error") return fail(check.errorCode, check.message, check.errorCode === ErrorCode.INVALID_RECORD ? 0 : -1);
        if (check.kind === "duplicate")
          return { index: p.index, errorCode: ErrorCode.NONE, baseOffset: check.firstOffset, logAppendTimeMs: -1, logStartOffset: partition.log.logStartOffset, recordErrors: [], errorMessage: null };
      }
      // Compacted topics need a key on every record; a topic's compression.type other than "producer"
      // means the batch is stored (and served) with that codec. Both need the records, not just the header.
      const compacted = cleanupPolicy(topic.configs, broker.config).compact;
      const wantCodec = CODEC_OF[config("compression.type")] ?? -1;
      const codec = codecOf(dataView(records).getInt16(ATTRIBUTES));
      if (compacted || (wantCodec >= 0 && wantCodec !== codec)) {
        let parsed;
        try {
          parsed = parseBatchRecords(records);
        } catch (e) {
          return fail(ErrorCode.CORRUPT_MESSAGE, `unreadable records: ${(e as Error).message}`);
        }
        if (compacted) {
          const keyless = parsed.records.findIndex((r) => r.keyLength < 0);
          if (keyless >= 0)
            return fail(ErrorCode.INVALID_RECORD, `Compacted topic cannot accept message without key in topic partition ${t.name}-${p.index}.`, keyless);
        }
        if (wantCodec >= 0 && wantCodec !== codec) records = rebuildBatch(records, parsed, { keep: parsed.records, codec: wantCodec });
      }
      let logAppendTimeMs = -1;
      if (config("message.timestamp.type") === "LogAppendTime") {
        logAppendTimeMs = Date.now();
        stampLogAppendTime(records, 0, logAppendTimeMs);
      }
      let appended;
      try {
        appended = partition.log.append(records, checked.offsetCount);
      } catch (e) {
        if (!(e instanceof StorageError)) throw e;
        // The log dir logs the full state once; this is per request.
        broker.log.debug(`produce to ${t.name}-${p.index} from ${ctx.peer} (client ${ctx.header.clientId}) refused: ${e.message}`);
        return fail(ErrorCode.KAFKA_STORAGE_ERROR, e.message);
      }
      const { baseOffset, lastOffset } = appended;
      // Kafka's BytesIn counts the batch as received (before any recompression); messages from its header.
      all.bytesIn += bytesIn;
      all.messagesIn += checked.records;
      stats!.bytesIn += bytesIn;
      stats!.messagesIn += checked.records;
      if (produced) broker.txn.recordProduce(partition, produced, baseOffset, lastOffset);
      broker.notifyAppend(partition);
      return {
        index: p.index,
        errorCode: ErrorCode.NONE,
        baseOffset,
        logAppendTimeMs,
        logStartOffset: partition.log.logStartOffset,
        recordErrors: [],
        errorMessage: null,
      };
    });
    return { name: t.name, partitionResponses };
  });
  if (acks === 0) return NO_RESPONSE;
  return { responses, throttleTimeMs: 0 };
});
