// Producer identities: id allocation and the transactional.id → producer id mapping.
import { ProducerIdAllocator } from "./producer-ids.ts";

const MAX_EPOCH = 32767;

export class Producers {
  readonly ids: ProducerIdAllocator;
  private readonly transactional = new Map<string, { producerId: number; producerEpoch: number }>();

  constructor(dir: string) {
    this.ids = new ProducerIdAllocator(dir);
  }

  initTransactional(transactionalId: string): { producerId: number; producerEpoch: number } {
    let entry = this.transactional.get(transactionalId);
    if (!entry || entry.producerEpoch >= MAX_EPOCH - 1) {
      entry = { producerId: this.ids.allocate(), producerEpoch: 0 };
    } else {
      entry = { producerId: entry.producerId, producerEpoch: entry.producerEpoch + 1 };
    }
    this.transactional.set(transactionalId, entry);
    return entry;
  }
}
