// Producer ids are handed out from blocks reserved durably, as Kafka's controller does: the file
// records the end of the last reserved block, so ids never repeat across restarts or kill -9,
// without a disk write per InitProducerId.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "./topics.ts";

const BLOCK = 1000;

export class ProducerIdAllocator {
  private next: number;
  private reservedUntil: number;
  private readonly path: string;

  constructor(dir: string) {
    this.path = join(dir, "brook-producer-ids");
    const saved = existsSync(this.path) ? Number(readFileSync(this.path, "utf8").trim()) : 0;
    this.next = Number.isFinite(saved) ? saved : 0;
    this.reservedUntil = this.next;
  }

  allocate(): number {
    if (this.next >= this.reservedUntil) {
      this.reservedUntil = this.next + BLOCK;
      writeFileAtomic(this.path, String(this.reservedUntil));
    }
    return this.next++;
  }
}
