// PushTelemetry v0 (KIP-714): a client instance's metrics, accepted into Brook's own receiver
// (src/telemetry/client-telemetry.ts: decoded, logged at debug level, kept per client instance for the
// metrics module) after Kafka's checks: INVALID_REQUEST (a zero id, or a push after one that said it was
// terminating), THROTTLING_QUOTA_EXCEEDED (before the push interval), UNKNOWN_SUBSCRIPTION_ID (the
// subscriptions changed: the client asks again), UNSUPPORTED_COMPRESSION_TYPE, TELEMETRY_TOO_LARGE.
import { PushTelemetry } from "../../protocol/apis/72-push-telemetry.ts";
import { clientSelector } from "./71-get-telemetry-subscriptions.ts";
import { handler } from "./handler.ts";

export default handler(PushTelemetry, (req, ctx) => {
  const r = ctx.broker.telemetry.push(req, clientSelector(ctx));
  if (r.message) ctx.broker.log.debug(`PushTelemetry from ${ctx.peer} (client ${ctx.header.clientId}): ${r.message}`);
  return { throttleTimeMs: 0, errorCode: r.errorCode };
});
