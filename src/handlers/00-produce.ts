// Produce v3–v9. Each partition's data must be exactly one v2 record batch; it is validated from its
// header (framing, magic, CRC-32C, offset delta vs count, size vs max.message.bytes, codec), appended
// whole with offsets written into its header, never decoded record by record. acks=0 gets no
// response; acks=1 and acks=-1 are answered after the append (one replica: the ISR is this broker).
// v8+ carries per-batch record errors and an error message. Not done here: idempotent sequence
// checks and transactions (later features), LogAppendTime batches keep their records' own deltas.
import { Produce } from "../../protocol/apis/00-produce.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { stampLogAppendTime, validateBatches } from "../../protocol/records/batch.ts";
import type { ResponseOf } from "../../protocol/types.ts";
import { topicConfigValue } from "../topic-config.ts";
import { NO_RESPONSE, handler } from "./handler.ts";

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
      const records = p.records instanceof Uint8Array ? p.records : null;
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
      let logAppendTimeMs = -1;
      if (config("message.timestamp.type") === "LogAppendTime") {
        logAppendTimeMs = Date.now();
        stampLogAppendTime(records, 0, logAppendTimeMs);
      }
      const { baseOffset } = partition.log.append(records, checked.offsetCount);
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
