// DeleteRecords v0–v2: moves a partition's log start offset up to the given offset (-1: the high
// watermark), deleting whole segments below it; records below it are never returned again and
// ListOffsets earliest answers it. The answer is the new low watermark. An offset past the high
// watermark (or below -1) gets OFFSET_OUT_OF_RANGE, one at or below the current start is a no-op.
// There are no replicas to wait for, so timeout_ms is not used. A start offset that cannot be written
// durably (a full volume) gets KAFKA_STORAGE_ERROR and changes nothing. With an authorizer each topic
// needs DELETE (TOPIC_AUTHORIZATION_FAILED per partition, before the existence check).
import { DeleteRecords } from "../../protocol/apis/21-delete-records.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, ResourceType } from "../acl/acl.ts";
import { StorageError } from "../log/storage-error.ts";
import { handler } from "./handler.ts";

export default handler(DeleteRecords, (req, ctx) => {
  const { broker } = ctx;
  const topics = req.topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p) => {
      const part = broker.topics.partition(t.name, p.partitionIndex);
      const answer = (errorCode: number, lowWatermark = -1) => ({ partitionIndex: p.partitionIndex, errorCode, lowWatermark });
      if (!ctx.authorize(AclOperation.DELETE, ResourceType.TOPIC, t.name)) return answer(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
      if (!part) return answer(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      const log = part.log;
      const target = p.offset === -1 ? log.logEndOffset : p.offset;
      if (target < 0 || target > log.logEndOffset) return answer(ErrorCode.OFFSET_OUT_OF_RANGE);
      if (target > log.logStartOffset) {
        try {
          log.setLogStartOffset(target);
        } catch (e) {
          if (!(e instanceof StorageError)) throw e;
          return answer(ErrorCode.KAFKA_STORAGE_ERROR);
        }
        broker.log.info(`DeleteRecords: log start offset of ${t.name}-${p.partitionIndex} is now ${log.logStartOffset}`);
      }
      return answer(ErrorCode.NONE, log.logStartOffset);
    }),
  }));
  return { throttleTimeMs: 0, topics };
});
