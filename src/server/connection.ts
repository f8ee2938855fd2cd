// One client connection: frames requests out of the byte stream, hands each to dispatch as soon as it
// is complete, and writes responses strictly in request order (Kafka clients match responses by
// order as well as correlation id). A request that gets no response (acks=0) still holds its place
// so that a later response is never sent ahead of an earlier one. A quota violation mutes the connection
// (Kafka's channel throttling): no request is read or dispatched until the throttle time has passed.
import type { Socket } from "bun";
import type { Logger } from "../log.ts";

/**
 * "close" (now, or in its turn from a promise) ends the connection instead of answering; `close: true`
 * ends it once this response is written (a failed authentication).
 */
export type Responder = (frame: Uint8Array) => { response: Uint8Array | null | Promise<Uint8Array | null | "close">; close?: boolean } | "close";

const MAX_REUSED_FRAME = 16 << 20;

interface Slot {
  done: boolean;
  frame: Uint8Array | null | "close";
  close?: boolean;
}

export class Connection {
  /** a frame being filled across chunks, and how much of it has arrived */
  private frame: Uint8Array | null = null;
  private frameFill = 0;
  /** the 4-byte size prefix when it is split across chunks */
  private readonly sizeBytes = new Uint8Array(4);
  private recvBuf = new Uint8Array(0);
  private sizeFill = 0;
  private readonly slots: Slot[] = [];
  private head = 0;
  private outbox: Uint8Array[] = [];
  private closed = false;
  /** resolves when every started request has been answered (graceful shutdown) */
  private idleWaiters: (() => void)[] = [];
  /** Smallest frame accepted: a request header; SASL's unframed exchange (SaslHandshake v0) lowers it. */
  minFrameBytes = 8;
  /** while muted (quota throttling): bytes that arrived, kept in order until the mute ends */
  private muted = false;
  private held: Uint8Array[] = [];
  private unmuteTimer: ReturnType<typeof setTimeout> | null = null;
  private mutedUntil = 0;

  constructor(
    private readonly socket: Socket<unknown>,
    /** socket.request.max.bytes; sasl.server.max.receive.size until a SASL client has authenticated */
    public maxFrameBytes: number,
    private readonly respond: Responder,
    private readonly log: Logger,
    readonly peer: string,
  ) {}

  get inFlight(): number {
    return this.slots.length - this.head;
  }

  onData(chunk: Uint8Array): void {
    if (this.muted) {
      this.held.push(chunk.slice());
      return;
    }
    let pos = 0;
    while (pos < chunk.length && !this.closed) {
      if (this.muted) {
        this.held.push(chunk.slice(pos));
        return;
      }
      if (this.frame) {
        // Filling a frame that spans chunks: copy each byte once into a buffer of the exact size.
        const n = Math.min(this.frame.length - this.frameFill, chunk.length - pos);
        this.frame.set(chunk.subarray(pos, pos + n), this.frameFill);
        this.frameFill += n;
        pos += n;
        if (this.frameFill < this.frame.length) return;
        const frame = this.frame;
        this.frame = null;
        if (!this.dispatch(frame)) return;
        continue;
      }
      let size: number;
      if (this.sizeFill === 0 && chunk.length - pos >= 4) {
        size = ((chunk[pos]! << 24) | (chunk[pos + 1]! << 16) | (chunk[pos + 2]! << 8) | chunk[pos + 3]!) | 0;
        pos += 4;
      } else {
        while (this.sizeFill < 4 && pos < chunk.length) this.sizeBytes[this.sizeFill++] = chunk[pos++]!;
        if (this.sizeFill < 4) return;
        this.sizeFill = 0;
        const b = this.sizeBytes;
        size = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) | 0;
      }
      if (size < this.minFrameBytes || size > this.maxFrameBytes) {
        this.log.warn(
          `closing connection from ${this.peer}: request frame of ${size} bytes is ${size < this.minFrameBytes ? "too short for a header" : `over the limit (${this.maxFrameBytes} bytes)`}`,
        );
        this.close();
        return;
      }
      if (chunk.length - pos >= size) {
        // The whole frame is in this chunk: no copy. Handlers consume request bytes synchronously
        // (produce appends before returning) and copy whatever they keep.
        const frame = chunk.subarray(pos, pos + size);
        pos += size;
        if (!this.dispatch(frame)) return;
      } else {
        // Reuse one receive buffer per connection: a fresh buffer per spanning frame (every ~1 MiB
        // librdkafka batch) cost a quarter of the broker's produce CPU in page faults. Request bytes
        // never outlive dispatch (handlers copy what they keep), so overwriting it is safe.
        // Very large frames get a one-off buffer so an idle connection doesn't pin them.
        if (size > MAX_REUSED_FRAME) this.frame = new Uint8Array(size);
        else {
          if (this.recvBuf.length < size) this.recvBuf = new Uint8Array(Math.min(MAX_REUSED_FRAME, Math.max(size, this.recvBuf.length * 2)));
          this.frame = this.recvBuf.subarray(0, size);
        }
        this.frameFill = 0;
      }
    }
  }

  private dispatch(frame: Uint8Array): boolean {
    const outcome = this.respond(frame);
    if (outcome === "close") {
      this.close();
      return false;
    }
    const slot: Slot = { done: false, frame: null };
    if (outcome.close) slot.close = true;
    const r = outcome.response;
    if (r instanceof Promise) {
      this.slots.push(slot);
      r.then(
        (frame) => this.complete(slot, frame),
        (err) => {
          this.log.error(`request from ${this.peer} failed: ${(err as Error)?.stack ?? err}`);
          this.close();
        },
      );
    } else {
      slot.done = true;
      slot.frame = r;
      this.slots.push(slot);
      this.flush();
    }
    return !this.closed;
  }

  private complete(slot: Slot, frame: Uint8Array | null | "close"): void {
    slot.done = true;
    slot.frame = frame;
    this.flush();
  }

  private flush(): void {
    while (this.head < this.slots.length && this.slots[this.head]!.done) {
      const { frame, close } = this.slots[this.head]!;
      this.slots[this.head] = undefined as unknown as Slot;
      this.head++;
      if (frame === "close") this.close(); // after every earlier response was written
      else {
        if (frame && !this.closed) this.write(frame);
        if (close) this.closeOnceWritten();
      }
    }
    if (this.head > 1024 && this.head * 2 > this.slots.length) {
      this.slots.splice(0, this.head);
      this.head = 0;
    }
    if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private write(frame: Uint8Array): void {
    if (this.outbox.length > 0) {
      this.outbox.push(frame);
      return;
    }
    const n = this.socket.write(frame);
    if (n < frame.length) this.outbox.push(frame.subarray(Math.max(n, 0)));
  }

  onDrain(): void {
    while (this.outbox.length > 0) {
      const frame = this.outbox[0]!;
      const n = this.socket.write(frame);
      if (n < frame.length) {
        this.outbox[0] = frame.subarray(Math.max(n, 0));
        return;
      }
      this.outbox.shift();
    }
    if (this.closeWhenDrained) this.close();
  }

  private closeWhenDrained = false;

  /** Closes after what is queued has reached the socket (a refusal is written before the close). */
  private closeOnceWritten(): void {
    if (this.outbox.length === 0) this.close();
    else this.closeWhenDrained = true;
  }

  /**
   * Stops reading requests for `ms` (a quota's throttle time; a longer mute already running wins). The
   * socket is paused so the client feels TCP back-pressure; bytes already on their way are held.
   */
  mute(ms: number): void {
    if (this.closed || ms <= 0) return;
    const until = Date.now() + ms;
    if (this.muted && until <= this.mutedUntil) return;
    this.muted = true;
    this.mutedUntil = until;
    (this.socket as { pause?: () => unknown }).pause?.();
    if (this.unmuteTimer) clearTimeout(this.unmuteTimer);
    this.unmuteTimer = setTimeout(() => this.unmute(), ms);
  }

  private unmute(): void {
    this.unmuteTimer = null;
    this.muted = false;
    if (this.closed) return;
    (this.socket as { resume?: () => unknown }).resume?.();
    const held = this.held;
    this.held = [];
    for (const chunk of held) this.onData(chunk); // a new mute holds the rest again, in order
  }

  /** Waits until every request received so far has been answered. */
  idle(): Promise<void> {
    if (this.inFlight === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.frame = null;
    if (this.unmuteTimer) clearTimeout(this.unmuteTimer);
    this.held = [];
    for (const w of this.idleWaiters.splice(0)) w();
    this.socket.end();
  }

  onClose(): void {
    this.closed = true;
    if (this.unmuteTimer) clearTimeout(this.unmuteTimer);
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
