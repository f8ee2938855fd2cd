// What a handler is: an API definition plus a function from a typed request to a typed response, and
// the narrow view of the broker a handler may use. Handlers depend on this file, the protocol and the
// layers below them (topics, log, groups, transactions), never on broker.ts: the broker satisfies
// BrokerContext structurally.
import type { RequestHeader } from "../../protocol/header.ts";
import type { ApiDefinition, RequestOf, ResponseOf } from "../../protocol/types.ts";
import type { BrokerConfig } from "../config.ts";
import type { FaultInjector } from "../faults/injector.ts";
import type { DynamicBrokerConfig } from "../dynamic-config.ts";
import type { FetchSessionCache } from "../fetch-sessions.ts";
import type { GroupCoordinator } from "../group/coordinator.ts";
import type { Logger } from "../log.ts";
import type { BrokerMetrics } from "../metrics.ts";
import type { LogMaintenance } from "../log/maintenance.ts";
import type { Partition, TopicStore } from "../topics.ts";
import type { ScramCredentialStore } from "../security/scram-store.ts";
import type { QuotaEnforcer } from "../quotas/client-quotas.ts";
import type { ClientTelemetry } from "../telemetry/client-telemetry.ts";
import type { TransactionCoordinator } from "../txn/coordinator.ts";
import type { Authorizer, RequestAuthorizer } from "../acl/authorizer.ts";

/** Returned by a handler for requests that get no response at all (Produce with acks=0). */
export const NO_RESPONSE = Symbol("no response");

/** The handlers by API key; ApiVersions is built from it. */
export type Registry = ReadonlyMap<number, Handler>;

/** What handlers may use of the broker. */
export interface BrokerContext {
  readonly config: BrokerConfig;
  readonly log: Logger;
  readonly topics: TopicStore;
  readonly groups: GroupCoordinator;
  readonly txn: TransactionCoordinator;
  readonly dynamicConfig: DynamicBrokerConfig;
  readonly maintenance: LogMaintenance;
  readonly clusterId: string;
  readonly nodeId: number;
  readonly isStopping: boolean;
  readonly registry: Registry;
  /** SCRAM users (Describe/AlterUserScramCredentials; the SASL/SCRAM logins read them too) */
  readonly scram: ScramCredentialStore;
  /** counters for /metrics (per topic, per API, per listener) */
  readonly metrics: BrokerMetrics;
  /** the ACLs and their decisions; null when authorizer.class.name is not set (handlers use ctx.authorize) */
  readonly authorizer: Authorizer | null;
  /** incremental fetch sessions (KIP-227) */
  readonly fetchSessions: FetchSessionCache;
  /** Resolves when any of the partitions gets new data, or after timeoutMs. */
  waitForData(partitions: Partition[], timeoutMs: number): Promise<void>;
  /** Wakes long-polling fetches on the partition (after an append). */
  notifyAppend(partition: Partition): void;
  /** injected faults (tests); the dispatcher consults it, handlers need not */
  readonly faults: FaultInjector;
  /** client quotas: stored for the quota APIs, enforced by the dispatcher on Produce and Fetch */
  readonly quotas: QuotaEnforcer;
  /** client telemetry (KIP-714): CLIENT_METRICS subscriptions and the metrics clients push */
  readonly telemetry: ClientTelemetry;
}

/** The listener a request arrived on: Metadata and FindCoordinator answer with its advertised address. */
export interface ListenerContext {
  /** the listener name, e.g. PLAINTEXT or CLIENT */
  readonly name: string;
  /** PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL */
  readonly securityProtocol: string;
  readonly advertisedHost: string;
  readonly advertisedPort: number;
}

/** A connection's security state: who the client is (authentication sets the principal). */
export interface Session {
  /** Kafka's principal string: "User:ANONYMOUS" on PLAINTEXT, the SASL user or mapped certificate name otherwise */
  principal: string;
  /** the client's IP address, for ACL host matching and log lines */
  readonly clientHost: string;
  /** from the connection's ApiVersions v3+ request (client telemetry matches on them) */
  clientSoftwareName?: string;
  clientSoftwareVersion?: string;
}

export interface RequestContext {
  broker: BrokerContext;
  version: number;
  header: RequestHeader;
  /** "host:port" of the client, for log lines */
  peer: string;
  listener: ListenerContext;
  session: Session;
  /**
   * Kafka's authorization check for this connection's principal and host, e.g.
   * `ctx.authorize(AclOperation.WRITE, ResourceType.TOPIC, name)` (src/acl/acl.ts): true when allowed, and
   * always true without an authorizer. Cached per connection, so cheap enough per topic on the hot path.
   */
  authorize: RequestAuthorizer["authorize"];
  /** The same check's other questions: authorized-operations bitfields, "allowed on any resource of a type". */
  authz: RequestAuthorizer;
}

export interface Handler<D extends ApiDefinition = ApiDefinition> {
  api: D;
  /** Whether the broker serves (and advertises) the API with its current configuration; default yes. */
  enabled?: (broker: BrokerContext) => boolean;
  handle(
    request: RequestOf<D>,
    ctx: RequestContext,
  ): ResponseOf<D> | typeof NO_RESPONSE | Promise<ResponseOf<D> | typeof NO_RESPONSE>;
}

export function handler<D extends ApiDefinition>(api: D, handle: Handler<D>["handle"]): Handler<D> {
  return { api, handle };
}

/**
 * ApiVersions' list: what the registry serves (with a lower advertised minimum where a definition has one),
 * without the APIs the broker's configuration disables.
 */
export function apiVersionsList(registry: Registry, broker?: BrokerContext): { apiKey: number; minVersion: number; maxVersion: number }[] {
  return [...registry.values()]
    .filter((h) => !broker || !h.enabled || h.enabled(broker))
    .map((h) => ({ apiKey: h.api.key, minVersion: h.api.advertisedMin ?? h.api.versions[0], maxVersion: h.api.versions[1] }))
    .sort((a, b) => a.apiKey - b.apiKey);
}
