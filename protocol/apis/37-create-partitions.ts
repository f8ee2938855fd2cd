// CreatePartitions (key 37), v0–v3, the full range. Raises a topic's partition count; manual
// assignments (one broker list per new partition) may only name this broker. v2 is flexible.
import { api, arr, f, list } from "../define.ts";

export const CreatePartitions = api({
  key: 37,
  name: "CreatePartitions",
  versions: [0, 3],
  flexible: 2,
  request: [
    f("topics", list(
      f("name", "string"),
      f("count", "int32"),
      f("assignments", list(
        f("brokerIds", arr("int32")),
      ), { nullable: true }),
    )),
    f("timeoutMs", "int32"),
    f("validateOnly", "bool"),
  ],
  response: [
    f("throttleTimeMs", "int32"),
    f("results", list(
      f("name", "string"),
      f("errorCode", "int16"),
      f("errorMessage", "string", { nullable: true, default: null }),
    )),
  ],
});
