// ConsumerGroupDescribe v0 (KIP-848): state, epochs, assignor and members of consumer groups, with each
// member's subscription, current and target assignment (topic ids and names). A classic group or an
// unknown id gets GROUP_ID_NOT_FOUND with Kafka's message (clients then fall back to DescribeGroups).
// Authorized operations are not computed (Brook has no ACLs): the "not requested" sentinel is returned.
// Served and advertised only while group.coordinator.rebalance.protocols includes "consumer".
import { ConsumerGroupDescribe } from "../../protocol/apis/69-consumer-group-describe.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { handler, type BrokerContext, type Handler } from "./handler.ts";

const served: Handler<typeof ConsumerGroupDescribe> = {
  ...handler(ConsumerGroupDescribe, (req, ctx) => {
    const groups = ctx.broker.groups;
    if (!groups.consumerSettings.enabled)
      return { throttleTimeMs: 0, groups: req.groupIds.map((groupId) => ({ groupId, errorCode: ErrorCode.UNSUPPORTED_VERSION })) };
    return { throttleTimeMs: 0, groups: req.groupIds.map((id) => groups.describeConsumerGroup(id)) };
  }),
  enabled: (broker: BrokerContext) => broker.groups.consumerSettings.enabled,
};

export default served;
