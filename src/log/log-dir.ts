// A log directory (one entry of log.dirs): the recovery checkpoint of every partition in it, the
// clean-shutdown marker, and the space left on its volume.
//
// `brook-log-checkpoint.json` holds, per partition directory, the log start offset, the recovery point
// (below it everything was fsynced), each segment's summary and the producer-state snapshot. It is
// written every log.flush.offset.checkpoint.interval.ms, whenever 512 MiB more were appended to the
// dir, and at a clean shutdown, together with `.brook-clean-shutdown`, which names the checkpoint it
// vouches for. So:
//  - after a clean shutdown, logs open from the checkpoint alone: no record data is read, no segment
//    file is even opened until something uses it;
//  - after a process crash (same boot id: the page cache survived) only what was appended after the
//    last checkpoint is walked and CRC-checked;
//  - after a power loss (another boot id) every segment past the recovery point is walked and checked.
// Partition directories are keyed by name; a topic id guards against a deleted and re-created topic.
//
// Which partitions changed since the checkpoint is known without looking at them: before its first
// change after a checkpoint was taken, a partition writes its name to `brook-dirty-<generation>.journal`
// (an append, once per partition and checkpoint). After a process crash, a partition named in no
// journal of the checkpoint's generation or later opens from the checkpoint as after a clean shutdown;
// one that was only appended to walks its active segment from the checkpointed end; one whose
// segments changed (roll, retention, compaction, DeleteRecords) lists its directory.
//
// Space: appends (produce) are refused with a StorageError while the volume has less than
// brook.log.dir.min.free.bytes free (default 1% of the volume, at most 1 GiB), so the writes that must
// not fail (consumer offsets, transactions, the topic catalogue) still find room; a write failing with
// ENOSPC puts the dir in the same state. The state clears by itself once space is back (retention,
// DeleteRecords, a deleted topic, an operator), rechecked at most every second while it lasts.
import fs from "node:fs";
import path from "node:path";
import type { Logger } from "../log.ts";
import { bootId, isNoSpace, syncFilesystem, volumeSpace } from "./os.ts";
import { decodeIndexTail, segmentMetaJson, type SegmentMeta } from "./segment.ts";
import { StorageError } from "./storage-error.ts";
import { CRASH_POINTS, crashPoint } from "../crash-points.ts";

export const LOG_CHECKPOINT_FILE = "brook-log-checkpoint.json";
export const CLEAN_SHUTDOWN_FILE = ".brook-clean-shutdown";
const JOURNAL_PREFIX = "brook-dirty-";
const JOURNAL_SUFFIX = ".journal";
const journalName = (generation: number) => `${JOURNAL_PREFIX}${generation}${JOURNAL_SUFFIX}`;

/**
 * How a partition changed since the checkpoint (the journal's letters): nothing; batches appended to
 * the active segment; its set of segments changed.
 */
export const Change = { None: 0, Appended: 1, Segments: 2 } as const;
export type Change = (typeof Change)[keyof typeof Change];
const CHECKPOINT_VERSION = 1;
/** A checkpoint is due once this much was appended since the last one (bounds work after a crash). */
export const CHECKPOINT_EVERY_BYTES = 512 << 20;
/** statfs at least this often while appending, and this often while the dir is full. */
const SPACE_CHECK_MS = 1000;
const FULL_REMINDER_MS = 60_000;
/** Up to this many files with unsynced data are fsynced one by one; more get one syncfs. */
const FSYNC_FILES_UP_TO = 64;
/**
 * A clean stop fsyncs the data only when at most FSYNC_FILES_UP_TO files and this many bytes are not
 * known to be durable: writing back more than that takes longer than a stop should (a second or more).
 */
const STOP_FSYNC_BYTES_UP_TO = 32 * 2 ** 20;

/** One partition's state in the checkpoint. */
export interface PartitionCheckpoint {
  topicId?: string;
  logStartOffset: number;
  recoveryPoint: number;
  segments: SegmentMeta[];
  /** the producer-state snapshot (producer-state.ts), opaque here */
  producers?: unknown;
}

/** What the dir needs from each partition log in it. */
export interface DirMember {
  /** the partition directory's name in the log dir ("" for a standalone log) */
  readonly dirName: string;
  /**
   * The state for a checkpoint: the JSON of its entry (as parseEntry reads it), built once `written`
   * settled (the index files it relies on).
   */
  captureCheckpoint(): { json: () => string; written: Promise<void> | null };
  /** files with data not yet fsynced */
  readonly unsyncedFiles: number;
  /** bytes not known to be fsynced (an upper bound: whole segments from the recovery point on) */
  readonly unsyncedBytes: number;
  /** fsync them (instead of a volume-wide sync) */
  fsyncFiles(): void;
  /** everything appended up to now is durable (after a volume-wide sync) */
  markSynced(): void;
  /** the journal generation and the strongest change this member recorded there */
  journalMark: { generation: number; change: Change };
}

export interface LogDirOptions {
  /** brook.log.dir.min.free.bytes; null: 1% of the volume, at most 1 GiB */
  minFreeBytes?: number | null;
  log?: Logger;
  /** write a checkpoint after this many appended bytes (Infinity: only when asked) */
  checkpointEveryBytes?: number;
}

type SerializedSegment = [number, number, number, number, number, number, number, number, (number | null)[]];
interface SerializedEntry {
  t?: string;
  s: number;
  r: number;
  g: SerializedSegment[];
  p?: unknown;
  /** the offset the producer snapshot holds at, when later than its own (no producer-id batch between) */
  po?: number;
}
interface CheckpointFile {
  version: number;
  generation: number;
  bootId: string | null;
  writtenAt: number;
  /** changes after it go to the journals (brook-dirty-<generation>.journal) */
  journaled?: boolean;
  logs: Record<string, SerializedEntry>;
}

const num = (v: unknown, fallback: number): number => (typeof v === "number" && !Number.isNaN(v) ? v : fallback);

function parseEntry(e: SerializedEntry): PartitionCheckpoint | null {
  if (!e || !Array.isArray(e.g) || !Number.isSafeInteger(e.s) || !Number.isSafeInteger(e.r)) return null;
  const segments: SegmentMeta[] = [];
  for (const g of e.g) {
    if (!Array.isArray(g) || g.length < 9 || !Number.isSafeInteger(g[0]) || !Number.isSafeInteger(g[1]) || !Number.isSafeInteger(g[2])) return null;
    const tail = decodeIndexTail(g[8]);
    if (!tail) return null;
    segments.push({
      baseOffset: g[0],
      size: g[1],
      nextOffset: g[2],
      maxTimestamp: num(g[3], -1),
      maxTimestampPos: num(g[4], -1),
      firstAppendAt: num(g[5], -1),
      indexEntries: num(g[6], 0),
      lastIndexedPos: num(g[7], -1),
      indexTail: tail,
    });
  }
  let producers = e.p;
  if (Number.isSafeInteger(e.po) && producers !== null && typeof producers === "object" && "offset" in producers) producers = { ...producers, offset: e.po };
  return { topicId: typeof e.t === "string" ? e.t : undefined, logStartOffset: e.s, recoveryPoint: e.r, segments, producers };
}

/** An entry no log took this run, written back as it was read. */
function entryJson(c: PartitionCheckpoint): string {
  const producers = c.producers === undefined ? "" : `,"p":${JSON.stringify(c.producers)}`;
  return `{${c.topicId !== undefined ? `"t":${JSON.stringify(c.topicId)},` : ""}"s":${c.logStartOffset},"r":${c.recoveryPoint},"g":[${c.segments.map(segmentMetaJson).join(",")}]${producers}}`;
}

/** The file's JSON; null when it is missing, and { unreadable: reason } when it cannot be parsed. */
function readJson(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return null;
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    return { unreadable: `${(e as Error).message} (${text.length} bytes)` };
  }
}

export class LogDir {
  readonly path: string;
  /** The previous shutdown was clean: the checkpoint describes every log exactly. */
  readonly clean: boolean;
  /** The checkpoint was written since the last reboot: what it saw appended is intact. */
  readonly sameBoot: boolean;
  /** The previous shutdown was clean and had fsynced everything (recovery points are the log ends). */
  readonly cleanSynced: boolean;
  private readonly entries = new Map<string, PartitionCheckpoint>();
  private readonly members = new Set<DirMember>();
  private readonly log: Logger | undefined;
  private readonly standalone: boolean;
  private generation: number;
  private checkpointing: Promise<void> | null = null;
  private closed = false;
  private checkpointEveryBytes: number;
  private appendedSinceCheckpoint = 0;
  private lastCheckpointError = 0;
  /** changes recorded in the journals since the checkpoint (read on open, for recovery) */
  private readonly journaled = new Map<string, Change>();
  /** the checkpoint's generation: the journals of later changes carry it */
  private journalGen = 0;
  /** generations of the journal files there are */
  private readonly journalGens = new Set<number>();
  /** a partition announced a change since the last checkpoint (after a crash: the recovery's) */
  private changedSinceCheckpoint: boolean;
  private journalFd: number | null = null;
  /** bytes of whole lines in the current journal */
  private journalSize = 0;
  /** a partial line could not be cut off: no change may be announced there (the next journal is fresh) */
  private journalBroken = false;
  /** the previous run journaled its changes (so an unnamed partition did not change) */
  changesJournaled: boolean;
  /** the dir's entries at open (partition directories among them), until the logs are loaded */
  private listing: string[] | null;

  // space
  readonly minFreeBytes: number;
  private free = Infinity;
  private total = 0;
  private spaceCheckedAt = -Infinity;
  private full = false;
  private fullReason = "";
  private fullSince = 0;
  private fullRemindedAt = 0;
  private fullTimer: ReturnType<typeof setInterval> | null = null;

  private constructor(dir: string, standalone: boolean, o: LogDirOptions) {
    this.path = dir;
    this.standalone = standalone;
    this.log = o.log;
    this.checkpointEveryBytes = o.checkpointEveryBytes ?? Infinity;
    fs.mkdirSync(dir, { recursive: true });
    // One listing (a log dir holds a directory per partition: thousands of names).
    this.listing = fs.readdirSync(dir);
    const files = this.listing.filter((f) => f.startsWith("brook-"));
    for (const f of files) if (f.startsWith(LOG_CHECKPOINT_FILE + ".tmp")) fs.rmSync(path.join(dir, f), { force: true });
    const ckpt = readJson(path.join(dir, LOG_CHECKPOINT_FILE)) as CheckpointFile | null;
    const marker = readJson(path.join(dir, CLEAN_SHUTDOWN_FILE)) as { generation?: number; synced?: boolean } | null;
    const usable = ckpt !== null && ckpt.version === CHECKPOINT_VERSION && typeof ckpt.logs === "object" && ckpt.logs !== null;
    if (ckpt !== null && !usable)
      this.log?.warn(
        `${path.join(dir, LOG_CHECKPOINT_FILE)} is unusable (${(ckpt as { unreadable?: string }).unreadable ?? `version ${JSON.stringify(ckpt.version)}`}): ` +
          "every partition in the dir is recovered from its segments",
      );
    this.generation = usable && Number.isSafeInteger(ckpt.generation) ? ckpt.generation : 0;
    if (usable) {
      for (const [name, e] of Object.entries(ckpt.logs)) {
        const entry = parseEntry(e);
        if (entry) this.entries.set(name, entry);
      }
    }
    const markerValid = usable && marker !== null && marker.generation === ckpt.generation;
    this.sameBoot = usable && ckpt.bootId !== null && ckpt.bootId === bootId();
    // A clean stop does not fsync the data (see close()): its checkpoint describes the logs exactly only
    // while the page cache it left lives, i.e. in the same boot. After a reboot, what was not fsynced is
    // checked from the recovery point on, as after a power loss.
    this.cleanSynced = markerValid && marker!.synced !== false;
    this.clean = markerValid && (this.cleanSynced || this.sameBoot);
    this.changesJournaled = usable && !markerValid && ckpt.journaled === true;
    // The journal of a checkpoint's generation is created before the checkpoint is put in place: without
    // it, changes after the checkpoint may have gone unrecorded.
    let distrust: string | null = null;
    if (this.changesJournaled && !files.includes(journalName(this.generation))) distrust = `its journal ${journalName(this.generation)} is missing`;
    // Journals of the checkpoint's generation and later say what changed since; older ones are spent.
    for (const f of files) {
      if (!f.startsWith(JOURNAL_PREFIX) || !f.endsWith(JOURNAL_SUFFIX)) continue;
      const gen = Number(f.slice(JOURNAL_PREFIX.length, -JOURNAL_SUFFIX.length));
      if (this.changesJournaled && gen >= this.generation && !distrust) distrust = this.readJournal(path.join(dir, f));
      if (usable && gen >= this.generation) this.journalGens.add(gen);
      else fs.rmSync(path.join(dir, f), { force: true });
    }
    if (distrust) {
      // Recover every partition from its directory, and never trust this checkpoint again: the next
      // start after a crash finds none until a new one is written.
      this.log?.warn(`the changes since the log checkpoint of ${dir} are not known (${distrust}): every partition in the dir is recovered from its segments`);
      this.changesJournaled = false;
      this.journaled.clear();
      fs.rmSync(path.join(dir, LOG_CHECKPOINT_FILE), { force: true });
      for (const gen of this.journalGens) fs.rmSync(path.join(dir, journalName(gen)), { force: true });
      this.journalGens.clear();
      syncDir(dir);
    }
    this.journalGen = this.generation;
    // This generation's journal exists from now on (see above); a crash before any change then trusts it.
    if (usable && !distrust && !standalone) {
      try {
        this.openJournal();
      } catch {
        // a full volume: the first change tries again (and refuses while it cannot)
      }
    }
    this.changedSinceCheckpoint = !this.clean;
    if (marker !== null || fs.existsSync(path.join(dir, CLEAN_SHUTDOWN_FILE))) {
      // From here on a crash is an unclean shutdown.
      fs.rmSync(path.join(dir, CLEAN_SHUTDOWN_FILE), { force: true });
      syncDir(dir);
    }
    let minFree = o.minFreeBytes ?? null;
    if (minFree === null) {
      try {
        minFree = Math.min(Math.floor(volumeSpace(dir).total / 100), 1 << 30);
      } catch {
        minFree = 0;
      }
    }
    this.minFreeBytes = minFree;
  }

  /** A log dir of the broker: partition directories inside it share its checkpoint. */
  static open(dir: string, o: LogDirOptions = {}): LogDir {
    return new LogDir(dir, false, o);
  }

  /** The dir of a log opened on its own (tests, tools): its checkpoint lives inside the log's directory. */
  static standalone(partitionDir: string, o: LogDirOptions = {}): LogDir {
    return new LogDir(partitionDir, true, { minFreeBytes: 0, ...o });
  }

  get isStandalone(): boolean {
    return this.standalone;
  }

  /** The checkpointed state of a partition directory (once), unless it belongs to another topic id. */
  take(dirName: string, topicId?: string): PartitionCheckpoint | undefined {
    const e = this.entries.get(dirName);
    if (!e) return undefined;
    this.entries.delete(dirName);
    if (topicId !== undefined && e.topicId !== undefined && e.topicId !== topicId) return undefined;
    return e;
  }

  /**
   * How a partition changed after the checkpoint, when a crash interrupted the previous run: None
   * means it is exactly as checkpointed. Null when that is not known (no journals: recover it).
   */
  changeSince(dirName: string): Change | null {
    if (!this.changesJournaled || !this.sameBoot) return null;
    return this.journaled.get(dirName) ?? Change.None;
  }

  /** Reads a journal's changes; returns why it cannot be trusted (a line it did not write), or null. */
  private readJournal(file: string): string | null {
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (e) {
      return `${path.basename(file)} is unreadable: ${(e as Error).message}`;
    }
    const lines = text.split("\n");
    // Not ended by a newline: a write cut short, and the change it announced never began; but only the
    // start of a line Brook writes can be that.
    if (!/^(?:[as](?: [a-zA-Z0-9._-]*)?)?$/.test(lines.pop()!)) return `${path.basename(file)} ends in something Brook does not write`;
    for (const [i, line] of lines.entries()) {
      if (!/^[as] [a-zA-Z0-9._-]*$/.test(line)) return `${path.basename(file)} line ${i + 1} is not one Brook writes`;
      const change: Change = line[0] === "s" ? Change.Segments : Change.Appended;
      const name = line.slice(2);
      if (change > (this.journaled.get(name) ?? Change.None)) this.journaled.set(name, change);
    }
    return null;
  }

  /**
   * Records, before it happens, that a partition is about to change (once per change kind and
   * checkpoint). Throws a StorageError when the journal cannot be written (then nothing may change).
   */
  journal(m: DirMember, change: Change): void {
    const mark = m.journalMark;
    if (mark.generation === this.journalGen && mark.change >= change) return;
    const file = path.join(this.path, journalName(this.journalGen));
    const line = Buffer.from(`${change === Change.Segments ? "s" : "a"} ${m.dirName}\n`);
    try {
      const fd = this.openJournal();
      // A line written in part (a full volume) would run into the next one: cut it off, and say no.
      if (this.journalBroken) throw Object.assign(new Error(`${file} ends in a partial line`), { code: "ENOSPC" });
      const n = fs.writeSync(fd, line);
      if (n !== line.length) {
        this.journalBroken = true;
        fs.ftruncateSync(fd, this.journalSize);
        this.journalBroken = false;
        throw Object.assign(new Error(`short write to ${file}`), { code: "ENOSPC" });
      }
      this.journalSize += n;
      this.changedSinceCheckpoint = true;
    } catch (e) {
      throw this.writeFailed(e, file);
    }
    mark.generation = this.journalGen;
    mark.change = change;
  }

  /** Opens (creating it) the journal of the current generation, unless it is open. */
  private openJournal(): number {
    if (this.journalFd === null) {
      this.journalFd = fs.openSync(path.join(this.path, journalName(this.journalGen)), "a");
      this.journalSize = fs.fstatSync(this.journalFd).size;
      this.journalGens.add(this.journalGen);
    }
    return this.journalFd;
  }

  /** A checkpoint was captured: later changes go to the journal of its generation. */
  private switchJournal(generation: number): void {
    if (this.journalFd !== null) fs.close(this.journalFd, () => {});
    this.journalFd = null;
    this.journalGen = generation;
    this.journalBroken = false;
  }

  /** A checkpoint of `generation` is in place: the journals before it are spent. */
  private dropJournalsBefore(generation: number): void {
    for (const gen of [...this.journalGens]) {
      if (gen >= generation) continue;
      fs.rmSync(path.join(this.path, `${JOURNAL_PREFIX}${gen}${JOURNAL_SUFFIX}`), { force: true });
      this.journalGens.delete(gen);
    }
  }

  /** Forgets checkpoint entries no log took (partitions that no longer exist), and the listing. */
  dropUntaken(): void {
    this.entries.clear();
    this.listing = null;
  }

  /** Logs a warning about something found in the dir (recovery cutting a segment). */
  warn(msg: string): void {
    this.log?.warn(msg);
  }

  /** The names in the dir when it was opened (until the logs are loaded). */
  get entriesAtOpen(): readonly string[] {
    return this.listing ?? [];
  }

  /** The topic id the checkpoint records for a partition directory (without taking its entry). */
  topicIdOf(dirName: string): string | undefined {
    return this.entries.get(dirName)?.topicId;
  }

  register(m: DirMember): void {
    this.members.add(m);
  }

  unregister(m: DirMember): void {
    this.members.delete(m);
  }

  // ---- checkpoints --------------------------------------------------------------------------------

  /**
   * Writes the checkpoint in the background (the periodic one). Never rejects: a failure (a full
   * volume) is logged and the previous checkpoint stays in place.
   */
  checkpoint(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.checkpointing) return this.checkpointing;
    // Nothing changed since the last one (no partition announced a change): the one on disk holds.
    if (!this.changedSinceCheckpoint) return Promise.resolve();
    this.changedSinceCheckpoint = false;
    this.appendedSinceCheckpoint = 0;
    const run = (async () => {
      const t0 = performance.now();
      const generation = ++this.generation;
      const captured = this.capture();
      this.switchJournal(generation); // in the same step as the capture: no change falls between
      const captureMs = performance.now() - t0;
      await Promise.all(captured.written);
      if (this.closed) return;
      const file = path.join(this.path, LOG_CHECKPOINT_FILE);
      const tmp = `${file}.tmp`;
      const t1 = performance.now();
      const body = this.serialize(captured.entries, generation);
      const serializeMs = performance.now() - t1;
      try {
        await fs.promises.writeFile(tmp, body);
        // Renamed on this thread, so a final checkpoint written by close() can't be overtaken.
        if (this.closed) return void fs.rmSync(tmp, { force: true });
        this.openJournal(); // before the checkpoint that names its generation is in place
        if (CRASH_POINTS) crashPoint("checkpoint.before-rename");
        fs.renameSync(tmp, file);
        if (CRASH_POINTS) crashPoint("checkpoint.after-rename");
      } catch (e) {
        fs.rmSync(tmp, { force: true });
        throw e;
      }
      this.dropJournalsBefore(generation);
      this.log?.debug(
        `checkpoint ${generation} of ${captured.entries.size} logs in ${this.path}: ${(body.length / 2 ** 20).toFixed(1)} MiB in ` +
          `${(performance.now() - t0).toFixed(0)} ms (on the event loop: capture ${captureMs.toFixed(1)} ms, serialize ${serializeMs.toFixed(1)} ms)`,
      );
    })()
          .catch((e) => {
        this.changedSinceCheckpoint = true; // try again next time
        const now = Date.now();
        if (now - this.lastCheckpointError > FULL_REMINDER_MS) {
          this.lastCheckpointError = now;
          this.log?.warn(`could not write the log checkpoint of ${this.path}: ${(e as Error).message}`);
        }
        if (isNoSpace(e)) this.enterFull(`writing its checkpoint failed (${(e as { code?: string }).code})`, now);
      })
      .finally(() => {
        this.checkpointing = null;
      });
    this.checkpointing = run;
    return run;
  }

  private capture(): { entries: Map<string, () => string>; written: Promise<void>[] } {
    const entries = new Map<string, () => string>();
    const written: Promise<void>[] = [];
    for (const m of this.members) {
      const c = m.captureCheckpoint();
      entries.set(m.dirName, c.json);
      if (c.written) written.push(c.written);
    }
    // Logs not opened in this run (none in the broker, which opens every partition) keep their entry.
    for (const [name, e] of this.entries) if (!entries.has(name)) entries.set(name, () => entryJson(e));
    return { entries, written };
  }

  /** The checkpoint file's text, assembled from the entries' JSON (no object tree to stringify). */
  private serialize(entries: Map<string, () => string>, generation: number): string {
    const parts: string[] = [];
    for (const [name, json] of entries) parts.push(`${JSON.stringify(name)}:${json()}`);
    const head: Omit<CheckpointFile, "logs"> = { version: CHECKPOINT_VERSION, generation, bootId: bootId(), writtenAt: Date.now(), journaled: true };
    return `${JSON.stringify(head).slice(0, -1)},"logs":{${parts.join(",")}}}`;
  }

  /**
   * Clean shutdown, after every log in the dir was closed: writes the final checkpoint and the marker
   * that vouches for it. The data is not fsynced here (syncing gigabytes of dirty pages made a stop take
   * seconds): it is as durable as it was while the broker ran, the checkpoint keeps each log's fsynced
   * recovery point, and the next start trusts the checkpoint whole only in the same boot (the page cache
   * holds what was written); after a reboot it checks what lies past the recovery points, as after a
   * power loss. A little unsynced data (a few files, a few MiB) is fsynced all the same: cheap, and a
   * reboot then finds nothing to check.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopFullTimer();
    let unsyncedFiles = 0, unsyncedBytes = 0;
    for (const m of this.members) {
      const files = m.unsyncedFiles;
      unsyncedFiles += files;
      if (files > 0) unsyncedBytes += m.unsyncedBytes;
    }
    const synced = unsyncedFiles <= FSYNC_FILES_UP_TO && unsyncedBytes <= STOP_FSYNC_BYTES_UP_TO;
    if (synced) {
      for (const m of this.members) if (m.unsyncedFiles > 0) m.fsyncFiles();
      for (const m of this.members) m.markSynced();
    }
    const generation = ++this.generation;
    const file = path.join(this.path, LOG_CHECKPOINT_FILE);
    writeDurably(file, `${file}.tmp.final`, this.serialize(this.capture().entries, generation));
    if (CRASH_POINTS) crashPoint("close.before-marker");
    writeDurably(path.join(this.path, CLEAN_SHUTDOWN_FILE), path.join(this.path, CLEAN_SHUTDOWN_FILE + ".tmp"), JSON.stringify({ generation, synced }));
    syncDir(this.path);
    this.switchJournal(generation);
    this.dropJournalsBefore(generation + 1);
    this.members.clear();
  }

  /** fsyncs the data of these logs: one by one when few have any, else one syncfs for them all. */
  flush(logs: (DirMember & { flush(): void })[]): void {
    const dirty = logs.filter((m) => m.unsyncedFiles > 0);
    if (dirty.length <= FSYNC_FILES_UP_TO || !syncFilesystem(this.path)) for (const m of dirty) m.flush();
    else for (const m of logs) m.markSynced();
  }

  /** Stops without the clean-shutdown marker (startup failed, or the log was deleted). */
  abandon(): void {
    this.closed = true;
    this.switchJournal(this.journalGen);
    this.stopFullTimer();
    this.members.clear();
  }

  // ---- space --------------------------------------------------------------------------------------

  /** Is the dir refusing appends (below the reserve, or after ENOSPC)? */
  get diskFull(): boolean {
    return this.full;
  }

  /** Free bytes on the volume as last seen (Infinity before the first check). */
  get freeBytes(): number {
    return this.free;
  }

  get totalBytes(): number {
    return this.total;
  }

  /** Why the dir is full, while it is. */
  get diskFullReason(): string | null {
    return this.full ? this.fullReason : null;
  }

  /**
   * Called before an append of `bytes`: throws a StorageError when the dir refuses it. `internal`
   * writes (transaction markers) may use the reserve.
   */
  beforeAppend(bytes: number, internal: boolean, now: number): void {
    if (internal) return;
    if (!this.full && this.free - bytes >= this.minFreeBytes && now - this.spaceCheckedAt < SPACE_CHECK_MS) return;
    if (this.full && now - this.spaceCheckedAt < SPACE_CHECK_MS / 20) throw this.refusal();
    this.refreshSpace(now);
    if (this.free - bytes < this.minFreeBytes) {
      this.enterFull(`${this.free} bytes free, below the reserve of ${this.minFreeBytes} (brook.log.dir.min.free.bytes)`, now);
      throw this.refusal();
    }
    if (this.full) this.leaveFull();
  }

  /** Called after an append succeeded. */
  appended(bytes: number): void {
    this.free -= bytes;
    this.appendedSinceCheckpoint += bytes;
    if (this.appendedSinceCheckpoint >= this.checkpointEveryBytes && !this.checkpointing && !this.closed) void this.checkpoint();
  }

  /** Turns a failed write in this dir into a StorageError (and a full dir, when it was ENOSPC). */
  writeFailed(e: unknown, file: string): StorageError {
    if (e instanceof StorageError) return e;
    const now = Date.now();
    if (isNoSpace(e)) {
      this.enterFull(`a write failed with ${(e as { code: string }).code}`, now);
      this.spaceCheckedAt = now;
      return this.refusal();
    }
    this.log?.error(`write to ${file} failed: ${(e as Error).message}`);
    return new StorageError(`Error while writing to ${file}: ${(e as Error).message}`, file, false);
  }

  private refusal(): StorageError {
    return new StorageError(`Log dir ${this.path} is full (${this.fullReason}); appends are refused until space is freed`, this.path, true);
  }

  private refreshSpace(now: number): void {
    try {
      const s = volumeSpace(this.path);
      this.free = s.free;
      this.total = s.total;
    } catch {
      // keep the last figures
    }
    this.spaceCheckedAt = now;
  }

  private enterFull(reason: string, now: number): void {
    this.fullReason = reason;
    if (this.full) return;
    this.full = true;
    this.fullSince = now;
    this.fullRemindedAt = now;
    this.log?.warn(`log dir ${this.path} is full: ${reason}; produce gets KAFKA_STORAGE_ERROR until space is freed`);
    // Notice freed space even while nobody produces (the state is what a metric reads).
    this.fullTimer = setInterval(() => this.recheckFull(), SPACE_CHECK_MS);
    this.fullTimer.unref?.();
  }

  private recheckFull(): void {
    const now = Date.now();
    this.refreshSpace(now);
    if (this.free >= this.minFreeBytes && this.free > 0) return this.leaveFull();
    if (now - this.fullRemindedAt >= FULL_REMINDER_MS) {
      this.fullRemindedAt = now;
      this.log?.warn(`log dir ${this.path} still full after ${Math.round((now - this.fullSince) / 1000)} s: ${this.free} bytes free, reserve ${this.minFreeBytes}`);
    }
  }

  private leaveFull(): void {
    if (!this.full) return;
    this.full = false;
    this.stopFullTimer();
    this.log?.info(`log dir ${this.path} has ${this.free} bytes free again; appends resume (full for ${Math.round((Date.now() - this.fullSince) / 1000)} s)`);
  }

  private stopFullTimer(): void {
    if (this.fullTimer) clearInterval(this.fullTimer);
    this.fullTimer = null;
  }
}

/** Write to tmp, fsync, rename over `file` (throws; leaves no tmp behind). */
export function writeDurably(file: string, tmp: string, text: string): void {
  try {
    const fd = fs.openSync(tmp, "w");
    try {
      const data = Buffer.from(text);
      for (let done = 0; done < data.length; ) done += fs.writeSync(fd, data, done, data.length - done);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

export function syncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, "r");
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // not every platform lets a directory be fsynced; the rename itself is atomic
  }
}
