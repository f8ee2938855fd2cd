// DescribeLogDirs (key 35), v0–v4, the full range. A null topic list means every partition. v2 is
// flexible, v3 adds a top-level error code, v4 the volume's total and usable bytes.
import { api, arr, f, list } from "../define.ts";

export const DescribeLogDirs = api({
  key: 35,
  name: "DescribeLogDirs",
  versions: [0, 4],
  flexible: 2,
  request: [
    f("topics", list(
      f("topic", "string"),
      f("partitions", arr("int32")),
    ), { nullable: true }),
  ],
  response: [
    f("throttleTimeMs", "int32"),
    f("errorCode", "int16", { since: 3 }),
    f("results", list(
      f("errorCode", "int16"),
      f("logDir", "string"),
      f("topics", list(
        f("name", "string"),
        f("partitions", list(
          f("partitionIndex", "int32"),
          f("partitionSize", "int64"),
          f("offsetLag", "int64"),
          f("isFutureKey", "bool"),
        )),
      )),
      f("totalBytes", "int64", { since: 4, default: -1 }),
      f("usableBytes", "int64", { since: 4, default: -1 }),
    )),
  ],
});
