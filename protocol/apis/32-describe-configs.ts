// DescribeConfigs (key 32), v0–v4, the full range. v0 reports only "is default"; v1 replaces it with the
// config source and adds synonyms (the layers a value may come from, strongest first); v3 adds the
// config's data type and, on request, documentation; v4 is flexible. A null key list means every config.
import { api, arr, f, list } from "../define.ts";

export const DescribeConfigs = api({
  key: 32,
  name: "DescribeConfigs",
  versions: [0, 4],
  flexible: 4,
  request: [
    f("resources", list(
      f("resourceType", "int8"),
      f("resourceName", "string"),
      f("configurationKeys", arr("string"), { nullable: true }),
    )),
    f("includeSynonyms", "bool", { since: 1 }),
    f("includeDocumentation", "bool", { since: 3 }),
  ],
  response: [
    f("throttleTimeMs", "int32"),
    f("results", list(
      f("errorCode", "int16"),
      f("errorMessage", "string", { nullable: true }),
      f("resourceType", "int8"),
      f("resourceName", "string"),
      f("configs", list(
        f("name", "string"),
        f("value", "string", { nullable: true }),
        f("readOnly", "bool"),
        f("isDefault", "bool", { until: 0 }),
        f("configSource", "int8", { since: 1, default: -1 }),
        f("isSensitive", "bool"),
        f("synonyms", list(
          f("name", "string"),
          f("value", "string", { nullable: true }),
          f("source", "int8"),
        ), { since: 1 }),
        f("configType", "int8", { since: 3 }),
        f("documentation", "string", { since: 3, nullable: true }),
      )),
    )),
  ],
});
