// ConsumerGroupDescribe v0 (KIP-848): state, epochs, assignor and members of consumer groups, with each
// member's subscription, current and target assignment (topic ids and names). A classic group or an
// unknown id gets GROUP_ID_NOT_FOUND with Kafka's message (clients then fall back to DescribeGroups).
// With an authorizer a group needs DESCRIBE (else GROUP_AUTHORIZATION_FAILED); its authorized operations
// are filled in when asked for.
// Served and advertised only while group.coordinator.rebalance.protocols includes "consumer".
import { ConsumerGroupDescribe } from "../../protocol/apis/69-consumer-group-describe.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, ResourceType } from "../acl/acl.ts";
import { handler, type BrokerContext, type Handler } from "./handler.ts";

const served: Handler<typeof ConsumerGroupDescribe> = {
  ...handler(ConsumerGroupDescribe, (req, ctx) => {
    const groups = ctx.broker.groups;
    if (!groups.consumerSettings.enabled)
      return { throttleTimeMs: 0, groups: req.groupIds.map((groupId) => ({ groupId, errorCode: ErrorCode.UNSUPPORTED_VERSION })) };
    return {
      throttleTimeMs: 0,
      groups: req.groupIds.map((id) => {
        if (!ctx.authorize(AclOperation.DESCRIBE, ResourceType.GROUP, id)) return { groupId: id, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
        const d = groups.describeConsumerGroup(id);
        return req.includeAuthorizedOperations && d.errorCode === ErrorCode.NONE
          ? { ...d, authorizedOperations: ctx.authz.authorizedOperations(ResourceType.GROUP, id) }
          : d;
      }),
    };
  }),
  enabled: (broker: BrokerContext) => broker.groups.consumerSettings.enabled,
};

export default served;
