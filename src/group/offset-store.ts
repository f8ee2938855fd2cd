// The durable state of the group coordinator: committed offsets (and a little group metadata) in an
// append-only log of its own, `brook-consumer-offsets.log` in the first log dir. Brook's stand-in for
// Kafka's compacted __consumer_offsets topic.
//
// Each record is framed as  uint32 length | uint32 CRC-32C of the payload | payload  where the payload is
// a msgpackr-encoded array:
//   [0, group, topic, partition, offset, leaderEpoch, metadata, commitTimestamp, expireTimestamp]  commit
//   [1, group, topic, partition]                                                                   offset tombstone
//   [2, group, protocolType, generationId, emptySince]                                             group record
//   [3, group]                                                                                     group tombstone
//   [4, group, groupEpoch, assignmentEpoch, subscriptionSignature]                                 consumer group
//   [5, group, memberId, member]                                                                   consumer group member
//   [6, group, memberId]                                                                           member tombstone
// A classic group record replaces a consumer group of the same id and the other way round (a group
// converts between the protocols); a group tombstone deletes either kind with its offsets. The member
// record of a consumer group carries what Kafka keeps in its member, current assignment and target
// assignment records (see StoredConsumerMember).
// Appends are plain write(2)s without fsync: the bytes sit in the page cache and survive kill -9 of the
// broker (not a power cut, like Kafka's default flush policy). A failed append (a full volume) is cut
// off again and thrown as a StorageError. A torn or corrupt tail — a length past the
// end, a CRC mismatch, an unreadable payload — is detected on open, logged and cut off.
// When the log holds many more records than live entries it is rewritten (snapshot) into a temporary file,
// fsynced and renamed over the old one, so a crash leaves either the old or the new file.
import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { Packr } from "msgpackr";
import { concat, damagedFileError, frame, scanFrames, syncDir, writeAll } from "../framed-file.ts";
import type { Logger } from "../log.ts";
import { isNoSpace } from "../log/os.ts";
import { StorageError } from "../log/storage-error.ts";
import { CRASH_POINTS, crashPoint } from "../crash-points.ts";

export const OFFSETS_FILE = "brook-consumer-offsets.log";

const COMMIT = 0;
const OFFSET_TOMBSTONE = 1;
const GROUP = 2;
const GROUP_TOMBSTONE = 3;
const CONSUMER_GROUP = 4;
const CONSUMER_MEMBER = 5;
const CONSUMER_MEMBER_TOMBSTONE = 6;
/** Refuse absurd lengths when reading (a torn length field can be anything). */
const MAX_RECORD = 64 * 1024 * 1024;

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

export interface StoredOffset {
  group: string;
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
  /** -1: expires by the group's retention rule; otherwise an absolute time (OffsetCommit v2–v4 retention) */
  expireTimestamp: number;
}

export interface StoredGroup {
  group: string;
  protocolType: string | null;
  generationId: number;
  /** when the group became Empty; -1 while it had members */
  emptySince: number;
}

/** topic id → partitions */
export type StoredAssignment = [string, number[]][];

/** A member of a consumer group: its subscription, its current assignment and its target assignment. */
export interface StoredConsumerMember {
  memberId: string;
  memberEpoch: number;
  previousMemberEpoch: number;
  state: string;
  instanceId: string | null;
  rackId: string | null;
  rebalanceTimeoutMs: number;
  clientId: string;
  clientHost: string;
  subscribedTopicNames: string[];
  subscribedTopicRegex: string;
  serverAssignor: string | null;
  assigned: StoredAssignment;
  pendingRevocation: StoredAssignment;
  target: StoredAssignment;
  /** a classic-protocol member: its session timeout and JoinGroup protocols */
  classic: { sessionTimeoutMs: number; protocols: [string, Uint8Array][] } | null;
}

export interface StoredConsumerGroup {
  group: string;
  groupEpoch: number;
  assignmentEpoch: number;
  subscriptionSignature: string;
  members: StoredConsumerMember[];
}

export interface LoadedState {
  offsets: StoredOffset[];
  groups: StoredGroup[];
  consumerGroups?: StoredConsumerGroup[];
}

const offsetKey = (group: string, topic: string, partition: number) => JSON.stringify([group, topic, partition]);

export class OffsetStore {
  private fd: number;
  private size: number;
  /** records in the file; compaction is considered once this is well above the live count */
  private records: number;
  private closed = false;

  private constructor(
    readonly path: string,
    fd: number,
    size: number,
    records: number,
    private readonly log: Logger,
  ) {
    this.fd = fd;
    this.size = size;
    this.records = records;
  }

  /** Opens (creating if needed) the store in `dir`, replays it and cuts off a torn tail. */
  static open(dir: string, log: Logger): { store: OffsetStore; state: LoadedState } {
    const path = join(dir, OFFSETS_FILE);
    const offsets = new Map<string, StoredOffset>();
    const groups = new Map<string, StoredGroup>();
    const consumerGroups = new Map<string, { group: StoredConsumerGroup; members: Map<string, StoredConsumerMember> }>();
    let good = 0;
    let records = 0;
    if (existsSync(path)) {
      const buf = readFileSync(path);
      const scan = scanFrames(buf, MAX_RECORD, (payload) => {
        const rec = packr.unpack(payload);
        return Array.isArray(rec) && apply(rec, offsets, groups, consumerGroups);
      });
      good = scan.good;
      records = scan.records;
      if (scan.problem && !scan.problem.torn) throw damagedFileError(path, "the committed offsets of every consumer group", buf.length, records, scan.problem);
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
    const store = new OffsetStore(path, fd, good, records, log);
    const consumer = [...consumerGroups.values()].map(({ group, members }) => ({ ...group, members: [...members.values()] }));
    return { store, state: { offsets: [...offsets.values()], groups: [...groups.values()], consumerGroups: consumer } };
  }

  get fileSize(): number {
    return this.size;
  }

  get recordCount(): number {
    return this.records;
  }

  appendOffsets(list: StoredOffset[]): void {
    if (list.length === 0) return;
    this.write(
      list.map((o) => [
        COMMIT,
        o.group,
        o.topic,
        o.partition,
        o.offset,
        o.leaderEpoch,
        o.metadata,
        o.commitTimestamp,
        o.expireTimestamp,
      ]),
    );
  }

  appendOffsetTombstones(list: { group: string; topic: string; partition: number }[]): void {
    if (list.length === 0) return;
    this.write(list.map((o) => [OFFSET_TOMBSTONE, o.group, o.topic, o.partition]));
  }

  appendGroup(g: StoredGroup): void {
    this.write([[GROUP, g.group, g.protocolType, g.generationId, g.emptySince]]);
  }

  appendConsumerGroup(g: Omit<StoredConsumerGroup, "members">): void {
    this.write([[CONSUMER_GROUP, g.group, g.groupEpoch, g.assignmentEpoch, g.subscriptionSignature]]);
  }

  appendConsumerMembers(group: string, members: StoredConsumerMember[], gone: string[]): void {
    const recs: unknown[][] = members.map((m) => [CONSUMER_MEMBER, group, m.memberId, m]);
    for (const id of gone) recs.push([CONSUMER_MEMBER_TOMBSTONE, group, id]);
    if (recs.length > 0) this.write(recs);
  }

  appendGroupTombstones(groups: string[]): void {
    if (groups.length === 0) return;
    this.write(groups.map((g) => [GROUP_TOMBSTONE, g]));
  }

  /** Rewrites the file when it holds more than twice the live records (and is worth the trouble). */
  maybeCompact(live: () => LoadedState, liveCount: number): boolean {
    if (this.records < 1000 || this.records <= 2 * liveCount) return false;
    this.compact(live());
    return true;
  }

  /** Snapshot: writes only the live state to a temp file, fsyncs it and renames it over the log. */
  compact(state: LoadedState): void {
    if (this.closed) return;
    const tmp = `${this.path}.tmp`;
    const frames: Uint8Array[] = [];
    for (const g of state.groups) frames.push(encodeRecord([GROUP, g.group, g.protocolType, g.generationId, g.emptySince]));
    for (const g of state.consumerGroups ?? []) {
      frames.push(encodeRecord([CONSUMER_GROUP, g.group, g.groupEpoch, g.assignmentEpoch, g.subscriptionSignature]));
      for (const m of g.members) frames.push(encodeRecord([CONSUMER_MEMBER, g.group, m.memberId, m]));
    }
    for (const o of state.offsets)
      frames.push(
        encodeRecord([COMMIT, o.group, o.topic, o.partition, o.offset, o.leaderEpoch, o.metadata, o.commitTimestamp, o.expireTimestamp]),
      );
    const body = concat(frames);
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
    this.size = body.length;
    this.records = frames.length;
    this.log.debug(`compacted ${this.path} to ${frames.length} records (${body.length} bytes)`);
  }

  flush(): void {
    if (!this.closed) fsyncSync(this.fd);
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

  private write(recs: unknown[][]): void {
    if (this.closed) throw new Error("offset store is closed");
    const body = concat(recs.map(encodeRecord));
    try {
      writeAll(this.fd, body);
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
    if (CRASH_POINTS) crashPoint("offsets.after-append");
  }
}

type LoadingConsumerGroups = Map<string, { group: StoredConsumerGroup; members: Map<string, StoredConsumerMember> }>;

function apply(rec: unknown[], offsets: Map<string, StoredOffset>, groups: Map<string, StoredGroup>, consumerGroups: LoadingConsumerGroups): boolean {
  switch (rec[0]) {
    case COMMIT: {
      const [, group, topic, partition, offset, leaderEpoch, metadata, commitTimestamp, expireTimestamp] = rec as [
        number, string, string, number, number, number, string, number, number,
      ];
      if (typeof group !== "string" || typeof topic !== "string" || typeof partition !== "number") return false;
      offsets.set(offsetKey(group, topic, partition), {
        group,
        topic,
        partition,
        offset: Number(offset),
        leaderEpoch: Number(leaderEpoch ?? -1),
        metadata: metadata ?? "",
        commitTimestamp: Number(commitTimestamp ?? 0),
        expireTimestamp: Number(expireTimestamp ?? -1),
      });
      return true;
    }
    case OFFSET_TOMBSTONE: {
      const [, group, topic, partition] = rec as [number, string, string, number];
      if (typeof group !== "string" || typeof topic !== "string") return false;
      offsets.delete(offsetKey(group, topic, partition));
      return true;
    }
    case GROUP: {
      const [, group, protocolType, generationId, emptySince] = rec as [number, string, string | null, number, number];
      if (typeof group !== "string") return false;
      groups.set(group, { group, protocolType: protocolType ?? null, generationId: Number(generationId), emptySince: Number(emptySince) });
      consumerGroups.delete(group);
      return true;
    }
    case GROUP_TOMBSTONE: {
      const group = rec[1];
      if (typeof group !== "string") return false;
      groups.delete(group);
      consumerGroups.delete(group);
      for (const [k, o] of offsets) if (o.group === group) offsets.delete(k);
      return true;
    }
    case CONSUMER_GROUP: {
      const [, group, groupEpoch, assignmentEpoch, subscriptionSignature] = rec as [number, string, number, number, string];
      if (typeof group !== "string") return false;
      let g = consumerGroups.get(group);
      if (!g) consumerGroups.set(group, (g = { group: { group, groupEpoch: 0, assignmentEpoch: 0, subscriptionSignature: "", members: [] }, members: new Map() }));
      g.group.groupEpoch = Number(groupEpoch);
      g.group.assignmentEpoch = Number(assignmentEpoch);
      g.group.subscriptionSignature = String(subscriptionSignature ?? "");
      groups.delete(group);
      return true;
    }
    case CONSUMER_MEMBER: {
      const [, group, memberId, member] = rec as [number, string, string, StoredConsumerMember];
      if (typeof group !== "string" || typeof memberId !== "string" || typeof member !== "object" || member === null) return false;
      let g = consumerGroups.get(group);
      if (!g) consumerGroups.set(group, (g = { group: { group, groupEpoch: 0, assignmentEpoch: 0, subscriptionSignature: "", members: [] }, members: new Map() }));
      g.members.set(memberId, member);
      return true;
    }
    case CONSUMER_MEMBER_TOMBSTONE: {
      const [, group, memberId] = rec as [number, string, string];
      if (typeof group !== "string" || typeof memberId !== "string") return false;
      consumerGroups.get(group)?.members.delete(memberId);
      return true;
    }
  }
  return false;
}

function encodeRecord(rec: unknown[]): Uint8Array {
  return frame(packr.pack(rec));
}
