// SaslHandshake (key 17), v0–v1, the full range, never flexible. The client names its mechanism and
// learns the enabled ones. After v0 the SASL tokens follow as bare size-prefixed frames; after v1 they
// travel in SaslAuthenticate requests.
import { api, arr, f, NONE } from "../define.ts";

export const SaslHandshake = api({
  key: 17,
  name: "SaslHandshake",
  versions: [0, 1],
  flexible: NONE,
  request: [
    f("mechanism", "string"),
  ],
  response: [
    f("errorCode", "int16"),
    f("mechanisms", arr("string")),
  ],
});
