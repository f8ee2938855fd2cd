// A partition's leader-epoch history: for each leader epoch, the first offset written in it (Kafka's
// LeaderEpochFileCache). It answers OffsetForLeaderEpoch (KIP-101/KIP-320: where did epoch N end?) and
// fetches that carry a last fetched epoch. Kept in `leader-epoch-checkpoint` in the partition directory,
// in Kafka's text format (version line, count line, then "epoch startOffset" lines), replaced atomically.
import fs from "node:fs";
import path from "node:path";

export const LEADER_EPOCH_CHECKPOINT = "leader-epoch-checkpoint";
const FORMAT_VERSION = 0;

export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

export class LeaderEpochCache {
  private constructor(
    private readonly file: string,
    /** ascending by epoch and by start offset */
    private entries: EpochEntry[],
  ) {}

  /** Reads the checkpoint in dir (an unreadable or missing one is an empty history). */
  static load(dir: string): LeaderEpochCache {
    const file = path.join(dir, LEADER_EPOCH_CHECKPOINT);
    let entries: EpochEntry[] = [];
    try {
      const lines = fs.readFileSync(file, "utf8").split("\n").map((l) => l.trim()).filter((l) => l !== "");
      if (Number(lines[0]) === FORMAT_VERSION) {
        const count = Number(lines[1]);
        for (let i = 0; i < count; i++) {
          const [epoch, startOffset] = (lines[2 + i] ?? "").split(/\s+/).map(Number);
          if (!Number.isSafeInteger(epoch) || !Number.isSafeInteger(startOffset)) break;
          entries.push({ epoch: epoch!, startOffset: startOffset! });
        }
      }
    } catch {
      entries = [];
    }
    return new LeaderEpochCache(file, entries);
  }

  get latestEpoch(): number {
    return this.entries.length > 0 ? this.entries[this.entries.length - 1]!.epoch : -1;
  }

  get earliest(): EpochEntry | undefined {
    return this.entries[0];
  }

  /** A copy of the history, oldest first. */
  get all(): EpochEntry[] {
    return this.entries.map((e) => ({ ...e }));
  }

  /**
   * Records that `epoch` starts at `startOffset` (a new leader epoch, or the first batch written in it).
   * As in Kafka, entries the new one contradicts (an equal or newer epoch, or a start at or after the new
   * one) are removed first; re-assigning the latest epoch at the same or a later offset changes nothing.
   */
  assign(epoch: number, startOffset: number, durable = true): void {
    if (epoch < 0 || startOffset < 0) return;
    const last = this.entries[this.entries.length - 1];
    if (last && last.epoch === epoch && startOffset >= last.startOffset) return;
    while (this.entries.length > 0) {
      const e = this.entries[this.entries.length - 1]!;
      if (e.epoch < epoch && e.startOffset < startOffset) break;
      this.entries.pop();
    }
    this.entries.push({ epoch, startOffset });
    this.persist(durable);
  }

  /**
   * Kafka's endOffsetFor: the end offset of `requested` (the start of the next higher epoch, or the log
   * end for the latest) and the largest epoch at or below it; [-1, -1] when it cannot be told.
   */
  endOffsetFor(requested: number, logEndOffset: number): [epoch: number, endOffset: number] {
    if (requested < 0 || this.entries.length === 0) return [-1, -1];
    const latest = this.entries[this.entries.length - 1]!;
    if (latest.epoch === requested) return [requested, logEndOffset];
    const higher = this.entries.findIndex((e) => e.epoch > requested);
    if (higher < 0) return [-1, -1];
    // Below every known epoch: the data of the older epochs is gone; answer the first known start.
    if (higher === 0) return [requested, this.entries[0]!.startOffset];
    return [this.entries[higher - 1]!.epoch, this.entries[higher]!.startOffset];
  }

  /** The epoch that offset was written in (the entry with the largest start offset at or below it), or -1. */
  epochForOffset(offset: number): number {
    let epoch = -1;
    for (const e of this.entries) {
      if (e.startOffset > offset) break;
      epoch = e.epoch;
    }
    return epoch;
  }

  /** Drops epochs that start past the log end (writes lost to a crash before they were flushed). */
  truncateFromEnd(logEndOffset: number): void {
    const kept = this.entries.filter((e) => e.startOffset <= logEndOffset);
    if (kept.length === this.entries.length) return;
    this.entries = kept;
    this.persist();
  }

  /** The log start offset moved to `offset`: epochs wholly below it go, the one containing it starts there. */
  truncateFromStart(offset: number): void {
    let n = 0;
    while (n < this.entries.length && this.entries[n]!.startOffset <= offset) n++;
    if (n === 0) return;
    const containing = this.entries[n - 1]!;
    if (n === 1 && containing.startOffset === offset) return;
    this.entries = [{ epoch: containing.epoch, startOffset: offset }, ...this.entries.slice(n)];
    this.persist();
  }

  private persist(durable = true): void {
    const text = [String(FORMAT_VERSION), String(this.entries.length), ...this.entries.map((e) => `${e.epoch} ${e.startOffset}`)].join("\n") + "\n";
    const tmp = this.file + ".tmp";
    const fd = fs.openSync(tmp, "w");
    try {
      fs.writeSync(fd, text);
      if (durable) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.file);
  }
}
