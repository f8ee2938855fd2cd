// Producer ids are handed out from blocks reserved durably, as Kafka's controller does: the file
// records the end of the last reserved block, so ids never repeat across restarts or kill -9,
// without a disk write per InitProducerId. A missing or unreadable file (or one behind the ids in use)
// is rebuilt from what is on disk: once the producer states are loaded, ids continue above every id a
// partition or a transactional id still holds (ensureAbove), with a block to spare.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "./log.ts";
import { writeFileAtomic } from "./topics.ts";

const BLOCK = 1000;
export const PRODUCER_IDS_FILE = "brook-producer-ids";

export class ProducerIdAllocator {
  private next: number;
  private reservedUntil: number;
  private readonly path: string;
  /** why the file could not be used ("missing", "unreadable ..."), or null */
  private readonly problem: string | null = null;

  constructor(
    dir: string,
    private readonly log?: Logger,
  ) {
    this.path = join(dir, PRODUCER_IDS_FILE);
    let saved = 0;
    if (!existsSync(this.path)) this.problem = "is missing";
    else {
      const text = readFileSync(this.path, "utf8").trim();
      if (/^\d{1,16}$/.test(text)) saved = Number(text);
      else this.problem = `is unreadable (${JSON.stringify(text.slice(0, 40))})`;
    }
    this.next = saved;
    this.reservedUntil = saved;
  }

  /** After the logs' producer states are loaded: no id at or below `maxInUse` is handed out again. */
  ensureAbove(maxInUse: number): void {
    if (this.next > maxInUse) return;
    const from = (Math.floor(maxInUse / BLOCK) + 2) * BLOCK;
    this.log?.warn(`${this.path} ${this.problem ?? `says ${this.next}`}, but producer id ${maxInUse} is in use: producer ids continue from ${from}`);
    this.next = from;
    this.reservedUntil = from;
  }

  allocate(): number {
    if (this.next >= this.reservedUntil) {
      this.reservedUntil = this.next + BLOCK;
      writeFileAtomic(this.path, String(this.reservedUntil));
    }
    return this.next++;
  }
}
