// Every open client connection, and the limits that keep one client (or many) from taking the broker
// over, under Kafka's property names:
// - max.connections (broker-wide) and max.connections.per.ip (+ max.connections.per.ip.overrides):
//   a connection over the limit is closed as soon as it is accepted. Kafka closes it too for the
//   per-IP limit; for the broker-wide limit Kafka's acceptor instead stops accepting until a slot frees
//   (the client waits in the listen backlog). Bun cannot pause accepting, so Brook closes that one too,
//   which a client treats like a refused connection and retries after its reconnect backoff.
// - connections.max.idle.ms: a connection with no bytes read or written and no request in progress for
//   that long is closed (-1: never), like Kafka's idle expiry; it also frees what a client that stopped
//   sending in the middle of a frame holds.
// - queued.max.request.bytes: the memory pool for request frames being received. A frame that spans
//   reads reserves its size when its size prefix arrives and gives it back once it has been handled;
//   while the pool is used up no connection starts reading a new request (Kafka mutes the channels
//   whose allocation fails, and unmutes them when memory is released). -1: no pool, as in Kafka.
// - queued.max.requests and brook.connection.max.unsent.bytes are per connection (see connection.ts).
import { isIP } from "node:net";
import { lookup } from "node:dns/promises";
import { ConfigError, type BrokerConfig } from "../config.ts";
import type { Logger } from "../log.ts";

/** What the limits need of a client connection (server/connection.ts's Connection is one). */
export interface ManagedConnection {
  readonly peer: string;
  readonly ip: string;
  readonly inFlight: number;
  readonly isPaused: boolean;
  /** since when nothing moved and no request was in flight (connections.max.idle.ms) */
  idleSince: number;
  /** whether bytes moved since the last call */
  takeActivity(): boolean;
  /** reads again if nothing holds it back any more */
  tryResume(): void;
  /** resolves once every request received so far is answered */
  idle(): Promise<void>;
  close(): void;
}

const INT_MAX = 2147483647;

/** Request memory (queued.max.request.bytes). Over-reserving by one frame is allowed, as in Kafka. */
export class RequestMemoryPool {
  used = 0;
  private readonly waiting = new Set<ManagedConnection>();

  constructor(readonly capacity: number) {}

  get bounded(): boolean {
    return this.capacity >= 0;
  }

  /** True while no new frame may start; only ever true for a bounded pool. */
  get exhausted(): boolean {
    return this.capacity >= 0 && this.used >= this.capacity;
  }

  reserve(bytes: number): void {
    this.used += bytes;
  }

  release(bytes: number): void {
    this.used -= bytes;
    if (this.waiting.size > 0 && !this.exhausted) {
      const ready = [...this.waiting];
      this.waiting.clear();
      for (const c of ready) c.tryResume();
    }
  }

  /** A connection paused because the pool was used up; resumed when memory is released. */
  wait(c: ManagedConnection): void {
    this.waiting.add(c);
  }

  forget(c: ManagedConnection): void {
    this.waiting.delete(c);
  }
}

export interface ConnectionLimits {
  /** socket.request.max.bytes */
  readonly maxFrameBytes: number;
  /** queued.max.requests: requests read from one connection and not yet answered */
  readonly maxInFlight: number;
  /** brook.connection.max.unsent.bytes: answered but not yet written to the socket */
  readonly maxUnsentBytes: number;
  readonly pool: RequestMemoryPool;
}

/** Parses max.connections.per.ip.overrides ("host:count,host:count"); host names are resolved. */
export async function parsePerIpOverrides(value: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const entry of value.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    const colon = entry.lastIndexOf(":");
    const host = colon > 0 ? entry.slice(0, colon).trim().replace(/^\[(.*)\]$/, "$1") : "";
    const count = colon > 0 ? entry.slice(colon + 1).trim() : "";
    if (host === "" || !/^\d+$/.test(count) || Number(count) > INT_MAX)
      throw new ConfigError(`invalid entry "${entry}" in max.connections.per.ip.overrides: expected host:count`);
    let addresses: string[];
    if (isIP(host)) addresses = [host];
    else {
      try {
        addresses = (await lookup(host, { all: true })).map((a) => a.address);
      } catch (e) {
        throw new ConfigError(`max.connections.per.ip.overrides: cannot resolve ${host}: ${(e as Error).message}`);
      }
    }
    for (const a of addresses) out.set(normalizeIp(a), Number(count));
  }
  return out;
}

/** IPv4 clients of a dual-stack listener appear as ::ffff:a.b.c.d; count them under a.b.c.d. */
export function normalizeIp(ip: string): string {
  return ip.startsWith("::ffff:") && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

export interface ConnectionStats {
  /** open connections */
  open: number;
  /** accepted since start (including the ones closed at once for a limit) */
  accepted: number;
  /** closed at accept: over max.connections / max.connections.per.ip */
  rejected: number;
  /** closed by connections.max.idle.ms */
  closedIdle: number;
  /** connections not being read right now (a limit holds them back) */
  paused: number;
  /** bytes reserved in the request memory pool */
  poolUsed: number;
}

export class ConnectionManager {
  readonly pool: RequestMemoryPool;
  readonly limits: ConnectionLimits;
  private readonly open = new Set<ManagedConnection>();
  private readonly perIp = new Map<string, number>();
  private readonly maxConnections: number;
  private readonly maxPerIp: number;
  private readonly idleMs: number;
  private sweepTimer: ReturnType<typeof setInterval> | null = null;
  private accepted = 0;
  private rejected = 0;
  private closedIdle = 0;

  private constructor(
    config: BrokerConfig,
    private readonly perIpOverrides: Map<string, number>,
    private readonly log: Logger,
  ) {
    this.maxConnections = config.get("max.connections") as number;
    this.maxPerIp = config.get("max.connections.per.ip") as number;
    this.idleMs = config.get("connections.max.idle.ms") as number;
    this.pool = new RequestMemoryPool(config.get("queued.max.request.bytes") as number);
    this.limits = {
      maxFrameBytes: config.socketRequestMaxBytes,
      maxInFlight: config.get("queued.max.requests") as number,
      maxUnsentBytes: config.get("brook.connection.max.unsent.bytes") as number,
      pool: this.pool,
    };
  }

  /** Validates the limits (a ConfigError is a configuration mistake) and resolves override host names. */
  static async create(config: BrokerConfig, log: Logger): Promise<ConnectionManager> {
    const overrides = await parsePerIpOverrides(config.get("max.connections.per.ip.overrides") as string);
    if (config.get("max.connections.per.ip") === 0 && overrides.size === 0)
      throw new ConfigError("max.connections.per.ip can be set to zero only if max.connections.per.ip.overrides is set");
    return new ConnectionManager(config, overrides, log);
  }

  /** Whether a new connection from `ip` may stay open; logs why not. */
  admit(ip: string): boolean {
    this.accepted++;
    const key = normalizeIp(ip);
    const fromIp = this.perIp.get(key) ?? 0;
    const perIpLimit = this.perIpOverrides.get(key) ?? this.maxPerIp;
    if (fromIp >= perIpLimit) {
      this.rejected++;
      this.log.info(`rejected connection from ${ip}: address already has the configured maximum of ${perIpLimit} connections (max.connections.per.ip)`);
      return false;
    }
    if (this.open.size >= this.maxConnections) {
      this.rejected++;
      this.log.info(`rejected connection from ${ip}: the broker already has the configured maximum of ${this.maxConnections} connections (max.connections)`);
      return false;
    }
    return true;
  }

  add(c: ManagedConnection): void {
    this.open.add(c);
    const key = normalizeIp(c.ip);
    this.perIp.set(key, (this.perIp.get(key) ?? 0) + 1);
  }

  remove(c: ManagedConnection): void {
    if (!this.open.delete(c)) return;
    this.pool.forget(c);
    const key = normalizeIp(c.ip);
    const n = (this.perIp.get(key) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(key);
    else this.perIp.set(key, n);
  }

  get connections(): ReadonlySet<ManagedConnection> {
    return this.open;
  }

  stats(): ConnectionStats {
    let paused = 0;
    for (const c of this.open) if (c.isPaused) paused++;
    return { open: this.open.size, accepted: this.accepted, rejected: this.rejected, closedIdle: this.closedIdle, paused, poolUsed: this.pool.used };
  }

  /**
   * Starts closing idle connections. The sweep runs a few times per idle period (at most every 30 s),
   * so a connection goes after between connections.max.idle.ms and a quarter more.
   */
  startIdleSweep(): void {
    if (this.idleMs < 0 || this.sweepTimer) return;
    const every = Math.min(30_000, Math.max(10, Math.floor(this.idleMs / 4)));
    this.sweepTimer = setInterval(() => this.sweep(Date.now()), every);
    this.sweepTimer.unref?.();
  }

  stop(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
  }

  private sweep(now: number): void {
    for (const c of this.open) {
      if (c.takeActivity() || c.inFlight > 0) {
        c.idleSince = now;
        continue;
      }
      if (now - c.idleSince >= this.idleMs) {
        this.closedIdle++;
        this.log.debug(`closing connection from ${c.peer}: idle for more than connections.max.idle.ms (${this.idleMs})`);
        c.close();
      }
    }
  }
}
