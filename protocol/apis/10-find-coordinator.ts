// FindCoordinator (key 10), v0–v4. Brook is always its own group (and transaction) coordinator. v1 adds
// the key type and an error message, v3 is flexible, v4 batches several keys into one request and answers
// with a per-key coordinator list. Not served: v5+ (share groups).
import { api, arr, f, list } from "../define.ts";

export const FindCoordinator = api({
  key: 10,
  name: "FindCoordinator",
  versions: [0, 4],
  flexible: 3,
  request: [
    f("key", "string", { until: 3 }),
    f("keyType", "int8", { since: 1 }),
    f("coordinatorKeys", arr("string"), { since: 4 }),
  ],
  response: [
    f("throttleTimeMs", "int32", { since: 1 }),
    f("errorCode", "int16", { until: 3 }),
    f("errorMessage", "string", { since: 1, until: 3, nullable: true }),
    f("nodeId", "int32", { until: 3 }),
    f("host", "string", { until: 3 }),
    f("port", "int32", { until: 3 }),
    f("coordinators", list(
      f("key", "string"),
      f("nodeId", "int32"),
      f("host", "string"),
      f("port", "int32"),
      f("errorCode", "int16"),
      f("errorMessage", "string", { nullable: true }),
    ), { since: 4 }),
  ],
});
