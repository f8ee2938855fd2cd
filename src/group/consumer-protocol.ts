// The embedded "consumer" protocol (ConsumerProtocolSubscription / ConsumerProtocolAssignment, versions
// 0–3, never flexible). The coordinator keeps member metadata and assignments as opaque bytes; these
// decoders serve only the things that need to look inside: OffsetDelete (which topics a group is
// subscribed to), offset retention of Stable groups, and the consumer-groups tool.
import { Reader } from "../../protocol/reader.ts";
import { Writer } from "../../protocol/writer.ts";

export const CONSUMER_PROTOCOL_TYPE = "consumer";

export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

export interface Subscription {
  version: number;
  topics: string[];
  userData: Uint8Array | null;
  ownedPartitions: TopicPartitions[];
  generationId: number;
  rackId: string | null;
}

export interface Assignment {
  version: number;
  partitions: TopicPartitions[];
  userData: Uint8Array | null;
}

function topicPartitions(r: Reader): TopicPartitions[] {
  const n = r.arrayLength(false);
  const out: TopicPartitions[] = [];
  for (let i = 0; i < n; i++) {
    const topic = r.string(false) ?? "";
    const count = r.arrayLength(false);
    const partitions: number[] = [];
    for (let j = 0; j < count; j++) partitions.push(r.int32());
    out.push({ topic, partitions });
  }
  return out;
}

/** Decodes subscription metadata; throws on bytes that are not a consumer subscription. */
export function decodeSubscription(bytes: Uint8Array): Subscription {
  const r = new Reader(bytes);
  const version = r.int16();
  const n = r.arrayLength(false);
  const topics: string[] = [];
  for (let i = 0; i < n; i++) topics.push(r.string(false) ?? "");
  const userData = r.remaining > 0 ? r.bytes(false) : null;
  let ownedPartitions: TopicPartitions[] = [];
  let generationId = -1;
  let rackId: string | null = null;
  // Newer versions only add fields at the end; an older reader ignores what it does not know.
  if (version >= 1 && r.remaining > 0) ownedPartitions = topicPartitions(r);
  if (version >= 2 && r.remaining > 0) generationId = r.int32();
  if (version >= 3 && r.remaining > 0) rackId = r.string(false);
  return { version, topics, userData, ownedPartitions, generationId, rackId };
}

/** Decodes an assignment; an empty byte string is "no assignment". */
export function decodeAssignment(bytes: Uint8Array): Assignment {
  if (bytes.length === 0) return { version: 0, partitions: [], userData: null };
  const r = new Reader(bytes);
  const version = r.int16();
  const partitions = topicPartitions(r);
  const userData = r.remaining > 0 ? r.bytes(false) : null;
  return { version, partitions, userData };
}

export function encodeSubscription(topics: string[], version = 0, userData: Uint8Array | null = null): Uint8Array {
  const w = new Writer(64);
  w.int16(version);
  w.length(topics.length, false, true);
  for (const t of topics) w.string(t, false);
  w.bytes(userData, false);
  if (version >= 1) w.length(0, false, true);
  if (version >= 2) w.int32(-1);
  if (version >= 3) w.string(null, false);
  return w.finish().slice();
}

export function encodeAssignment(partitions: TopicPartitions[], version = 0, userData: Uint8Array | null = null): Uint8Array {
  const w = new Writer(64);
  w.int16(version);
  w.length(partitions.length, false, true);
  for (const tp of partitions) {
    w.string(tp.topic, false);
    w.length(tp.partitions.length, false, true);
    for (const p of tp.partitions) w.int32(p);
  }
  w.bytes(userData, false);
  return w.finish().slice();
}
