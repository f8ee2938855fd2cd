// SaslAuthenticate (key 36), v0–v2, the full range. Carries one SASL token each way; v1 adds the session
// lifetime (KIP-368 re-authentication), v2 is flexible.
import { api, f } from "../define.ts";

export const SaslAuthenticate = api({
  key: 36,
  name: "SaslAuthenticate",
  versions: [0, 2],
  flexible: 2,
  request: [
    f("authBytes", "bytes"),
  ],
  response: [
    f("errorCode", "int16"),
    f("errorMessage", "string", { nullable: true }),
    f("authBytes", "bytes"),
    f("sessionLifetimeMs", "int64", { since: 1 }),
  ],
});
