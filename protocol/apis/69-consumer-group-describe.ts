// ConsumerGroupDescribe (key 69), v0: the members of KIP-848 consumer groups with their epochs,
// subscriptions, current and target assignments. Always flexible.
import { api, arr, f, list, struct } from "../define.ts";

const assignment = struct(
  f("topicPartitions", list(
    f("topicId", "uuid"),
    f("topicName", "string"),
    f("partitions", arr("int32")),
  )),
);

export const ConsumerGroupDescribe = api({
  key: 69,
  name: "ConsumerGroupDescribe",
  versions: [0, 0],
  flexible: 0,
  request: [
    f("groupIds", arr("string")),
    f("includeAuthorizedOperations", "bool"),
  ],
  response: [
    f("throttleTimeMs", "int32"),
    f("groups", list(
      f("errorCode", "int16"),
      f("errorMessage", "string", { nullable: true, default: null }),
      f("groupId", "string"),
      f("groupState", "string"),
      f("groupEpoch", "int32"),
      f("assignmentEpoch", "int32"),
      f("assignorName", "string"),
      f("members", list(
        f("memberId", "string"),
        f("instanceId", "string", { nullable: true, default: null }),
        f("rackId", "string", { nullable: true, default: null }),
        f("memberEpoch", "int32"),
        f("clientId", "string"),
        f("clientHost", "string"),
        f("subscribedTopicNames", arr("string")),
        f("subscribedTopicRegex", "string", { nullable: true, default: null }),
        f("assignment", assignment),
        f("targetAssignment", assignment),
      )),
      f("authorizedOperations", "int32", { default: -2147483648 }),
    )),
  ],
});
