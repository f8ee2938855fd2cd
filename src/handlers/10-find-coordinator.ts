// FindCoordinator v0–v4. Brook is the coordinator of every group (key type 0) and every transactional id
// (key type 1), so the answer is always this broker's advertised address. v4 batches keys and answers
// per key. Another key type is INVALID_REQUEST, as in Kafka. While the broker shuts down the answer is
// COORDINATOR_NOT_AVAILABLE, so clients look again. With an authorizer a group key needs DESCRIBE on the
// group (GROUP_AUTHORIZATION_FAILED), a transactional id DESCRIBE on it (TRANSACTIONAL_ID_AUTHORIZATION_FAILED).
// Not served: v5+ (share groups, key type 2).
import { FindCoordinator } from "../../protocol/apis/10-find-coordinator.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { AclOperation, ResourceType } from "../acl/acl.ts";
import { handler } from "./handler.ts";

export default handler(FindCoordinator, (req, ctx) => {
  const { broker, version } = ctx;
  const answer = (key: string) => {
    let errorCode: number = ErrorCode.NONE;
    let errorMessage: string | null = null;
    if (req.keyType !== 0 && req.keyType !== 1) {
      errorCode = ErrorCode.INVALID_REQUEST;
      errorMessage = `Unknown coordinator type ${req.keyType}`;
    } else if (req.keyType === 0 && !ctx.authorize(AclOperation.DESCRIBE, ResourceType.GROUP, key)) {
      errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
      errorMessage = "Group authorization failed.";
    } else if (req.keyType === 1 && !ctx.authorize(AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, key)) {
      errorCode = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
      errorMessage = "Transactional Id authorization failed.";
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
