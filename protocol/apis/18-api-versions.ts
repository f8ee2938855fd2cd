// ApiVersions (key 18), v0–v4. v3 is flexible and carries the client's software name/version, and the
// response's tagged feature fields (KIP-584): the features this broker supports and the levels the
// cluster has finalized. v4 only changes what v3 leaves out: supported features whose minimum is 0.
// The response header is always v0.
import { api, f, list } from "../define.ts";

export const ApiVersions = api({
  key: 18,
  name: "ApiVersions",
  versions: [0, 4],
  flexible: 3,
  request: [
    f("clientSoftwareName", "string", { since: 3 }),
    f("clientSoftwareVersion", "string", { since: 3 }),
  ],
  response: [
    f("errorCode", "int16"),
    f("apiKeys", list(f("apiKey", "int16"), f("minVersion", "int16"), f("maxVersion", "int16"))),
    f("throttleTimeMs", "int32", { since: 1 }),
    f("supportedFeatures", list(f("name", "string"), f("minVersion", "int16"), f("maxVersion", "int16")), { since: 3, tag: 0 }),
    f("finalizedFeaturesEpoch", "int64", { since: 3, tag: 1, default: -1 }),
    f("finalizedFeatures", list(f("name", "string"), f("maxVersionLevel", "int16"), f("minVersionLevel", "int16")), { since: 3, tag: 2 }),
    f("zkMigrationReady", "bool", { since: 3, tag: 3, default: false }),
  ],
});
