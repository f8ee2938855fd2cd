// Produce v3–v9. Each partition's data must be exactly one v2 record batch; it is validated from its
// header (framing, magic, CRC-32C, offset delta vs count, size vs max.message.bytes, codec), appended
// whole with offsets written into its header, never decoded record by record. acks=0 gets no
// response; acks=1 and acks=-1 are answered after the append (one replica: the ISR is this broker).
// v8+ carries per-batch record errors and an error message. Batches with a producer id go through the
// partition's producer state first (src/txn, src/log/producer-state.ts): epoch and sequence checks,
// a duplicate is acknowledged with its original offset and not appended again, a transactional batch
// must belong to the producer's ongoing transaction. LogAppendTime batches keep their records' own deltas.
// A partition whose log dir refuses the write (free space below brook.log.dir.min.free.bytes, ENOSPC)
// answers KAFKA_STORAGE_ERROR, as Kafka does for a log dir it cannot write; clients retry it.
import { Produce } from "../../protocol/apis/00-produce.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { ATTRIBUTES, codecOf, dataView, stampLogAppendTime, validateBatches } from "../../protocol/records/batch.ts";
import type { ResponseOf } from "../../protocol/types.ts";
import { cleanupPolicy, topicConfigValue } from "../topic-config.ts";
import { parseBatchRecords, rebuildBatch } from "../log/batch-rewrite.ts";
import { producedBatchOf } from "../log/producer-state.ts";
import { StorageError } from "../log/storage-error.ts";
import { NO_RESPONSE, handler } from "./handler.ts";

const CODEC_OF: Record<string, number> = { uncompressed: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

type PartitionResponse = NonNullable<NonNullable<ResponseOf<typeof Produce>["responses"]>[number]["partitionResponses"]>[number];

export default handler(Produce, (req, ctx) => {
  const { broker, version } = ctx;
  const acks = req.acks;
  const responses = req.topicData.map((t) => {
    const topic = broker.topics.get(t.name);
    const partitionResponses = t.partitionData.map((p): PartitionResponse => {
      const fail = (errorCode: number, errorMessage: string | null = null, batchIndex = -1): PartitionResponse => ({
        index: p.index,
        errorCode,
        baseOffset: -1,
        logAppendTimeMs: -1,
        logStartOffset: -1,
        recordErrors: batchIndex >= 0 ? [{ batchIndex, batchIndexErrorMessage: errorMessage }] : [],
        errorMessage,
      });
      if (acks !== 0 && acks !== 1 && acks !== -1) return fail(ErrorCode.INVALID_REQUIRED_ACKS);
      const partition = topic?.partitions[p.index];
      if (!topic || !partition) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "This server does not host this topic-partition.");
      const config = (name: string) => topicConfigValue(topic.configs, name, broker.config);
      let records = p.records instanceof Uint8Array ? p.records : null;
      if (!records || records.length === 0) return fail(ErrorCode.INVALID_RECORD, "produce data has no record batch", 0);
      const checked = validateBatches(records, {
        maxBatchBytes: Number(config("max.message.bytes")),
        singleBatch: true,
        allowZstd: version >= 7,
      });
      if (!checked.ok) {
        broker.log.warn(`rejected produce to ${t.name}-${p.index} from ${ctx.peer}: ${checked.error}: ${checked.message}`);
        return fail(ErrorCode[checked.error], checked.message, checked.error === "INVALID_RECORD" ? checked.batchIndex : -1);
      }
      if (acks === -1 && Number(config("min.insync.replicas")) > 1)
        return fail(ErrorCode.NOT_ENOUGH_REPLICAS, "Messages are rejected since there are fewer in-sync replicas than required.");
      const produced = producedBatchOf(checked);
      if (produced) {
        const check = broker.txn.checkProduce(partition, req.transactionalId, produced);
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
