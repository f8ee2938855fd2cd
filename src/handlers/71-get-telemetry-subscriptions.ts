// GetTelemetrySubscriptions v0 (KIP-714): the metrics the broker wants this client instance to push, by
// the CLIENT_METRICS subscriptions matching it (src/telemetry/client-telemetry.ts); a new client instance
// id when the client sends the zero id; THROTTLING_QUOTA_EXCEEDED when asked again before the push
// interval. Accepted compressions are zstd, lz4, gzip, snappy; telemetry.max.bytes bounds a push; metrics
// are requested as deltas, as Kafka does.
import { GetTelemetrySubscriptions } from "../../protocol/apis/71-get-telemetry-subscriptions.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { ACCEPTED_COMPRESSION_TYPES } from "../telemetry/client-telemetry.ts";
import { handler, type RequestContext } from "./handler.ts";

/** What a subscription's `match` patterns look at, from the connection and its ApiVersions request. */
export function clientSelector(ctx: RequestContext) {
  return {
    clientId: ctx.header.clientId ?? "",
    softwareName: ctx.session.clientSoftwareName ?? "",
    softwareVersion: ctx.session.clientSoftwareVersion ?? "",
    sourceAddress: ctx.session.clientHost,
    sourcePort: "", // not kept per connection: a client_source_port pattern matches only an empty port
  };
}

export default handler(GetTelemetrySubscriptions, (req, ctx) => {
  const telemetry = ctx.broker.telemetry;
  const r = telemetry.getSubscriptions(req.clientInstanceId, clientSelector(ctx));
  if (r.errorCode !== ErrorCode.NONE) return { throttleTimeMs: 0, errorCode: r.errorCode, clientInstanceId: r.clientInstanceId };
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    clientInstanceId: r.clientInstanceId,
    subscriptionId: r.subscriptionId,
    acceptedCompressionTypes: ACCEPTED_COMPRESSION_TYPES,
    pushIntervalMs: r.pushIntervalMs,
    telemetryMaxBytes: telemetry.maxBytes,
    deltaTemporality: true,
    requestedMetrics: r.requestedMetrics,
  };
});
