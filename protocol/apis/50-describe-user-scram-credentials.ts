// DescribeUserScramCredentials (key 50), v0 (the only version), flexible. A null or empty user list means
// every user; per user, the mechanisms (1 = SCRAM-SHA-256, 2 = SCRAM-SHA-512) and iteration counts.
import { api, f, list } from "../define.ts";

export const DescribeUserScramCredentials = api({
  key: 50,
  name: "DescribeUserScramCredentials",
  versions: [0, 0],
  flexible: 0,
  request: [
    f("users", list(f("name", "string")), { nullable: true }),
  ],
  response: [
    f("throttleTimeMs", "int32"),
    f("errorCode", "int16"),
    f("errorMessage", "string", { nullable: true }),
    f("results", list(
      f("user", "string"),
      f("errorCode", "int16"),
      f("errorMessage", "string", { nullable: true }),
      f("credentialInfos", list(
        f("mechanism", "int8"),
        f("iterations", "int32"),
      )),
    )),
  ],
});
