// DeleteRecords (key 21), v0–v2, the full range. Moves each partition's log start offset forward to the
// given offset (-1 = the high watermark); the response carries the resulting low watermark. v1 only
// changes throttling behaviour, v2 is flexible.
import { api, f, list } from "../define.ts";

export const DeleteRecords = api({
  key: 21,
  name: "DeleteRecords",
  versions: [0, 2],
  flexible: 2,
  request: [
    f("topics", list(
      f("name", "string"),
      f("partitions", list(
        f("partitionIndex", "int32"),
        f("offset", "int64"),
      )),
    )),
    f("timeoutMs", "int32"),
  ],
  response: [
    f("throttleTimeMs", "int32"),
    f("topics", list(
      f("name", "string"),
      f("partitions", list(
        f("partitionIndex", "int32"),
        f("lowWatermark", "int64"),
        f("errorCode", "int16"),
      )),
    )),
  ],
});
