// PushTelemetry (key 72), v0 (flexible): a client pushes its metrics (OpenTelemetry MetricsData, maybe
// compressed) for the subscription it was given (KIP-714).
import { api, f } from "../define.ts";

export const PushTelemetry = api({
  key: 72,
  name: "PushTelemetry",
  versions: [0, 0],
  flexible: 0,
  request: [
    f("clientInstanceId", "uuid"),
    f("subscriptionId", "int32"),
    f("terminating", "bool"),
    f("compressionType", "int8"),
    f("metrics", "bytes"),
  ],
  response: [
    f("throttleTimeMs", "int32"),
    f("errorCode", "int16"),
  ],
});
