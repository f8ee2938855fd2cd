// AlterUserScramCredentials (key 51), v0 (the only version), flexible. Deletions name a user and
// mechanism; upsertions carry the client-side salt and salted password (Hi(password, salt, iterations)),
// never the password.
import { api, f, list } from "../define.ts";

export const AlterUserScramCredentials = api({
  key: 51,
  name: "AlterUserScramCredentials",
  versions: [0, 0],
  flexible: 0,
  request: [
    f("deletions", list(
      f("name", "string"),
      f("mechanism", "int8"),
    )),
    f("upsertions", list(
      f("name", "string"),
      f("mechanism", "int8"),
      f("iterations", "int32"),
      f("salt", "bytes"),
      f("saltedPassword", "bytes"),
    )),
  ],
  response: [
    f("throttleTimeMs", "int32"),
    f("results", list(
      f("user", "string"),
      f("errorCode", "int16"),
      f("errorMessage", "string", { nullable: true }),
    )),
  ],
});
