// GetTelemetrySubscriptions (key 71), v0 (flexible): a client asks which of its metrics the broker wants
// pushed (KIP-714), and gets a client instance id on its first request.
import { api, arr, f } from "../define.ts";

export const GetTelemetrySubscriptions = api({
  key: 71,
  name: "GetTelemetrySubscriptions",
  versions: [0, 0],
  flexible: 0,
  request: [f("clientInstanceId", "uuid")],
  response: [
    f("throttleTimeMs", "int32"),
    f("errorCode", "int16"),
    f("clientInstanceId", "uuid"),
    f("subscriptionId", "int32"),
    f("acceptedCompressionTypes", arr("int8")),
    f("pushIntervalMs", "int32"),
    f("telemetryMaxBytes", "int32"),
    f("deltaTemporality", "bool"),
    f("requestedMetrics", arr("string")),
  ],
});
