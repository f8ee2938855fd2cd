// A minimal Kafka protocol client built on Brook's own codec: one connection, requests pipelined and
// matched to responses by correlation id. Used by the command-line tools (which work against any
// Kafka broker) and by tests that need to send exact requests.
import type { Socket } from "bun";
import { requestCodec, responseCodec } from "../protocol/codec.ts";
import { Reader } from "../protocol/reader.ts";
import type { ApiDefinition, Infer, Loose, RequestOf } from "../protocol/types.ts";
import { Writer } from "../protocol/writer.ts";

interface Pending {
  def: ApiDefinition;
  version: number;
  resolve: (value: any) => void;
  reject: (err: Error) => void;
}

export class KafkaClient implements AsyncDisposable {
  private socket!: Socket<undefined>;
  private buffer: Uint8Array = new Uint8Array(0);
  private readonly pending = new Map<number, Pending>();
  private nextCorrelationId = 1;
  private closedError: Error | null = null;

  private constructor(readonly clientId: string) {}

  static async connect(address: string, clientId = "brook-client"): Promise<KafkaClient> {
    const i = address.lastIndexOf(":");
    const host = address.slice(0, i).replace(/^\[|\]$/g, "");
    const port = Number(address.slice(i + 1));
    const client = new KafkaClient(clientId);
    client.socket = await Bun.connect({
      hostname: host,
      port,
      socket: {
        data: (_s, chunk) => client.onData(chunk),
        close: () => client.fail(new Error("connection closed by the broker")),
        error: (_s, err) => client.fail(err),
      },
    });
    return client;
  }

  get closed(): boolean {
    return this.closedError !== null;
  }

  /** Sends a request; resolves with the decoded response (never, for Produce with acks=0). */
  request<D extends ApiDefinition>(def: D, version: number, body: Loose<RequestOf<D>>): Promise<Infer<D["response"]>> {
    if (this.closedError) return Promise.reject(this.closedError);
    const correlationId = this.nextCorrelationId++;
    const w = new Writer(256);
    const sizeAt = w.reserve(4);
    w.int16(def.key);
    w.int16(version);
    w.int32(correlationId);
    w.string(this.clientId, false);
    if (version >= def.flexible) w.uvarint(0);
    requestCodec(def, version).encode(w, body as never);
    w.view.setInt32(sizeAt, w.pos - 4);
    const frame = w.finish();
    const expectsResponse = !(def.key === 0 && (body as { acks?: number }).acks === 0);
    const result = expectsResponse
      ? new Promise<any>((resolve, reject) => this.pending.set(correlationId, { def, version, resolve, reject }))
      : Promise.resolve(undefined);
    this.socket.write(frame);
    return result;
  }

  private onData(chunk: Uint8Array): void {
    const joined = new Uint8Array(this.buffer.length + chunk.length);
    joined.set(this.buffer);
    joined.set(chunk, this.buffer.length);
    let pos = 0;
    const view = new DataView(joined.buffer, joined.byteOffset, joined.byteLength);
    while (joined.length - pos >= 4) {
      const size = view.getInt32(pos);
      if (joined.length - pos - 4 < size) break;
      const r = new Reader(joined, pos + 4, pos + 4 + size);
      pos += 4 + size;
      const correlationId = r.int32();
      const p = this.pending.get(correlationId);
      if (!p) continue;
      this.pending.delete(correlationId);
      try {
        // ApiVersions answers with header v0 even when flexible.
        if (p.version >= p.def.flexible && p.def.key !== 18) {
          const tags = r.uvarint();
          for (let i = 0; i < tags; i++) {
            r.uvarint();
            r.pos += r.uvarint();
          }
        }
        p.resolve(responseCodec(p.def, p.version).decode(r));
      } catch (e) {
        p.reject(e as Error);
      }
    }
    this.buffer = joined.slice(pos);
  }

  private fail(err: Error): void {
    if (this.closedError) return;
    this.closedError = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  close(): void {
    this.fail(new Error("client closed"));
    this.socket.end();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }
}
