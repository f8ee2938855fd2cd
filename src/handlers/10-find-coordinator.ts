// FindCoordinator v0–v4. Brook is the coordinator of every group (key type 0) and every transactional id
// (key type 1), so the answer is always this broker's advertised address. v4 batches keys and answers
// per key. Another key type is INVALID_REQUEST, as in Kafka. While the broker shuts down the answer is
// COORDINATOR_NOT_AVAILABLE, so clients look again. Not served: v5+ (share groups, key type 2).
import { FindCoordinator } from "../../protocol/apis/10-find-coordinator.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { handler } from "./handler.ts";

export default handler(FindCoordinator, (req, ctx) => {
  const { broker, version } = ctx;
  const answer = (key: string) => {
    let errorCode: number = ErrorCode.NONE;
    let errorMessage: string | null = null;
    if (req.keyType !== 0 && req.keyType !== 1) {
      errorCode = ErrorCode.INVALID_REQUEST;
      errorMessage = `Unknown coordinator type ${req.keyType}`;
    } else if (!broker.groups.isActive || broker.isStopping) {
      errorCode = ErrorCode.COORDINATOR_NOT_AVAILABLE;
      errorMessage = "The coordinator is shutting down";
    }
    const ok = errorCode === ErrorCode.NONE;
    return {
      key,
      nodeId: ok ? broker.nodeId : -1,
      host: ok ? ctx.listener.advertisedHost : "",
      port: ok ? ctx.listener.advertisedPort : -1,
      errorCode,
      errorMessage,
    };
  };
  if (version >= 4) return { throttleTimeMs: 0, coordinators: req.coordinatorKeys.map(answer) };
  const one = answer(req.key);
  return {
    throttleTimeMs: 0,
    errorCode: one.errorCode,
    errorMessage: one.errorMessage,
    nodeId: one.nodeId,
    host: one.host,
    port: one.port,
  };
});
