// startBroker(): loads configuration and topics, recovers the logs, and only then listens. The handle
// it returns is async-disposable: `await using broker = await startBroker({ dataDir })`.
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, renameSync } from "node:fs";
import { join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import type { Socket, TCPSocketListener } from "bun";
import { buildConfig, readPropertiesFile, type BrokerConfig, type ListenerConfig } from "./config.ts";
import { Logger, type Level } from "./log.ts";
import { Connection } from "./server/connection.ts";
import { ConnectionManager } from "./server/connections.ts";
import { createResponder } from "./server/dispatch.ts";
import { registry as defaultRegistry } from "./handlers/index.ts";
import type { BrokerContext, ListenerContext, Registry, Session } from "./handlers/handler.ts";
import { TopicStore, writeFileAtomic, type Partition } from "./topics.ts";
import type { LogConfig } from "./log/partition-log.ts";
import { ProducerIdAllocator } from "./producer-ids.ts";
import { GroupCoordinator } from "./group/coordinator.ts";
import { TransactionCoordinator } from "./txn/coordinator.ts";
import { DynamicBrokerConfig } from "./dynamic-config.ts";
import { LogMaintenance } from "./log/maintenance.ts";
import { FaultInjector } from "./faults/injector.ts";
import { SaslAuthenticator } from "./server/authenticator.ts";
import { saslSettings, type SaslSettings, type ScramLookup } from "./security/sasl-settings.ts";
import { SCRAM_CREDENTIALS_FILE, ScramCredentialStore } from "./security/scram-store.ts";
import { subjectName } from "./security/principal.ts";
import { tlsSettings, type TlsSettings } from "./security/tls.ts";
import { BrokerMetrics } from "./metrics.ts";
import { HttpRoutes, startHttpServer, type HttpListener } from "./http/server.ts";
import { registerOpsRoutes, type OpsState } from "./http/ops-routes.ts";
import { Authorizer } from "./acl/authorizer.ts";
import { FetchSessionCache } from "./fetch-sessions.ts";
import { ClientQuotaStore, QuotaEnforcer } from "./quotas/client-quotas.ts";
import { ClientTelemetry } from "./telemetry/client-telemetry.ts";
import { CATALOGUE, catalogueClusterId } from "./topic-catalogue.ts";
import { OFFSETS_FILE } from "./group/offset-store.ts";
import { TXN_LOG_FILE } from "./txn/txn-log.ts";
import { MemoryTrimmer } from "./memory-trim.ts";

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
  /** the HTTP listener (brook.http.listener): metrics, health, console; null when off */
  readonly http: HttpListener | null;
  /** open connections, their limits and counters */
  readonly connections: ConnectionManager;
  close(): Promise<void>;
}

type Waiter = () => void;

/** What each client socket carries. */
type ConnData = { conn: Connection; session: Session };

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
  /** SCRAM users, durable in the first log dir */
  readonly scram: ScramCredentialStore;
  /** counters behind /metrics */
  readonly metrics: BrokerMetrics;
  /** routes of the HTTP listener; other modules add theirs here (see src/http/server.ts) */
  readonly http = new HttpRoutes();
  readonly clusterId: string;
  /** fault injection for client tests: `broker.faults.inject({ api: "Produce", error: "NOT_LEADER_OR_FOLLOWER", times: 3 })` */
  readonly faults: FaultInjector;
  /** ACLs and authorization decisions (authorizer.class.name); null = everything is allowed */
  readonly authorizer: Authorizer | null;
  /** incremental fetch sessions (KIP-227), at most max.incremental.fetch.session.cache.slots */
  readonly fetchSessions: FetchSessionCache;
  /** client quotas (AlterClientQuotas), enforced on Produce and Fetch */
  readonly quotas: QuotaEnforcer;
  /** client telemetry (KIP-714): subscriptions and the metrics clients push (`telemetry.clients()`) */
  readonly telemetry: ClientTelemetry;
  readonly startedAt = Date.now();
  private readonly waiters = new Map<Partition, Set<Waiter>>();
  private stopping = false;

  constructor(
    readonly config: BrokerConfig,
    readonly log: Logger,
    readonly registry: Registry,
  ) {
    this.metrics = new BrokerMetrics([...registry.values()].map((h) => h.api));
    this.authorizer = Authorizer.forBroker(config, log);
    this.dynamicConfig = DynamicBrokerConfig.load(config, config.logDirs[0]!);
    this.topics = new TopicStore(config.logDirs, (c) => this.logConfig(c), log, {
      minFreeBytes: config.get("brook.log.dir.min.free.bytes") as number | null,
      checkpointIntervalMs: config.get("log.flush.offset.checkpoint.interval.ms") as number,
      rebuildCatalogue: config.get("brook.topic.catalogue.rebuild") === true,
    });
    this.maintenance = new LogMaintenance(this.topics, config, log);
    this.clusterId = this.loadMetaProperties();
    this.topics.clusterId = this.clusterId;
    this.scram = ScramCredentialStore.open(config.logDirs[0]!);
    this.producerIds = new ProducerIdAllocator(config.logDirs[0]!, log);
    this.groups = GroupCoordinator.forBroker(config, log, this.topics);
    this.txn = new TransactionCoordinator(this);
    this.faults = new FaultInjector([...registry.values()].map((h) => h.api));
    this.fetchSessions = new FetchSessionCache(() => Number(config.get("max.incremental.fetch.session.cache.slots")));
    this.quotas = new QuotaEnforcer(
      ClientQuotaStore.load(config.logDirs[0]!, log),
      config.get("quota.window.num") as number,
      config.get("quota.window.size.seconds") as number,
    );
    this.telemetry = ClientTelemetry.load(config.logDirs[0]!, log, config.get("telemetry.max.bytes") as number);
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

  /**
   * Kafka keeps cluster and node ids in meta.properties; a log dir of another node is refused. A fresh
   * log dir gets one (after the empty offsets and transaction logs, so that a dir with meta.properties
   * but without them lost them). A used dir whose meta.properties is missing or unreadable gets it
   * written again from the cluster id the topic catalogue keeps (or cluster.id, when set); without
   * either the start stops. The offsets and transaction logs missing from a used dir stop it too.
   */
  private loadMetaProperties(): string {
    const dir = this.config.logDirs[0]!;
    mkdirSync(dir, { recursive: true });
    const path = join(dir, "meta.properties");
    const copy = catalogueClusterId(dir);
    const read = readMetaProperties(path);
    if (read.kind === "ok") {
      if (read.nodeId !== this.config.nodeId)
        throw new Error(`${path} belongs to node.id ${read.nodeId}, but this broker is node.id ${this.config.nodeId}`);
      if (this.config.clusterId && this.config.clusterId !== read.clusterId) throw new Error(`${path} belongs to cluster ${read.clusterId}, not ${this.config.clusterId}`);
      if (copy !== null && copy !== read.clusterId)
        throw new Error(
          `${path} says cluster.id=${read.clusterId}, but ${CATALOGUE} was written for cluster ${copy}: one of them was changed or damaged. ` +
            `Correct meta.properties (the cluster id clients have seen is most likely ${copy})`,
        );
      for (const f of [OFFSETS_FILE, TXN_LOG_FILE])
        if (!existsSync(join(dir, f)))
          throw new Error(
            `${join(dir, f)} is missing from ${dir}, which a broker has used (meta.properties is there): ` +
              `${f === OFFSETS_FILE ? "every consumer group's committed offsets" : "the state of every transactional id (open transactions, producer epochs)"} would be lost. ` +
              `Restore it from a backup; or create it empty (touch ${join(dir, f)}) to start without ${f === OFFSETS_FILE ? "committed offsets" : "it (open transactions are then aborted)"}`,
          );
      return read.clusterId;
    }
    if (read.kind === "missing" && !holdsBrookState(this.config.logDirs)) {
      // A fresh log dir.
      const clusterId = this.config.clusterId ?? randomBytes(16).toString("base64url");
      for (const f of [OFFSETS_FILE, TXN_LOG_FILE]) closeSync(openSync(join(dir, f), "a"));
      writeFileAtomic(path, metaProperties(clusterId, this.config.nodeId));
      return clusterId;
    }
    const what = read.kind === "missing" ? `${path} is missing` : `${path} is unreadable (${read.reason})`;
    if (copy !== null && this.config.clusterId && copy !== this.config.clusterId)
      throw new Error(`${what}; ${CATALOGUE} was written for cluster ${copy}, but cluster.id is ${this.config.clusterId}`);
    const clusterId = copy ?? this.config.clusterId;
    if (!clusterId)
      throw new Error(
        `${what}, and ${dir} holds a broker's data: its cluster id is lost. Write meta.properties again (version=1, cluster.id=<the id>, ` +
          `node.id=${this.config.nodeId}), or start once with --override cluster.id=<the id> to have it written`,
      );
    if (read.kind === "unreadable") renameSync(path, `${path}.unreadable-${Date.now()}`);
    this.log.warn(`${what}: written again with cluster.id=${clusterId} (from ${copy !== null ? CATALOGUE : "cluster.id"}) and node.id=${this.config.nodeId}`);
    writeFileAtomic(path, metaProperties(clusterId, this.config.nodeId));
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

const metaProperties = (clusterId: string, nodeId: number) => `#Written by Brook\nversion=1\ncluster.id=${clusterId}\nnode.id=${nodeId}\n`;

/** meta.properties, checked: cluster.id and an integer node.id, every line key=value. */
function readMetaProperties(path: string): { kind: "missing" } | { kind: "unreadable"; reason: string } | { kind: "ok"; clusterId: string; nodeId: number } {
  if (!existsSync(path)) return { kind: "missing" };
  let props: Map<string, string>;
  try {
    props = readPropertiesFile(path);
  } catch (e) {
    return { kind: "unreadable", reason: (e as Error).message };
  }
  const clusterId = props.get("cluster.id")?.trim() ?? "";
  const nodeId = props.get("node.id")?.trim() ?? "";
  if (!/^\S+$/.test(clusterId)) return { kind: "unreadable", reason: "no cluster.id" };
  if (!/^-?\d+$/.test(nodeId)) return { kind: "unreadable", reason: "no valid node.id" };
  return { kind: "ok", clusterId, nodeId: Number(nodeId) };
}

/**
 * Files a tool may write before the broker's first start (as kafka-storage.sh format --add-scram does):
 * their presence does not make a log dir a used one.
 */
const BOOTSTRAP_FILES = new Set([SCRAM_CREDENTIALS_FILE, `${SCRAM_CREDENTIALS_FILE}.tmp`]);

/** Whether the log dirs hold anything a broker wrote (so a missing meta.properties was lost, not never written). */

function holdsBrookState(logDirs: string[]): boolean {
  for (const dir of logDirs) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    if (names.some((n) => (n.startsWith("brook-") && !BOOTSTRAP_FILES.has(n)) || /^.+-\d+$/.test(n))) return true;
  }
  return false;
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
  // Each listener's security, resolved before anything is opened so that a mistake stops the start.
  const security = new Map<string, ListenerSecurity>();
  let broker: Broker | undefined;
  const scram: ScramLookup = { get: (user, mechanism) => broker?.scram.get(user, mechanism) };
  for (const l of config.listeners) security.set(l.name, listenerSecurity(config, l, scram));

  const connections = await ConnectionManager.create(config, log); // validates the limits first
  // Measured from before the logs load, so that the garbage of loading a large catalogue is returned
  // once the broker is first quiet.
  const trimmer = new MemoryTrimmer(Number(config.get("brook.memory.trim.interval.ms")), log);
  broker = new Broker(config, log, registry);
  // The HTTP listener binds before recovery, so a taken port fails at once rather than after recovering
  // every log. Recovery is synchronous: requests that arrive meanwhile wait for it, and /readyz answers
  // 200 only once it is done and the Kafka listeners accept connections (503 again while stopping).
  const state: OpsState = { ready: false, stopping: false, listener: null, listeners: [] };
  let http: HttpListener | null = null;
  const ops = config.httpListener ? registerOpsRoutes(broker, state) : null;
  if (config.httpListener) {
    try {
      http = startHttpServer(config.httpListener.host, config.httpListener.port, broker.http, log);
    } catch (e) {
      ops?.stop();
      broker.groups.close();
      throw new Error(`cannot listen on ${config.httpListener.host}:${config.httpListener.port} (brook.http.listener): ${(e as Error).message}`);
    }
  }
  try {
    broker.topics.load();
  } catch (e) {
    ops?.stop();
    await http?.stop();
    throw e;
  }
  broker.txn.start(); // producer state, transaction log, completion of what a crash left open
  broker.producerIds.ensureAbove(broker.txn.maxProducerIdInUse()); // a lost brook-producer-ids must not hand them out again

  const bound: { config: ListenerConfig; server: TCPSocketListener<ConnData>; context: ListenerContext }[] = [];
  const stopListening = () => {
    for (const b of bound) b.server.stop(false);
  };
  try {
    for (const l of config.listeners) {
      // The advertised port is filled in once the port is known (listeners on port 0).
      const context = { name: l.name, securityProtocol: l.securityProtocol, advertisedHost: l.advertised.host, advertisedPort: l.advertised.port };
      let server: TCPSocketListener<ConnData>;
      try {
        server = listen(broker, registry, log, l, context, connections, security.get(l.name)!);
      } catch (e) {
        throw new Error(`cannot listen on ${l.host}:${l.port} (listener ${l.name}): ${(e as Error).message}`);
      }
      if (l.advertised.port === 0 || l.advertised.port === l.port) context.advertisedPort = server.port;
      bound.push({ config: l, server, context });
    }
  } catch (e) {
    // Nothing listens, so release what startup opened (an embedding test suite carries on).
    stopListening();
    ops?.stop();
    await http?.stop();
    broker.groups.close();
    broker.txn.stop();
    broker.txn.close();
    broker.topics.closeAll();
    throw e;
  }

  broker.maintenance.start();
  state.listener = bound[0]!.context;
  state.listeners = bound.map(({ config: l, server, context }) => ({
    name: l.name,
    securityProtocol: l.securityProtocol,
    host: l.host,
    port: server.port,
    advertised: `${context.advertisedHost}:${context.advertisedPort}`,
  }));
  state.ready = true;
  connections.startIdleSweep();
  trimmer.start();

  let flushTimer: ReturnType<typeof setInterval> | null = null;
  if (config.flushIntervalMs < Number.MAX_SAFE_INTEGER) {
    flushTimer = setInterval(() => broker.topics.flushAll(), Math.max(config.flushIntervalMs, 1));
    flushTimer.unref?.();
  }

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      const stopStarted = performance.now();
      state.ready = false;
      state.stopping = true;
      stopListening();
      broker.wakeAll();
      broker.groups.close();
      broker.txn.stop();
      connections.stop();
      trimmer.stop();
      await Promise.all([...connections.connections].map((c) => c.idle()));
      await broker.maintenance.stop();
      if (flushTimer) clearInterval(flushTimer);
      for (const c of [...connections.connections]) c.close();
      ops?.stop();
      await http?.stop();
      broker.txn.close(); // producer state snapshots and the transaction log, before the logs close
      broker.topics.closeAll(); // final checkpoints (the data is fsynced only when few files changed)
      log.info(`broker stopped in ${(performance.now() - stopStarted).toFixed(0)} ms`);
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
    http,
    connections,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** How a listener authenticates its clients (issue 8). */
interface ListenerSecurity {
  /** SASL_PLAINTEXT / SASL_SSL: the mechanisms and their settings */
  sasl: SaslSettings | null;
  /** SSL / SASL_SSL: certificates, client authentication, protocols */
  tls: TlsSettings | null;
}

function listenerSecurity(config: BrokerConfig, l: ListenerConfig, scram: ScramLookup): ListenerSecurity {
  const sasl = l.securityProtocol === "SASL_PLAINTEXT" || l.securityProtocol === "SASL_SSL" ? saslSettings(config, l.name, scram) : null;
  const tls = l.securityProtocol === "SSL" || l.securityProtocol === "SASL_SSL" ? tlsSettings(config, l.name, l.securityProtocol) : null;
  return { sasl, tls };
}

/**
 * After the TLS handshake: a client certificate that does not verify is refused (Kafka's "requested" too
 * refuses a bad certificate, it only tolerates none); on SSL listeners a verified certificate's mapped
 * subject becomes the principal. Returns false when the connection must close.
 */
function acceptHandshake(socket: Socket<ConnData>, tls: TlsSettings, securityProtocol: string, log: Logger): boolean {
  const peer = socket.remoteAddress;
  const cert = socket.getPeerX509Certificate?.();
  if (tls.tls13Suites && socket.getTLSVersion() === "TLSv1.3") {
    const suite = socket.getCipher()?.standardName ?? socket.getCipher()?.name;
    if (!suite || !tls.tls13Suites.has(suite)) {
      log.warn(`closing connection from ${peer}: TLS 1.3 cipher suite ${suite} is not in ssl.cipher.suites (listener ${tls.listener})`);
      return false;
    }
  }
  if (!cert) return true; // "requested" without a certificate: User:ANONYMOUS
  if (!socket.authorized) {
    log.warn(`closing connection from ${peer}: client certificate refused on listener ${tls.listener}: ${socket.getAuthorizationError()?.message ?? "not trusted"}`);
    return false;
  }
  if (securityProtocol !== "SSL") return true; // SASL_SSL: the SASL user is the principal
  const dn = subjectName(new Uint8Array(cert.raw));
  try {
    socket.data.session.principal = `User:${tls.principalMapper.name(dn)}`;
  } catch (e) {
    log.warn(`closing connection from ${peer}: ${(e as Error).message}`);
    return false;
  }
  return true;
}

function listen(
  broker: Broker,
  registry: Registry,
  log: Logger,
  l: ListenerConfig,
  context: ListenerContext,
  connections: ConnectionManager,
  security: ListenerSecurity,
): TCPSocketListener<ConnData> {
  const counters = broker.metrics.listener(l.name);
  return Bun.listen<ConnData>({
    hostname: l.host === "" ? "0.0.0.0" : l.host,
    port: l.port,
    ...(security.tls ? { tls: security.tls.options } : {}),
    socket: {
      open(socket: Socket<ConnData>) {
        const peer = `${socket.remoteAddress}`;
        if (!connections.admit(socket.remoteAddress)) {
          socket.end();
          return;
        }
        socket.setNoDelay(true); // as Kafka: a response's last part must not wait for an ACK
        const session = { principal: "User:ANONYMOUS", clientHost: socket.remoteAddress };
        const channel = { mute: (ms: number) => conn.mute(ms) };
        const responder = createResponder(broker, registry, log, peer, context, session, channel);
        let authenticator: SaslAuthenticator | undefined;
        const conn: Connection = new Connection(
          socket as Socket<unknown>,
          connections.limits,
          security.sasl ? (frame) => authenticator!.respond(frame) : responder,
          log,
          peer,
          socket.remoteAddress,
          (c) => connections.remove(c),
        );
        if (security.sasl) authenticator = new SaslAuthenticator(conn, responder, session, security.sasl, log, peer, (ok) => counters.authenticated(ok));
        socket.data = { conn, session };
        connections.add(conn);
        counters.opened();
      },
      ...(security.tls
        ? {
            handshake(socket: Socket<ConnData>, success: boolean, err: Error | null) {
              // A failed handshake also lands here (success false, no verified peer).
              // Kafka counts a failed TLS handshake as a failed authentication, and on an SSL listener a
              // completed one as a successful authentication (SASL_SSL counts its SASL exchange instead).
              if (!success && !socket.getPeerX509Certificate?.()) {
                log.warn(`closing connection from ${socket.remoteAddress}: TLS handshake failed on listener ${l.name}: ${err?.message ?? "unknown error"}`);
                counters.authenticated(false);
                socket.end();
                return;
              }
              const accepted = acceptHandshake(socket, security.tls!, l.securityProtocol, log);
              if (!accepted || l.securityProtocol === "SSL") counters.authenticated(accepted);
              if (!accepted) socket.data?.conn.close();
            },
          }
        : {}),
      data(socket, chunk) {
        socket.data?.conn.onData(chunk);
      },
      drain(socket) {
        socket.data?.conn.onDrain();
      },
      close(socket) {
        if (socket.data) counters.closedOne();
        socket.data?.conn.onClose();
      },
      error(socket, err) {
        log.warn(`connection error from ${socket.remoteAddress}: ${err.message}`);
      },
    },
  });
}
