// Exact requests for the idempotence and transaction tests: a thin layer over Brook's protocol client
// (src/client.ts) with hand-built record batches (protocol/records/records.ts encodeBatch), so each test
// states the producer id, epoch, sequence and transactional bit it sends.
import { Produce } from "../../protocol/apis/00-produce.ts";
import { Fetch } from "../../protocol/apis/01-fetch.ts";
import { ListOffsets } from "../../protocol/apis/02-list-offsets.ts";
import { OffsetFetch } from "../../protocol/apis/09-offset-fetch.ts";
import { CreateTopics } from "../../protocol/apis/19-create-topics.ts";
import { InitProducerId } from "../../protocol/apis/22-init-producer-id.ts";
import { AddPartitionsToTxn } from "../../protocol/apis/24-add-partitions-to-txn.ts";
import { AddOffsetsToTxn } from "../../protocol/apis/25-add-offsets-to-txn.ts";
import { EndTxn } from "../../protocol/apis/26-end-txn.ts";
import { TxnOffsetCommit } from "../../protocol/apis/28-txn-offset-commit.ts";
import { DescribeProducers } from "../../protocol/apis/61-describe-producers.ts";
import { DescribeTransactions } from "../../protocol/apis/65-describe-transactions.ts";
import { ListTransactions } from "../../protocol/apis/66-list-transactions.ts";
import { dataView, iterateBatchHeaders } from "../../protocol/records/batch.ts";
import { decodeRecords, encodeBatch, parseControlRecordKey, type DecodedBatch } from "../../protocol/records/records.ts";
import { KafkaClient } from "../../src/client.ts";

export const NONE = 0;

export interface Producer {
  producerId: number;
  producerEpoch: number;
}

/** One v2 batch of `values` from a producer, sequence numbers from `seq`. */
export function batch(p: Producer | null, seq: number, values: string[], transactional = false): Uint8Array {
  return encodeBatch({
    producerId: p?.producerId ?? -1,
    producerEpoch: p?.producerEpoch ?? -1,
    baseSequence: p ? seq : -1,
    transactional,
    records: values.map((value, i) => ({ key: `k${i}`, value })),
  });
}

export function decodeAll(records: Uint8Array): DecodedBatch[] {
  const out: DecodedBatch[] = [];
  iterateBatchHeaders(records, 0, records.length, (pos, size) => {
    out.push(decodeRecords(records.subarray(pos, pos + size)));
  }, dataView(records));
  return out;
}

/** Values of data records (control batches left out), in log order. */
export function dataValues(records: Uint8Array): string[] {
  const dec = new TextDecoder();
  return decodeAll(records)
    .filter((b) => !b.isControl)
    .flatMap((b) => b.records.map((r) => dec.decode(r.value!)));
}

/** The control markers in fetched data: [offset, producerId, "COMMIT" | "ABORT"]. */
export function markers(records: Uint8Array): [number, number, string][] {
  return decodeAll(records)
    .filter((b) => b.isControl)
    .map((b) => [b.baseOffset, b.producerId, parseControlRecordKey(b.records[0]!.key!).type === 1 ? "COMMIT" : "ABORT"]);
}

export class Wire implements AsyncDisposable {
  private constructor(readonly client: KafkaClient) {}

  static async connect(address: string): Promise<Wire> {
    return new Wire(await KafkaClient.connect(address, "txn-test"));
  }

  async createTopic(name: string, numPartitions = 1): Promise<void> {
    const r = await this.client.request(CreateTopics, 5, {
      topics: [{ name, numPartitions, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 5000,
    });
    if (r.topics[0]!.errorCode !== 0) throw new Error(`CreateTopics ${name}: error ${r.topics[0]!.errorCode}`);
  }

  async produce(topic: string, partition: number, records: Uint8Array, transactionalId: string | null = null, version = 9) {
    const r = await this.client.request(Produce, version, {
      transactionalId,
      acks: -1,
      timeoutMs: 5000,
      topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
    });
    return r.responses[0]!.partitionResponses[0]!;
  }

  async fetch(topic: string, partition: number, fetchOffset: number, isolationLevel: 0 | 1, maxWaitMs = 0) {
    const r = await this.client.request(Fetch, 12, {
      replicaId: -1,
      maxWaitMs,
      minBytes: 1,
      maxBytes: 50 << 20,
      isolationLevel,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic, partitions: [{ partition, fetchOffset, partitionMaxBytes: 10 << 20, currentLeaderEpoch: -1, logStartOffset: -1 }] }],
      forgottenTopicsData: [],
      rackId: "",
    });
    const p = r.responses[0]!.partitions[0]!;
    const records = p.records instanceof Uint8Array ? p.records : new Uint8Array(0);
    return { ...p, records };
  }

  async listOffset(topic: string, partition: number, isolationLevel: 0 | 1, timestamp = -1): Promise<number> {
    const r = await this.client.request(ListOffsets, 7, {
      replicaId: -1,
      isolationLevel,
      topics: [{ name: topic, partitions: [{ partitionIndex: partition, timestamp, currentLeaderEpoch: -1 }] }],
    });
    const p = r.topics[0]!.partitions[0]!;
    if (p.errorCode !== 0) throw new Error(`ListOffsets: error ${p.errorCode}`);
    return p.offset;
  }

  async initProducerId(transactionalId: string | null, timeoutMs = 60_000, current: Producer | null = null, version = 4) {
    return this.client.request(InitProducerId, version, {
      transactionalId,
      transactionTimeoutMs: timeoutMs,
      producerId: current?.producerId ?? -1,
      producerEpoch: current?.producerEpoch ?? -1,
    });
  }

  /** InitProducerId retried while the coordinator answers CONCURRENT_TRANSACTIONS (as clients do). */
  async init(transactionalId: string, timeoutMs = 60_000): Promise<Producer> {
    for (let i = 0; i < 10; i++) {
      const r = await this.initProducerId(transactionalId, timeoutMs);
      if (r.errorCode === 51) continue;
      if (r.errorCode !== 0) throw new Error(`InitProducerId ${transactionalId}: error ${r.errorCode}`);
      return { producerId: r.producerId, producerEpoch: r.producerEpoch };
    }
    throw new Error("InitProducerId: still CONCURRENT_TRANSACTIONS");
  }

  /** Per-partition error codes, flattened to "topic/partition" → code. */
  async addPartitions(transactionalId: string, p: Producer, topics: { name: string; partitions: number[] }[], version = 3) {
    const r = await this.client.request(AddPartitionsToTxn, version, {
      v3AndBelowTransactionalId: transactionalId,
      v3AndBelowProducerId: p.producerId,
      v3AndBelowProducerEpoch: p.producerEpoch,
      v3AndBelowTopics: topics,
    });
    const out: Record<string, number> = {};
    for (const t of r.resultsByTopicV3AndBelow) for (const x of t.resultsByPartition) out[`${t.name}/${x.partitionIndex}`] = x.partitionErrorCode;
    return out;
  }

  async addOffsets(transactionalId: string, p: Producer, groupId: string, version = 3): Promise<number> {
    const r = await this.client.request(AddOffsetsToTxn, version, { transactionalId, producerId: p.producerId, producerEpoch: p.producerEpoch, groupId });
    return r.errorCode;
  }

  async endTxn(transactionalId: string, p: Producer, committed: boolean, version = 3): Promise<number> {
    const r = await this.client.request(EndTxn, version, { transactionalId, producerId: p.producerId, producerEpoch: p.producerEpoch, committed });
    return r.errorCode;
  }

  async txnOffsetCommit(
    transactionalId: string,
    p: Producer,
    groupId: string,
    offsets: { topic: string; partition: number; offset: number }[],
    member: { generationId?: number; memberId?: string; groupInstanceId?: string | null } = {},
    version = 3,
  ): Promise<number[]> {
    const topics = [...new Set(offsets.map((o) => o.topic))].map((name) => ({
      name,
      partitions: offsets
        .filter((o) => o.topic === name)
        .map((o) => ({ partitionIndex: o.partition, committedOffset: o.offset, committedLeaderEpoch: -1, committedMetadata: "m" })),
    }));
    const r = await this.client.request(TxnOffsetCommit, version, {
      transactionalId,
      groupId,
      producerId: p.producerId,
      producerEpoch: p.producerEpoch,
      generationId: member.generationId ?? -1,
      memberId: member.memberId ?? "",
      groupInstanceId: member.groupInstanceId ?? null,
      topics,
    });
    return r.topics.flatMap((t) => t.partitions.map((x) => x.errorCode));
  }

  /** OffsetFetch v7: [committedOffset, errorCode] of one partition. */
  async committed(groupId: string, topic: string, partition: number, requireStable = false): Promise<[number, number]> {
    const r = await this.client.request(OffsetFetch, 7, { groupId, topics: [{ name: topic, partitionIndexes: [partition] }], requireStable });
    const x = r.topics[0]!.partitions[0]!;
    return [x.committedOffset, x.errorCode];
  }

  async describeTransaction(transactionalId: string) {
    const r = await this.client.request(DescribeTransactions, 0, { transactionalIds: [transactionalId] });
    return r.transactionStates[0]!;
  }

  async listTransactions(stateFilters: string[] = [], producerIdFilters: number[] = [], durationFilter = -1) {
    return this.client.request(ListTransactions, durationFilter >= 0 ? 1 : 0, { stateFilters, producerIdFilters, durationFilter });
  }

  async describeProducers(topic: string, partition: number) {
    const r = await this.client.request(DescribeProducers, 0, { topics: [{ name: topic, partitionIndexes: [partition] }] });
    return r.topics[0]!.partitions[0]!;
  }

  close(): void {
    this.client.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }
}

/** A TCP port that was free a moment ago (for a broker restarted on the same port). */
export function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}
