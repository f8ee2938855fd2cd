// OffsetForLeaderEpoch v0–v4: per partition, where the requested leader epoch ended: the log end offset
// for the current epoch, else the start of the next higher epoch together with the largest epoch at or
// below the requested one (Kafka's LeaderEpochFileCache.endOffsetFor). Unknown or undefined epochs answer
// -1/-1 without an error, as Kafka does. v2+ fences a stale current leader epoch (FENCED_LEADER_EPOCH) and
// reports a newer one as UNKNOWN_LEADER_EPOCH. The replica id (v3+) changes nothing: every replica of a
// Brook partition is this broker, which is always its leader. With an authorizer a consumer needs
// DESCRIBE on each topic, a follower (replica id >= 0) CLUSTER_ACTION on the cluster, else the
// partitions answer TOPIC_AUTHORIZATION_FAILED (before the existence check), as in Kafka.
import { OffsetForLeaderEpoch } from "../../protocol/apis/23-offset-for-leader-epoch.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";
import { checkCurrentLeaderEpoch } from "./leader-epoch.ts";

export default handler(OffsetForLeaderEpoch, (req, ctx) => {
  const { broker } = ctx;
  const follower = ctx.version >= 3 && req.replicaId >= 0;
  const clusterAction = follower && ctx.authorize(AclOperation.CLUSTER_ACTION, ResourceType.CLUSTER, CLUSTER_NAME);
  const topics = req.topics.map((t) => ({
    topic: t.topic,
    partitions: t.partitions.map((p) => {
      if (follower ? !clusterAction : !ctx.authorize(AclOperation.DESCRIBE, ResourceType.TOPIC, t.topic))
        return { errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, partition: p.partition, leaderEpoch: -1, endOffset: -1 };
      const part = broker.topics.partition(t.topic, p.partition);
      if (!part) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, partition: p.partition, leaderEpoch: -1, endOffset: -1 };
      const fenced = checkCurrentLeaderEpoch(part, p.currentLeaderEpoch);
      if (fenced !== ErrorCode.NONE) return { errorCode: fenced, partition: p.partition, leaderEpoch: -1, endOffset: -1 };
      const [leaderEpoch, endOffset] = part.log.epochHistory.endOffsetFor(p.leaderEpoch, part.log.logEndOffset);
      return { errorCode: ErrorCode.NONE, partition: p.partition, leaderEpoch, endOffset };
    }),
  }));
  return { throttleTimeMs: 0, topics };
});
