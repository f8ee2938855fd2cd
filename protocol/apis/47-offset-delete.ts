// OffsetDelete (key 47), v0 (the only version; never flexible). Removes committed offsets of partitions the
// group is no longer subscribed to.
import { api, f, list, NONE } from "../define.ts";

export const OffsetDelete = api({
  key: 47,
  name: "OffsetDelete",
  versions: [0, 0],
  flexible: NONE,
  request: [
    f("groupId", "string"),
    f("topics", list(
      f("name", "string"),
      f("partitions", list(
        f("partitionIndex", "int32"),
      )),
    )),
  ],
  response: [
    f("errorCode", "int16"),
    f("throttleTimeMs", "int32"),
    f("topics", list(
      f("name", "string"),
      f("partitions", list(
        f("partitionIndex", "int32"),
        f("errorCode", "int16"),
      )),
    )),
  ],
});
