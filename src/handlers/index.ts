// The handler registry. ApiVersions is built from it, so registering a handler is what makes an API
// (and its version range) visible to clients.
import type { Handler, Registry } from "./handler.ts";
import produce from "./00-produce.ts";
import fetch from "./01-fetch.ts";
import listOffsets from "./02-list-offsets.ts";
import metadata from "./03-metadata.ts";
import apiVersions from "./18-api-versions.ts";
import createTopics from "./19-create-topics.ts";
import deleteTopics from "./20-delete-topics.ts";
import initProducerId from "./22-init-producer-id.ts";
import offsetCommit from "./08-offset-commit.ts";
import offsetFetch from "./09-offset-fetch.ts";
import findCoordinator from "./10-find-coordinator.ts";
import joinGroup from "./11-join-group.ts";
import heartbeat from "./12-heartbeat.ts";
import leaveGroup from "./13-leave-group.ts";
import syncGroup from "./14-sync-group.ts";
import describeGroups from "./15-describe-groups.ts";
import listGroups from "./16-list-groups.ts";
import deleteGroups from "./42-delete-groups.ts";
import offsetDelete from "./47-offset-delete.ts";
import addPartitionsToTxn from "./24-add-partitions-to-txn.ts";
import addOffsetsToTxn from "./25-add-offsets-to-txn.ts";
import endTxn from "./26-end-txn.ts";
import txnOffsetCommit from "./28-txn-offset-commit.ts";
import describeProducers from "./61-describe-producers.ts";
import describeTransactions from "./65-describe-transactions.ts";
import listTransactions from "./66-list-transactions.ts";
import consumerGroupHeartbeat from "./68-consumer-group-heartbeat.ts";
import consumerGroupDescribe from "./69-consumer-group-describe.ts";

export const handlers: Handler<any>[] = [produce, fetch, listOffsets, metadata, apiVersions, createTopics, deleteTopics, initProducerId];
// Consumer groups and committed offsets (src/group/).
handlers.push(offsetCommit, offsetFetch, findCoordinator, joinGroup, heartbeat, leaveGroup, syncGroup, describeGroups, listGroups, deleteGroups, offsetDelete);
// The consumer group protocol (KIP-848, src/group/consumer-rebalance.ts).
handlers.push(consumerGroupHeartbeat, consumerGroupDescribe);

// Transactions and producer state (src/txn/, src/log/producer-state.ts).
handlers.push(addPartitionsToTxn, addOffsetsToTxn, endTxn, txnOffsetCommit, describeProducers, describeTransactions, listTransactions);

// Topic administration, configs, retention and compaction (issue 5).
import deleteRecords from "./21-delete-records.ts";
import describeConfigs from "./32-describe-configs.ts";
import alterConfigs from "./33-alter-configs.ts";
import describeLogDirs from "./35-describe-log-dirs.ts";
import createPartitions from "./37-create-partitions.ts";
import incrementalAlterConfigs from "./44-incremental-alter-configs.ts";
import describeCluster from "./60-describe-cluster.ts";
handlers.push(deleteRecords, describeConfigs, alterConfigs, describeLogDirs, createPartitions, incrementalAlterConfigs, describeCluster);

// Security (issue 8): SASL outside an authentication exchange (src/server/authenticator.ts does the exchange).
import saslHandshake from "./17-sasl-handshake.ts";
import saslAuthenticate from "./36-sasl-authenticate.ts";
handlers.push(saslHandshake, saslAuthenticate);
// SCRAM users (src/security/scram-store.ts).
import describeUserScramCredentials from "./50-describe-user-scram-credentials.ts";
import alterUserScramCredentials from "./51-alter-user-scram-credentials.ts";
handlers.push(describeUserScramCredentials, alterUserScramCredentials);

// ACLs (issue 8, src/acl/): the authorizer's own APIs; every handler checks its operations through ctx.authorize.
import describeAcls from "./29-describe-acls.ts";
import createAcls from "./30-create-acls.ts";
import deleteAcls from "./31-delete-acls.ts";
handlers.push(describeAcls, createAcls, deleteAcls);
// Kafka 4 protocol: leader epochs and topic ids (issue 11).
import offsetForLeaderEpoch from "./23-offset-for-leader-epoch.ts";
import describeTopicPartitions from "./75-describe-topic-partitions.ts";
handlers.push(offsetForLeaderEpoch, describeTopicPartitions);
// Client quotas (src/quotas), telemetry (src/telemetry), and the admin APIs of a one-broker cluster:
// leader elections, partition reassignments, the metadata quorum (issue 11).
import electLeaders from "./43-elect-leaders.ts";
import alterPartitionReassignments from "./45-alter-partition-reassignments.ts";
import listPartitionReassignments from "./46-list-partition-reassignments.ts";
import describeClientQuotas from "./48-describe-client-quotas.ts";
import alterClientQuotas from "./49-alter-client-quotas.ts";
import describeQuorum from "./55-describe-quorum.ts";
import getTelemetrySubscriptions from "./71-get-telemetry-subscriptions.ts";
import pushTelemetry from "./72-push-telemetry.ts";
handlers.push(electLeaders, alterPartitionReassignments, listPartitionReassignments, describeClientQuotas, alterClientQuotas, describeQuorum);
handlers.push(getTelemetrySubscriptions, pushTelemetry);

export function buildRegistry(list: Handler<any>[] = handlers): Registry {
  const registry = new Map<number, Handler>();
  for (const h of list) {
    if (registry.has(h.api.key)) throw new Error(`two handlers for API key ${h.api.key}`);
    registry.set(h.api.key, h);
  }
  return registry;
}

export const registry = buildRegistry();
