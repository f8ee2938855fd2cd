export { PartitionLog, DEFAULT_LOG_CONFIG } from "./partition-log.ts";
export type { LogConfig, AppendResult, BatchRef, SegmentInfo } from "./partition-log.ts";
export { Segment, segmentFileName } from "./segment.ts";
