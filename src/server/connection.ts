// One client connection: frames requests out of the byte stream, hands each to dispatch as soon as it
// is complete, and writes responses strictly in request order (Kafka clients match responses by
// order as well as correlation id). A request that gets no response (acks=0) still holds its place
// so that a later response is never sent ahead of an earlier one.
//
// Bounded memory: the connection stops reading (the socket is paused, so TCP pushes back on the
// client) before starting a new request while
// - it has queued.max.requests requests read and not yet answered (a client pipelining without end),
// - its answered-but-unsent responses exceed brook.connection.max.unsent.bytes (a client that does
//   not read, e.g. a slow consumer: its fetch responses do not pile up), or
// - the broker's request memory pool (queued.max.request.bytes) is used up,
// and resumes once the reason is gone. Kafka reaches the same end by reading one request per
// connection at a time. A frame that spans reads grows its buffer as bytes arrive, so a size prefix
// alone allocates nothing. A quota violation mutes the connection the same way (Kafka's channel
// throttling): no request is read or dispatched until the throttle time has passed.
import type { Socket } from "bun";
import type { Logger } from "../log.ts";
import type { ConnectionLimits, ManagedConnection } from "./connections.ts";

/** A response frame: one buffer, or several written back to back (record data shared with the log). */
export type ResponseFrame = Uint8Array | readonly Uint8Array[];

/**
 * "close" (now, or in its turn from a promise) ends the connection instead of answering; `close: true`
 * ends it once this response is written (a failed authentication).
 */
export type Responder = (frame: Uint8Array) => { response: ResponseFrame | null | Promise<ResponseFrame | null | "close">; close?: boolean } | "close";

const MAX_REUSED_FRAME = 16 << 20;
/** First buffer for a frame that spans reads (it then doubles as bytes arrive). */
const MIN_FRAME_BUFFER = 64 << 10;

interface Slot {
  done: boolean;
  frame: ResponseFrame | null | "close";
  close?: boolean;
}

const frameBytes = (f: ResponseFrame): number => {
  if (f instanceof Uint8Array) return f.length;
  let n = 0;
  for (const p of f) n += p.length;
  return n;
};

export class Connection implements ManagedConnection {
  /** a frame being filled across chunks, its buffer (grown as bytes arrive) and its declared size */
  private frame: Uint8Array | null = null;
  private frameFill = 0;
  private frameSize = 0;
  /** pool bytes held by the frame being filled */
  private reserved = 0;
  /** the 4-byte size prefix when it is split across chunks */
  private readonly sizeBytes = new Uint8Array(4);
  private recvBuf: Uint8Array = new Uint8Array(0);
  private sizeFill = 0;
  private readonly slots: Slot[] = [];
  private head = 0;
  private outbox: Uint8Array[] = [];
  /** bytes of answered responses not yet accepted by the socket (queued slots and outbox) */
  private unsent = 0;
  private closed = false;
  /** received bytes not yet looked at because reading is paused */
  private stash: Uint8Array | null = null;
  private paused = false;
  private consuming = false;
  /** bytes moved since the idle sweep last looked (see ConnectionManager) */
  private active = true;
  idleSince = Date.now();
  /** requests read from this connection so far */
  requests = 0;
  /** resolves when every started request has been answered (graceful shutdown) */
  private idleWaiters: (() => void)[] = [];
  /** Smallest frame accepted: a request header; SASL's unframed exchange (SaslHandshake v0) lowers it. */
  minFrameBytes = 8;
  /** socket.request.max.bytes; sasl.server.max.receive.size until a SASL client has authenticated */
  maxFrameBytes: number;
  /** quota throttling: no request is read before this time */
  private mutedUntil = 0;
  private unmuteTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly socket: Socket<unknown>,
    private readonly limits: ConnectionLimits,
    private readonly respond: Responder,
    private readonly log: Logger,
    readonly peer: string,
    readonly ip: string = peer,
    private readonly onGone: (c: Connection) => void = () => {},
  ) {
    this.maxFrameBytes = limits.maxFrameBytes;
  }

  get inFlight(): number {
    return this.slots.length - this.head;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  get unsentBytes(): number {
    return this.unsent;
  }

  /** Whether bytes moved since the last call (for the idle sweep). */
  takeActivity(): boolean {
    const a = this.active;
    this.active = false;
    return a;
  }

  onData(chunk: Uint8Array): void {
    this.active = true;
    if (this.stash) {
      // Bytes that were already on their way when reading paused: keep them in order.
      const s = new Uint8Array(this.stash.length + chunk.length);
      s.set(this.stash);
      s.set(chunk, this.stash.length);
      this.stash = s;
      return;
    }
    this.consume(chunk);
  }

  /** Why no new request may be read now, or null. */
  private holdReason(): "muted" | "pool" | "in-flight" | "unsent" | null {
    if (this.unmuteTimer !== null) return "muted";
    if (this.unsent > this.limits.maxUnsentBytes) return "unsent";
    if (this.slots.length - this.head >= this.limits.maxInFlight) return "in-flight";
    if (this.limits.pool.exhausted) return "pool";
    return null;
  }

  private consume(chunk: Uint8Array): void {
    this.consuming = true;
    try {
      this.consumeChunk(chunk);
    } finally {
      this.consuming = false;
    }
  }

  private consumeChunk(chunk: Uint8Array): void {
    let pos = 0;
    while (pos < chunk.length && !this.closed) {
      if (this.frame) {
        // Filling a frame that spans chunks; its buffer doubles as bytes come, up to the declared size.
        const n = Math.min(this.frameSize - this.frameFill, chunk.length - pos);
        if (this.frameFill + n > this.frame.length) this.growFrame(this.frameFill + n);
        this.frame.set(chunk.subarray(pos, pos + n), this.frameFill);
        this.frameFill += n;
        pos += n;
        if (this.frameFill < this.frameSize) return;
        const frame = this.frame.subarray(0, this.frameSize);
        if (this.frameSize <= MAX_REUSED_FRAME && this.frame.length > this.recvBuf.length) this.recvBuf = this.frame;
        this.frame = null;
        const ok = this.dispatch(frame);
        this.releaseReserved();
        if (!ok) return;
        continue;
      }
      if (this.sizeFill === 0) {
        const hold = this.holdReason();
        if (hold !== null) {
          this.stash = chunk.slice(pos);
          this.pause(hold);
          return;
        }
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
        // never outlive dispatch (handlers copy what they keep), so overwriting it is safe. A frame
        // larger than the buffer gets one that grows with the bytes received (kept for reuse up to
        // 16 MiB, so an idle connection never pins more).
        if (this.limits.pool.bounded) {
          this.reserved = size;
          this.limits.pool.reserve(size);
        }
        this.frameSize = size;
        this.frameFill = 0;
        const first = Math.min(size, MIN_FRAME_BUFFER);
        this.frame = this.recvBuf.length >= first ? this.recvBuf : new Uint8Array(Math.min(size, Math.max(first, chunk.length - pos)));
      }
    }
  }

  private growFrame(need: number): void {
    const next = new Uint8Array(Math.min(this.frameSize, Math.max(need, this.frame!.length * 2)));
    next.set(this.frame!.subarray(0, this.frameFill));
    this.frame = next;
  }

  private releaseReserved(): void {
    if (this.reserved === 0) return;
    const r = this.reserved;
    this.reserved = 0;
    this.limits.pool.release(r);
  }

  private pause(reason: "muted" | "pool" | "in-flight" | "unsent"): void {
    if (reason === "pool") this.limits.pool.wait(this);
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
    this.log.debug(`pausing reads from ${this.peer}: ${reason === "muted" ? "throttled (quota)" : reason === "pool" ? "queued.max.request.bytes used up" : reason === "in-flight" ? `${this.inFlight} requests in flight (queued.max.requests)` : `${this.unsent} response bytes unsent`}`);
  }

  /** Reads again if nothing holds the connection back any more (called when a reason may be gone). */
  tryResume(): void {
    if (!this.paused || this.closed || this.consuming) return;
    const hold = this.holdReason();
    if (hold !== null) {
      if (hold === "pool") this.limits.pool.wait(this);
      return;
    }
    this.paused = false;
    const stash = this.stash;
    this.stash = null;
    if (stash) this.consume(stash);
    if (!this.paused && !this.closed) this.socket.resume();
  }

  private dispatch(frame: Uint8Array): boolean {
    this.requests++;
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
      if (r) this.unsent += frameBytes(r);
      this.flush();
    }
    return !this.closed;
  }

  private complete(slot: Slot, frame: ResponseFrame | null | "close"): void {
    slot.done = true;
    slot.frame = frame;
    if (frame && frame !== "close" && !this.closed) this.unsent += frameBytes(frame);
    this.flush();
    if (this.paused) this.tryResume();
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

  private write(frame: ResponseFrame): void {
    this.active = true;
    if (frame instanceof Uint8Array) {
      if (this.outbox.length > 0) {
        this.outbox.push(frame);
        return;
      }
      const n = this.socket.write(frame);
      const written = Math.max(n, 0);
      this.unsent -= written;
      if (written < frame.length) this.outbox.push(frame.subarray(written));
      return;
    }
    for (const part of frame) {
      if (part.length === 0) continue;
      if (this.outbox.length > 0) {
        this.outbox.push(part);
        continue;
      }
      const n = this.socket.write(part);
      const written = Math.max(n, 0);
      this.unsent -= written;
      if (written < part.length) this.outbox.push(part.subarray(written));
    }
  }

  onDrain(): void {
    this.active = true;
    while (this.outbox.length > 0) {
      const frame = this.outbox[0]!;
      const n = this.socket.write(frame);
      const written = Math.max(n, 0);
      this.unsent -= written;
      if (written < frame.length) {
        this.outbox[0] = frame.subarray(written);
        break;
      }
      this.outbox.shift();
    }
    if (this.closeWhenDrained && this.outbox.length === 0) this.close();
    else if (this.paused) this.tryResume();
  }

  private closeWhenDrained = false;

  /** Closes after what is queued has reached the socket (a refusal is written before the close). */
  private closeOnceWritten(): void {
    if (this.outbox.length === 0) this.close();
    else this.closeWhenDrained = true;
  }

  /**
   * Stops reading requests for `ms` (a quota's throttle time; a longer mute already running wins). The
   * socket is paused so the client feels TCP back-pressure; bytes already on their way are kept.
   */
  mute(ms: number): void {
    if (this.closed || ms <= 0) return;
    const until = Date.now() + ms;
    if (this.unmuteTimer !== null && until <= this.mutedUntil) return;
    this.mutedUntil = until;
    if (this.unmuteTimer) clearTimeout(this.unmuteTimer);
    this.unmuteTimer = setTimeout(() => {
      this.unmuteTimer = null;
      this.tryResume();
    }, ms);
    // Read no further: the next frame waits (holdReason) once the current one is dispatched.
  }

  /** Waits until every request received so far has been answered. */
  idle(): Promise<void> {
    if (this.inFlight === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.release();
    for (const w of this.idleWaiters.splice(0)) w();
    this.socket.end();
  }

  onClose(): void {
    this.closed = true;
    this.release();
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private release(): void {
    if (this.unmuteTimer) clearTimeout(this.unmuteTimer);
    this.unmuteTimer = null;
    this.frame = null;
    this.stash = null;
    this.outbox = [];
    this.unsent = 0;
    this.releaseReserved();
    this.onGone(this);
  }
}
