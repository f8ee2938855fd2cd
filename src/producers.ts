// Producer identities: producer id allocation from durably reserved blocks. The transactional.id →
// producer id mapping (with epochs, fencing and its own durable log) lives in the transaction
// coordinator, src/txn/coordinator.ts.
import { ProducerIdAllocator } from "./producer-ids.ts";

export class Producers {
  readonly ids: ProducerIdAllocator;

  constructor(dir: string) {
    this.ids = new ProducerIdAllocator(dir);
  }
}
