// DescribeLogDirs v0–v4: every log dir (log.dirs) with the partitions it holds — all of them for a null
// topic list, else the ones asked for that exist — their size in bytes (batches held, not preallocated
// space) and offset lag 0 (no replicas, no future logs). v4 adds the volume's total and usable bytes.
// With an authorizer it needs DESCRIBE on the cluster (no results, CLUSTER_AUTHORIZATION_FAILED from v3).
import { statfsSync } from "node:fs";
import { DescribeLogDirs } from "../../protocol/apis/35-describe-log-dirs.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

interface PartitionEntry {
  partitionIndex: number;
  partitionSize: number;
  offsetLag: number;
  isFutureKey: boolean;
}

export default handler(DescribeLogDirs, (req, ctx) => {
  const { broker } = ctx;
  if (!ctx.authorize(AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME))
    return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, results: [] };
  const byDir = new Map<string, Map<string, PartitionEntry[]>>();
  for (const d of broker.topics.logDirectories) byDir.set(d, new Map());
  const add = (topic: string, index: number) => {
    const part = broker.topics.partition(topic, index);
    if (!part) return;
    const dir = broker.topics.logDirOf(topic, index);
    const topics = byDir.get(dir) ?? byDir.set(dir, new Map()).get(dir)!;
    let list = topics.get(topic);
    if (!list) topics.set(topic, (list = []));
    list.push({ partitionIndex: index, partitionSize: part.log.size, offsetLag: 0, isFutureKey: false });
  };
  if (req.topics === null) {
    for (const t of broker.topics.all()) for (const p of t.partitions) add(t.name, p.index);
  } else {
    for (const t of req.topics) for (const i of t.partitions) add(t.topic, i);
  }
  const results = [...byDir].map(([logDir, topics]) => {
    let totalBytes = -1, usableBytes = -1;
    try {
      const s = statfsSync(logDir);
      totalBytes = s.blocks * s.bsize;
      usableBytes = s.bavail * s.bsize;
    } catch {
      // unknown: -1
    }
    return {
      errorCode: ErrorCode.NONE,
      logDir,
      topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
      totalBytes,
      usableBytes,
    };
  });
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, results };
});
