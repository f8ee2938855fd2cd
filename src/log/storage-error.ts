// A log dir that cannot take a write: full (below brook.log.dir.min.free.bytes, or ENOSPC/EDQUOT) or
// failing. Handlers answer it with KAFKA_STORAGE_ERROR, as Kafka does for a log dir it cannot write.
export class StorageError extends Error {
  override name = "StorageError";
  constructor(
    message: string,
    /** the log dir (or file) concerned */
    readonly path: string,
    /** true when the cause is a lack of space, which clears by itself once space is freed */
    readonly noSpace: boolean,
  ) {
    super(message);
  }
}
