// startBroker(): loads configuration and topics, recovers the logs, and only then listens. The handle
// it returns is async-disposable: `await using broker = await startBroker({ dataDir })`.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import type { Socket, TCPSocketListener } from "bun";
import { buildConfig, readPropertiesFile, type BrokerConfig, type ListenerConfig } from "./config.ts";
import { Logger, type Level } from "./log.ts";
import { Connection } from "./server/connection.ts";
import { ConnectionManager } from "./server/connections.ts";
import { createResponder } from "./server/dispatch.ts";
import { registry as defaultRegistry } from "./handlers/index.ts";
import type { BrokerContext, ListenerContext, Registry } from "./handlers/handler.ts";
import { TopicStore, writeFileAtomic, type Partition } from "./topics.ts";
import type { LogConfig } from "./log/partition-log.ts";
import { ProducerIdAllocator } from "./producer-ids.ts";
import { GroupCoordinator } from "./group/coordinator.ts";
import { TransactionCoordinator } from "./txn/coordinator.ts";
import { DynamicBrokerConfig } from "./dynamic-config.ts";
import { LogMaintenance } from "./log/maintenance.ts";

export interface BrokerOptions {
  /** log directory; shorthand for the `log.dirs` property */
  dataDir?: string;
  /** a Kafka-style server.properties file */
  configFile?: string;
  /** property overrides, applied after the file; Kafka property names */
  overrides?: Record<string, string | number | boolean> | [string, string][];
  /** "debug" | "info" | "warn" | "error" | "silent" (default: $BROOK_LOG_LEVEL or "info") */
  logLevel?: Level;
  /** listen on port 0 unless `listeners` says otherwise (default true when embedding) */
  ephemeralPort?: boolean;
}

/** A listener the broker accepts connections on. */
export interface BoundListener {
  readonly name: string;
  readonly securityProtocol: string;
  readonly host: string;
  readonly port: number;
  /** "host:port", ready to use as a bootstrap server */
  readonly address: string;
}

export interface BrokerHandle extends AsyncDisposable {
  /** the first listener's host, port and address */
  readonly host: string;
  readonly port: number;
  /** "host:port", ready to use as a bootstrap server */
  readonly address: string;
  /** every listener, in the order of the `listeners` property */
  readonly listeners: readonly BoundListener[];
  readonly broker: Broker;
  /** open connections, their limits and counters */
  readonly connections: ConnectionManager;
  close(): Promise<void>;
}

type Waiter = () => void;

export class Broker implements BrokerContext {
  readonly topics: TopicStore;
  /** producer ids from durably reserved blocks (transactional ids map to them in src/txn) */
  readonly producerIds: ProducerIdAllocator;
  readonly groups: GroupCoordinator;
  /** transactions and per-partition producer state (started by startBroker, after the logs load) */
  readonly txn: TransactionCoordinator;
  /** dynamic broker configs (AlterConfigs on the broker resource) */
  readonly dynamicConfig: DynamicBrokerConfig;
  /** retention and log compaction (started by startBroker) */
  readonly maintenance: LogMaintenance;
  readonly clusterId: string;
  readonly startedAt = Date.now();
  private readonly waiters = new Map<Partition, Set<Waiter>>();
  private stopping = false;

  constructor(
    readonly config: BrokerConfig,
    readonly log: Logger,
    readonly registry: Registry,
  ) {
    this.dynamicConfig = DynamicBrokerConfig.load(config, config.logDirs[0]!);
    this.topics = new TopicStore(config.logDirs, (c) => this.logConfig(c), log);
    this.maintenance = new LogMaintenance(this.topics, config, log);
    this.clusterId = this.loadMetaProperties();
    this.producerIds = new ProducerIdAllocator(config.logDirs[0]!);
    this.groups = GroupCoordinator.forBroker(config, log, this.topics);
    this.txn = new TransactionCoordinator(this);
  }

  get nodeId(): number {
    return this.config.nodeId;
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  logConfig(topicConfigs: Record<string, string>): LogConfig {
    const c = this.config;
    const num = (name: string, fallback: number) => (topicConfigs[name] !== undefined ? Number(topicConfigs[name]) : fallback);
    return {
      segmentBytes: num("segment.bytes", c.segmentBytes),
      segmentMs: num("segment.ms", c.segmentMs),
      flushIntervalMessages: num("flush.messages", c.flushIntervalMessages),
      flushIntervalMs: num("flush.ms", c.flushIntervalMs),
      indexIntervalBytes: num("index.interval.bytes", c.indexIntervalBytes),
      now: Date.now,
    };
  }

  /** Kafka keeps cluster and node ids in meta.properties; a log dir of another node is refused. */
  private loadMetaProperties(): string {
    const dir = this.config.logDirs[0]!;
    mkdirSync(dir, { recursive: true });
    const path = join(dir, "meta.properties");
    if (existsSync(path)) {
      const props = readPropertiesFile(path);
      const nodeId = Number(props.get("node.id"));
      if (nodeId !== this.config.nodeId)
        throw new Error(`${path} belongs to node.id ${nodeId}, but this broker is node.id ${this.config.nodeId}`);
      const clusterId = props.get("cluster.id")!;
      if (this.config.clusterId && this.config.clusterId !== clusterId)
        throw new Error(`${path} belongs to cluster ${clusterId}, not ${this.config.clusterId}`);
      return clusterId;
    }
    const clusterId = this.config.clusterId ?? randomBytes(16).toString("base64url");
    writeFileAtomic(path, `#Written by Brook\nversion=1\ncluster.id=${clusterId}\nnode.id=${this.config.nodeId}\n`);
    return clusterId;
  }

  /** Resolves when any of the partitions gets new data, or after timeoutMs. */
  waitForData(partitions: Partition[], timeoutMs: number): Promise<void> {
    if (this.stopping || timeoutMs <= 0 || partitions.length === 0) {
      return timeoutMs > 0 && partitions.length === 0 && !this.stopping
        ? new Promise((r) => setTimeout(r, timeoutMs))
        : Promise.resolve();
    }
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        for (const p of partitions) {
          const set = this.waiters.get(p);
          if (set?.delete(wake) && set.size === 0) this.waiters.delete(p); // no entry kept per partition ever waited on
        }
        resolve();
      };
      const timer = setTimeout(wake, timeoutMs);
      for (const p of partitions) {
        let set = this.waiters.get(p);
        if (!set) this.waiters.set(p, (set = new Set()));
        set.add(wake);
      }
    });
  }

  /** Called after an append: wakes long-polling fetches on that partition. */
  notifyAppend(partition: Partition): void {
    const set = this.waiters.get(partition);
    if (!set || set.size === 0) return;
    for (const wake of [...set]) wake();
  }

  /** Wakes every waiting fetch so it answers now (shutdown). */
  wakeAll(): void {
    this.stopping = true;
    for (const set of this.waiters.values()) for (const wake of [...set]) wake();
  }
}

function toSettings(opts: BrokerOptions): [string, string][] {
  const settings: [string, string][] = [];
  if (opts.configFile) settings.push(...readPropertiesFile(opts.configFile));
  if (opts.dataDir) settings.push(["log.dirs", opts.dataDir]);
  const o = opts.overrides;
  if (Array.isArray(o)) settings.push(...o);
  else if (o) for (const [k, v] of Object.entries(o)) settings.push([k, String(v)]);
  return settings;
}

export async function startBroker(opts: BrokerOptions = {}, registry: Registry = defaultRegistry): Promise<BrokerHandle> {
  const settings = toSettings(opts);
  if ((opts.ephemeralPort ?? true) && !settings.some(([k]) => k === "listeners"))
    settings.unshift(["listeners", "PLAINTEXT://127.0.0.1:0"]);
  const config = buildConfig(settings);
  config.logDirs = config.logDirs.map((d) => resolve(d));
  const log = new Logger(opts.logLevel);
  for (const name of config.ignored) log.info(`property ${name} is accepted for compatibility and has no effect in Brook`);

  const connections = await ConnectionManager.create(config, log); // validates the limits first
  const broker = new Broker(config, log, registry);
  broker.topics.load();
  broker.txn.start(); // producer state, transaction log, completion of what a crash left open

  const bound: { config: ListenerConfig; server: TCPSocketListener<{ conn: Connection }>; context: ListenerContext }[] = [];
  const stopListening = () => {
    for (const b of bound) b.server.stop(false);
  };
  try {
    for (const l of config.listeners) {
      // The advertised port is filled in once the port is known (listeners on port 0).
      const context = { name: l.name, securityProtocol: l.securityProtocol, advertisedHost: l.advertised.host, advertisedPort: l.advertised.port };
      let server: TCPSocketListener<{ conn: Connection }>;
      try {
        server = listen(broker, registry, log, l, context, connections);
      } catch (e) {
        throw new Error(`cannot listen on ${l.host}:${l.port} (listener ${l.name}): ${(e as Error).message}`);
      }
      if (l.advertised.port === 0 || l.advertised.port === l.port) context.advertisedPort = server.port;
      bound.push({ config: l, server, context });
    }
  } catch (e) {
    // Nothing listens, so release what startup opened (an embedding test suite carries on).
    stopListening();
    broker.groups.close();
    broker.txn.stop();
    broker.txn.close();
    broker.topics.closeAll();
    throw e;
  }

  broker.maintenance.start();
  connections.startIdleSweep();

  let flushTimer: ReturnType<typeof setInterval> | null = null;
  if (config.flushIntervalMs < Number.MAX_SAFE_INTEGER) {
    flushTimer = setInterval(() => broker.topics.flushAll(), Math.max(config.flushIntervalMs, 1));
    flushTimer.unref?.();
  }

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      stopListening();
      broker.wakeAll();
      broker.groups.close();
      broker.txn.stop();
      connections.stop();
      await Promise.all([...connections.connections].map((c) => c.idle()));
      await broker.maintenance.stop();
      if (flushTimer) clearInterval(flushTimer);
      for (const c of [...connections.connections]) c.close();
      broker.txn.close(); // producer state snapshots and the transaction log, before the logs close
      broker.topics.flushAll();
      broker.topics.closeAll();
      log.info("broker stopped");
    })());

  const listeners: BoundListener[] = bound.map(({ config: l, server }) => {
    const host = l.host === "" || l.host === "0.0.0.0" ? "127.0.0.1" : l.host === "::" ? "::1" : l.host;
    return { name: l.name, securityProtocol: l.securityProtocol, host, port: server.port, address: `${host.includes(":") ? `[${host}]` : host}:${server.port}` };
  });
  const first = listeners[0]!;
  return {
    host: first.host,
    port: first.port,
    address: first.address,
    listeners,
    broker,
    connections,
    close,
    [Symbol.asyncDispose]: close,
  };
}

function listen(
  broker: Broker,
  registry: Registry,
  log: Logger,
  l: ListenerConfig,
  context: ListenerContext,
  connections: ConnectionManager,
): TCPSocketListener<{ conn: Connection }> {
  return Bun.listen<{ conn: Connection }>({
    hostname: l.host === "" ? "0.0.0.0" : l.host,
    port: l.port,
    socket: {
      open(socket: Socket<{ conn: Connection }>) {
        const peer = `${socket.remoteAddress}`;
        if (!connections.admit(socket.remoteAddress)) {
          socket.end();
          return;
        }
        socket.setNoDelay(true); // as Kafka: a response's last part must not wait for an ACK
        const session = { principal: "User:ANONYMOUS", clientHost: socket.remoteAddress };
        const conn = new Connection(
          socket as Socket<unknown>,
          connections.limits,
          createResponder(broker, registry, log, peer, context, session),
          log,
          peer,
          socket.remoteAddress,
          (c) => connections.remove(c),
        );
        socket.data = { conn };
        connections.add(conn);
      },
      data(socket, chunk) {
        socket.data?.conn.onData(chunk);
      },
      drain(socket) {
        socket.data?.conn.onDrain();
      },
      close(socket) {
        socket.data?.conn.onClose();
      },
      error(socket, err) {
        log.warn(`connection error from ${socket.remoteAddress}: ${err.message}`);
      },
    },
  });
}
