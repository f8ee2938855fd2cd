export { PartitionLog, DEFAULT_LOG_CONFIG } from "./partition-log.ts";
export type { LogConfig, AppendResult, BatchRef, SegmentInfo } from "./partition-log.ts";
export { Segment, segmentFileName, logReadStats } from "./segment.ts";
export { LogDir } from "./log-dir.ts";
export { StorageError } from "./storage-error.ts";
