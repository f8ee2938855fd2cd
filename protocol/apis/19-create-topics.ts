// CreateTopics (key 19), v0–v7, the full range. v1 adds validate-only and error messages, v5 is flexible
// and echoes the resulting partition count, replication factor and configs (plus a tagged config error
// code), v7 returns topic ids. Replica assignments are accepted for compatibility; on a single broker
// they can only name this node.
import { api, arr, f, list } from "../define.ts";

export const CreateTopics = api({
  key: 19,
  name: "CreateTopics",
  versions: [0, 7],
  flexible: 5,
  request: [
    f("topics", list(
      f("name", "string"),
      f("numPartitions", "int32"),
      f("replicationFactor", "int16"),
      f("assignments", list(
        f("partitionIndex", "int32"),
        f("brokerIds", arr("int32")),
      )),
      f("configs", list(
        f("name", "string"),
        f("value", "string", { nullable: true }),
      )),
    )),
    f("timeoutMs", "int32", { default: 60000 }),
    f("validateOnly", "bool", { since: 1 }),
  ],
  response: [
    f("throttleTimeMs", "int32", { since: 2 }),
    f("topics", list(
      f("name", "string"),
      f("topicId", "uuid", { since: 7 }),
      f("errorCode", "int16"),
      f("errorMessage", "string", { since: 1, nullable: true }),
      f("topicConfigErrorCode", "int16", { since: 5, tag: 0 }),
      f("numPartitions", "int32", { since: 5, default: -1 }),
      f("replicationFactor", "int16", { since: 5, default: -1 }),
      f("configs", list(
        f("name", "string"),
        f("value", "string", { nullable: true }),
        f("readOnly", "bool"),
        f("configSource", "int8", { default: -1 }),
        f("isSensitive", "bool"),
      ), { since: 5, nullable: true }),
    )),
  ],
});
