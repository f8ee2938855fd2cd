// Time- and size-based retention (cleanup.policy containing "delete"): whole sealed segments at the
// start of the log go when
//  - retention.ms >= 0 and the segment's largest record timestamp is older than that (a segment
//    without timestamps falls back to its file's modification time), or
//  - retention.bytes >= 0 and the log without the segment would still hold at least retention.bytes.
// Only a prefix of the log is removed (the first segment that must stay stops the walk, as in Kafka),
// the active segment never goes, and the log start offset moves up to the first remaining segment, so
// a consumer behind it gets OFFSET_OUT_OF_RANGE and resets per its auto.offset.reset.
// Files are unlinked, never truncated: fetches holding views of their mappings stay valid.
import fs from "node:fs";
import type { PartitionLog } from "./partition-log.ts";
import type { Segment } from "./segment.ts";

export interface RetentionSettings {
  /** retention.ms; -1 = keep forever */
  retentionMs: number;
  /** retention.bytes; -1 = no size limit */
  retentionBytes: number;
}

export interface RetentionResult {
  segmentsDeleted: number;
  bytesDeleted: number;
  reason: "time" | "size" | null;
  logStartOffset: number;
}

function largestTimestamp(seg: Segment): number {
  if (seg.maxTimestamp >= 0) return seg.maxTimestamp;
  try {
    return fs.statSync(seg.path).mtimeMs;
  } catch {
    return -1;
  }
}

/** How many of the oldest sealed segments retention would delete now. */
export function segmentsPastRetention(log: PartitionLog, s: RetentionSettings, now: number): { count: number; reason: "time" | "size" | null } {
  const sealed = log.sealedSegments();
  let byTime = 0;
  if (s.retentionMs >= 0) {
    while (byTime < sealed.length && now - largestTimestamp(sealed[byTime]!) > s.retentionMs) byTime++;
  }
  let bySize = 0;
  if (s.retentionBytes >= 0) {
    let excess = log.size - s.retentionBytes;
    while (bySize < sealed.length && excess - sealed[bySize]!.size >= 0) {
      excess -= sealed[bySize]!.size;
      bySize++;
    }
  }
  const count = Math.max(byTime, bySize);
  return { count, reason: count === 0 ? null : byTime >= bySize ? "time" : "size" };
}

/** Applies retention to one log. */
export function applyRetention(log: PartitionLog, s: RetentionSettings, now = Date.now()): RetentionResult {
  const { count, reason } = segmentsPastRetention(log, s, now);
  if (count === 0 || log.isClosed) return { segmentsDeleted: 0, bytesDeleted: 0, reason: null, logStartOffset: log.logStartOffset };
  const sealed = log.sealedSegments();
  let bytes = 0;
  for (let i = 0; i < count; i++) bytes += sealed[i]!.size;
  // Everything below the first segment that stays goes (that segment is sealed or the active one).
  const keepFrom = count < sealed.length ? sealed[count]!.baseOffset : log.activeBaseOffset;
  const deleted = log.deleteSegmentsBefore(keepFrom);
  return { segmentsDeleted: deleted, bytesDeleted: bytes, reason, logStartOffset: log.logStartOffset };
}
