// DeleteTopics (key 20), v0–v6, the full range. Up to v5 topics are named in a plain string array; v6
// replaces it with a list of name/id pairs so topics may be deleted by id. v4 is flexible, v5 adds
// per-topic error messages.
import { api, arr, f, list } from "../define.ts";

export const DeleteTopics = api({
  key: 20,
  name: "DeleteTopics",
  versions: [0, 6],
  flexible: 4,
  request: [
    f("topics", list(
      f("name", "string", { nullable: true, default: null }),
      f("topicId", "uuid"),
    ), { since: 6 }),
    f("topicNames", arr("string"), { until: 5 }),
    f("timeoutMs", "int32"),
  ],
  response: [
    f("throttleTimeMs", "int32", { since: 1 }),
    f("responses", list(
      f("name", "string", { nullable: 6 }),
      f("topicId", "uuid", { since: 6 }),
      f("errorCode", "int16"),
      f("errorMessage", "string", { since: 5, nullable: true, default: null }),
    )),
  ],
});
