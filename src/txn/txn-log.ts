// The durable state of the transaction coordinator: `brook-transactions.log` in the first log dir, Brook's
// stand-in for Kafka's __transaction_state topic. Every change of a transactional id's metadata appends
// the whole record (the last one per id wins on replay); a tombstone removes an expired id.
//
// Framing, per record:  uint32 length | uint32 CRC-32C of the payload | payload (UTF-8 JSON).
// Appends are write(2)s, so they survive kill -9 of the broker; the ones a restart depends on (epoch
// changes, PrepareCommit/PrepareAbort) are fsynced as well. A torn or corrupt tail is cut off on open;
// a failed append (a full volume) is cut off at once and thrown as a StorageError.
// When the file holds many more records than live ids it is rewritten into a temporary file, fsynced
// and renamed over the old one, so a crash leaves either the old or the new file.
import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { concat, damagedFileError, frame, scanFrames, syncDir, writeAll } from "../framed-file.ts";
import type { Logger } from "../log.ts";
import { isNoSpace } from "../log/os.ts";
import { StorageError } from "../log/storage-error.ts";

export const TXN_LOG_FILE = "brook-transactions.log";
const MAX_RECORD = 64 * 1024 * 1024;

/** One transactional id's metadata as stored. */
export interface StoredTxn {
  transactionalId: string;
  producerId: number;
  lastProducerId: number;
  producerEpoch: number;
  lastProducerEpoch: number;
  timeoutMs: number;
  state: string;
  /** [topic, partitions] */
  partitions: [string, number[]][];
  groups: string[];
  /** offsets staged by TxnOffsetCommit: [group, topic, partition, offset, leaderEpoch, metadata, commitTimestamp] */
  offsets: [string, string, number, number, number, string, number][];
  startTimestamp: number;
  lastUpdateTimestamp: number;
  /** set while a transactions-v2 completion moves the id to a new producer id (epoch overflow) */
  nextProducerId?: number;
}

type Record_ = StoredTxn | { transactionalId: string; deleted: true };

export class TxnLog {
  private fd: number;
  private records: number;
  /** bytes of whole records in the file */
  private size: number;
  private closed = false;

  private constructor(
    readonly path: string,
    fd: number,
    records: number,
    size: number,
    private readonly log: Logger,
  ) {
    this.fd = fd;
    this.records = records;
    this.size = size;
  }

  static open(dir: string, log: Logger): { txnLog: TxnLog; state: StoredTxn[] } {
    const path = join(dir, TXN_LOG_FILE);
    const live = new Map<string, StoredTxn>();
    let records = 0;
    let good = 0;
    if (existsSync(path)) {
      const buf = readFileSync(path);
      const text = new TextDecoder("utf-8", { fatal: true });
      const scan = scanFrames(buf, MAX_RECORD, (payload) => {
        const rec = JSON.parse(text.decode(payload)) as Record_;
        if (typeof rec?.transactionalId !== "string") return false;
        if ("deleted" in rec) live.delete(rec.transactionalId);
        else live.set(rec.transactionalId, rec);
        return true;
      });
      good = scan.good;
      records = scan.records;
      if (scan.problem && !scan.problem.torn) throw damagedFileError(path, "the state of every transactional id (open transactions, producer epochs)", buf.length, records, scan.problem);
      if (scan.problem) {
        log.warn(`${path}: dropping ${buf.length - good} bytes at offset ${good} (${scan.problem.reason}), a write an unclean shutdown cut short`);
        const fd = openSync(path, "r+");
        try {
          ftruncateSync(fd, good);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      }
    }
    const fd = openSync(path, "a");
    return { txnLog: new TxnLog(path, fd, records, good, log), state: [...live.values()] };
  }

  get recordCount(): number {
    return this.records;
  }

  append(rec: StoredTxn, sync: boolean): void {
    this.write([rec], sync);
  }

  appendTombstones(ids: string[]): void {
    if (ids.length > 0) this.write(ids.map((transactionalId) => ({ transactionalId, deleted: true as const })), false);
  }

  /** Rewrites the file with only the live records when it holds more than twice as many. */
  maybeCompact(live: () => StoredTxn[], liveCount: number): void {
    if (this.records < 1000 || this.records <= 2 * liveCount) return;
    this.compact(live());
  }

  compact(state: StoredTxn[]): void {
    if (this.closed) return;
    const tmp = `${this.path}.tmp`;
    const body = concat(state.map(encodeRecord));
    const tfd = openSync(tmp, "w");
    try {
      writeAll(tfd, body);
      fsyncSync(tfd);
    } finally {
      closeSync(tfd);
    }
    closeSync(this.fd);
    renameSync(tmp, this.path);
    syncDir(dirname(this.path));
    this.fd = openSync(this.path, "a");
    this.records = state.length;
    this.size = body.length;
    this.log.debug(`compacted ${this.path} to ${state.length} records`);
  }

  close(): void {
    if (this.closed) return;
    try {
      fsyncSync(this.fd);
    } finally {
      closeSync(this.fd);
      this.closed = true;
    }
  }

  private write(recs: Record_[], sync: boolean): void {
    if (this.closed) throw new Error("transaction log is closed");
    const body = concat(recs.map(encodeRecord));
    try {
      writeAll(this.fd, body);
      if (sync) fsyncSync(this.fd);
    } catch (e) {
      // A partial record (a full volume) would end the file for every later append: cut it off.
      try {
        ftruncateSync(this.fd, this.size);
      } catch {
        // then the torn tail is cut off on the next open, as after a crash
      }
      throw new StorageError(`could not append to ${this.path}: ${(e as Error).message}`, this.path, isNoSpace(e));
    }
    this.size += body.length;
    this.records += recs.length;
  }
}

const encoder = new TextEncoder();

function encodeRecord(rec: Record_): Uint8Array {
  return frame(encoder.encode(JSON.stringify(rec)));
}
