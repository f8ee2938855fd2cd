// A small Kafka client over Bun.connect that speaks through Brook's own codec (protocol/codec.ts and the
// definitions in protocol/apis). Used by the command-line tools and by tests that send exact requests. It works against any Kafka broker: versions are negotiated with ApiVersions (v0, which every
// broker answers), and requests can be pinned to a version for tests.
import type { Socket } from "bun";
import { ApiVersions } from "../protocol/apis/18-api-versions.ts";
import { requestCodec, responseCodec } from "../protocol/codec.ts";
import { Reader } from "../protocol/reader.ts";
import type { ApiDefinition, Infer, Loose } from "../protocol/types.ts";
import { Writer } from "../protocol/writer.ts";
import { SaslAuthenticate } from "../protocol/apis/36-sasl-authenticate.ts";
import { SaslHandshake } from "../protocol/apis/17-sasl-handshake.ts";
import type { ClientSecurity } from "./security/client-config.ts";
import { saslClient } from "./security/sasl/client.ts";

interface Pending {
  def: ApiDefinition;
  version: number;
  resolve: (body: any) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class KafkaError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = "KafkaError";
  }
}

export interface ConnectOptions {
  clientId?: string;
  /** per-request timeout (default 30 s) */
  requestTimeoutMs?: number;
  /** skip the ApiVersions exchange (then every request needs an explicit version) */
  skipApiVersions?: boolean;
  /** TLS and SASL (src/security/client-config.ts reads them from Kafka client properties) */
  security?: ClientSecurity;
}

export class WireClient {
  private socket!: Socket<undefined>;
  private buffered = new Uint8Array(0);
  private readonly pending = new Map<number, Pending>();
  private nextCorrelation = 1;
  private closed = false;
  private outbox: Uint8Array[] = [];
  /** the broker's version ranges, by API key */
  readonly versions = new Map<number, [number, number]>();
  readonly clientId: string;
  private readonly timeoutMs: number;

  private constructor(
    readonly host: string,
    readonly port: number,
    opts: ConnectOptions,
  ) {
    this.clientId = opts.clientId ?? "brook-admin";
    this.timeoutMs = opts.requestTimeoutMs ?? 30_000;
  }

  static async connect(address: string, opts: ConnectOptions = {}): Promise<WireClient> {
    const { host, port } = parseAddress(address);
    const client = new WireClient(host, port, opts);
    const tls = opts.security?.tls;
    client.socket = await Bun.connect<undefined>({
      hostname: host,
      port,
      ...(tls
        ? {
            tls: {
              ...(tls.ca ? { ca: tls.ca } : {}),
              ...(tls.cert ? { cert: tls.cert, key: tls.key, passphrase: tls.passphrase } : {}),
              rejectUnauthorized: true,
              ...(tls.checkHostname ? {} : { checkServerIdentity: () => undefined }),
            },
          }
        : {}),
      socket: {
        data: (_s, chunk) => client.onData(chunk),
        drain: () => client.onDrain(),
        close: () => client.onClose(new Error(`connection to ${address} closed`)),
        error: (_s, err) => client.onClose(err),
        connectError: (_s, err) => client.onClose(err),
      },
    });
    if (!opts.skipApiVersions) {
      const r = await client.request(ApiVersions, {}, 0);
      for (const k of r.apiKeys) client.versions.set(k.apiKey, [k.minVersion, k.maxVersion]);
    }
    if (opts.security?.sasl) {
      try {
        await client.authenticate(opts.security.sasl);
      } catch (e) {
        client.close();
        throw e;
      }
    }
    return client;
  }

  /** SaslHandshake v1 and the mechanism's tokens in SaslAuthenticate requests; throws KafkaError on failure. */
  private async authenticate(credentials: NonNullable<ClientSecurity["sasl"]>): Promise<void> {
    const hs = await this.request(SaslHandshake, { mechanism: credentials.mechanism }, 1);
    if (hs.errorCode !== 0)
      throw new KafkaError(hs.errorCode, `SASL mechanism ${credentials.mechanism} is not enabled on ${this.host}:${this.port} (enabled: ${hs.mechanisms.join(", ")})`);
    const version = Math.min(1, this.versions.get(SaslAuthenticate.key)?.[1] ?? 1);
    const sasl = saslClient(credentials);
    let token: Uint8Array | null = sasl.first();
    while (token) {
      const r = await this.request(SaslAuthenticate, { authBytes: token }, version);
      if (r.errorCode !== 0) throw new KafkaError(r.errorCode, `SASL authentication failed: ${r.errorMessage ?? `error ${r.errorCode}`}`);
      token = sasl.next(r.authBytes);
    }
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** The highest version both sides serve (throws when there is none). */
  versionFor(def: ApiDefinition): number {
    const theirs = this.versions.get(def.key);
    if (!theirs) throw new Error(`the broker at ${this.host}:${this.port} does not serve ${def.name}`);
    const v = Math.min(theirs[1], def.versions[1]);
    if (v < Math.max(theirs[0], def.versions[0])) throw new Error(`no common version of ${def.name}`);
    return v;
  }

  /** Sends a request and resolves with the decoded response body. */
  request<D extends ApiDefinition>(def: D, body: Loose<Infer<D["request"]>>, version?: number): Promise<Infer<D["response"]>> {
    if (this.closed) return Promise.reject(new Error(`connection to ${this.host}:${this.port} is closed`));
    const v = version ?? this.versionFor(def);
    const flexible = v >= def.flexible;
    const correlationId = this.nextCorrelation++;
    const w = new Writer(256);
    const sizeAt = w.reserve(4);
    w.int16(def.key);
    w.int16(v);
    w.int32(correlationId);
    w.string(this.clientId, false);
    if (flexible) w.uvarint(0);
    requestCodec(def, v).encode(w, body as never);
    w.view.setInt32(sizeAt, w.pos - 4);
    const frame = w.finish().slice();
    if (def.key === 0 && (body as { acks?: number }).acks === 0) {
      // Produce with acks=0 gets no response at all.
      this.write(frame);
      return Promise.resolve(undefined as never);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        reject(new Error(`${def.name} v${v} to ${this.host}:${this.port}: no response within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(correlationId, { def, version: v, resolve, reject, timer });
      this.write(frame);
    });
  }

  /** Writes raw bytes (tests: hand-made or malformed frames). */
  sendRaw(bytes: Uint8Array): void {
    this.write(bytes);
  }

  close(): void {
    if (this.closed) return;
    this.socket.end();
    this.onClose(new Error("connection closed by the client"));
  }

  private write(frame: Uint8Array): void {
    if (this.outbox.length > 0) {
      this.outbox.push(frame);
      return;
    }
    const n = this.socket.write(frame);
    if (n < frame.length) this.outbox.push(frame.subarray(Math.max(n, 0)));
  }

  private onDrain(): void {
    while (this.outbox.length > 0) {
      const f = this.outbox[0]!;
      const n = this.socket.write(f);
      if (n < f.length) {
        this.outbox[0] = f.subarray(Math.max(n, 0));
        return;
      }
      this.outbox.shift();
    }
  }

  private onData(chunk: Uint8Array): void {
    let buf: Uint8Array;
    if (this.buffered.length === 0) buf = chunk;
    else {
      buf = new Uint8Array(this.buffered.length + chunk.length);
      buf.set(this.buffered);
      buf.set(chunk, this.buffered.length);
    }
    let pos = 0;
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    while (buf.length - pos >= 4) {
      const size = view.getInt32(pos);
      if (buf.length - pos - 4 < size) break;
      this.onFrame(buf.subarray(pos + 4, pos + 4 + size));
      pos += 4 + size;
    }
    this.buffered = buf.slice(pos);
  }

  private onFrame(frame: Uint8Array): void {
    const r = new Reader(frame);
    const correlationId = r.int32();
    const p = this.pending.get(correlationId);
    if (!p) return;
    this.pending.delete(correlationId);
    clearTimeout(p.timer);
    try {
      const flexible = p.version >= p.def.flexible;
      if (flexible && p.def.key !== ApiVersions.key) {
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

  private onClose(err: Error): void {
    this.closed = true;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(err);
      this.pending.delete(id);
    }
  }
}

export function parseAddress(address: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(address.trim());
  if (!m) throw new Error(`expected HOST:PORT, got "${address}"`);
  return { host: m[1]!, port: Number(m[2]) };
}

/**
 * The same client with the version pinned per call, for tests that speak one exact version:
 * `await using c = await KafkaClient.connect(address); await c.request(Fetch, 11, {...})`.
 */
export class KafkaClient implements AsyncDisposable {
  private constructor(private readonly wire: WireClient) {}

  static async connect(address: string, clientId = "brook-client"): Promise<KafkaClient> {
    return new KafkaClient(await WireClient.connect(address, { clientId, skipApiVersions: true }));
  }

  get closed(): boolean {
    return !this.wire.isOpen;
  }

  request<D extends ApiDefinition>(def: D, version: number, body: Loose<Infer<D["request"]>>): Promise<Infer<D["response"]>> {
    return this.wire.request(def, body, version);
  }

  close(): void {
    this.wire.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }
}
