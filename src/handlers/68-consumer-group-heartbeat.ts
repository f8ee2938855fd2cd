// ConsumerGroupHeartbeat v0–v1 (KIP-848): join, heartbeat and leave a consumer group; the coordinator
// assigns the partitions (src/group/consumer-rebalance.ts). v0 lets the coordinator generate the member
// id; v1 adds topic regex subscriptions and requires a client-generated member id (KIP-1082). Errors
// come with Kafka's messages (INVALID_REQUEST, UNSUPPORTED_ASSIGNOR, INVALID_REGULAR_EXPRESSION,
// GROUP_ID_NOT_FOUND, UNKNOWN_MEMBER_ID, FENCED_MEMBER_EPOCH, UNRELEASED_INSTANCE_ID, FENCED_INSTANCE_ID,
// GROUP_MAX_SIZE_REACHED). A classic group with members is converted when group.consumer.migration.policy
// allows (GROUP_ID_NOT_FOUND with the reason when it does not). Served and advertised only while
// group.coordinator.rebalance.protocols includes "consumer"; otherwise a request is answered
// UNSUPPORTED_VERSION, as Kafka does. With an authorizer the group needs READ (GROUP_AUTHORIZATION_FAILED)
// and every subscribed topic name DESCRIBE (TOPIC_AUTHORIZATION_FAILED), checked before the coordinator
// sees the request, as in Kafka. Topics a regex subscription resolves to are not filtered by ACLs (Kafka
// 4.1 does that).
import { ConsumerGroupHeartbeat } from "../../protocol/apis/68-consumer-group-heartbeat.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, ResourceType } from "../acl/acl.ts";
import { handler, type BrokerContext, type Handler } from "./handler.ts";

const served: Handler<typeof ConsumerGroupHeartbeat> = {
  ...handler(ConsumerGroupHeartbeat, (req, ctx) => {
    const groups = ctx.broker.groups;
    if (!groups.consumerSettings.enabled)
      return { throttleTimeMs: 0, errorCode: ErrorCode.UNSUPPORTED_VERSION, errorMessage: "The new consumer group protocol is not enabled." };
    if (!ctx.authorize(AclOperation.READ, ResourceType.GROUP, req.groupId))
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: null };
    if (req.subscribedTopicNames && !req.subscribedTopicNames.every((t) => ctx.authorize(AclOperation.DESCRIBE, ResourceType.TOPIC, t)))
      return { throttleTimeMs: 0, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null };
    return {
      throttleTimeMs: 0,
      ...groups.consumerGroupHeartbeat({
        groupId: req.groupId,
        memberId: req.memberId,
        memberEpoch: req.memberEpoch,
        instanceId: req.instanceId,
        rackId: req.rackId,
        rebalanceTimeoutMs: req.rebalanceTimeoutMs,
        subscribedTopicNames: req.subscribedTopicNames,
        subscribedTopicRegex: req.subscribedTopicRegex,
        serverAssignor: req.serverAssignor,
        topicPartitions: req.topicPartitions,
        clientId: ctx.header.clientId ?? "",
        clientHost: `/${ctx.session.clientHost}`,
        version: ctx.version,
      }),
    };
  }),
  enabled: (broker: BrokerContext) => broker.groups.consumerSettings.enabled,
};

export default served;
