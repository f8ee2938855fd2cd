// What the broker actually stored: the codec bits of every batch of a partition, read with a raw
// Fetch. Stock clients decompress transparently, so only this shows whether a batch went out
// compressed (librdkafka silently sends uncompressed data to brokers it thinks are too old).
import { Fetch } from "../../protocol/apis/01-fetch.ts";
import { codecOf, dataView, ATTRIBUTES, batchSizeAt } from "../../protocol/records/batch.ts";
import { KafkaClient } from "../../src/client.ts";

export async function storedCodecs(address: string, topic: string, partition: number): Promise<number[]> {
  await using client = await KafkaClient.connect(address);
  const codecs: number[] = [];
  let offset = 0;
  for (;;) {
    const res = await client.request(Fetch, 4, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 64 << 20,
      isolationLevel: 0,
      topics: [{ topic, partitions: [{ partition, fetchOffset: offset, partitionMaxBytes: 64 << 20 }] }],
    });
    const p = res.responses[0]!.partitions[0]!;
    const bytes = p.records as Uint8Array;
    if (!bytes || bytes.length === 0) return codecs;
    const view = dataView(bytes);
    let pos = 0;
    while (pos + 61 <= bytes.length) {
      const size = batchSizeAt(view, pos);
      if (pos + size > bytes.length) break;
      codecs.push(codecOf(view.getInt16(pos + ATTRIBUTES)));
      offset = view.getInt32(pos) * 2 ** 32 + view.getUint32(pos + 4) + view.getInt32(pos + 23) + 1;
      pos += size;
    }
    if (offset >= p.highWatermark) return codecs;
  }
}

export const CODEC_ID: Record<string, number> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };
