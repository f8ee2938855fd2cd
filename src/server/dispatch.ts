// Request dispatch: header → handler → typed request → typed response → frame.
// Unknown API keys, unsupported versions (other than ApiVersions) and unreadable headers close the
// connection, as Kafka does; a readable header with a malformed body gets INVALID_REQUEST.
// Byte-rate quotas (src/quotas) are charged here: a Produce request's size, a Fetch response's size; a
// client over its quota gets throttle_time_ms and its connection is muted for that long.
import { requestCodec, responseCodec } from "../../protocol/codec.ts";
import { ErrorCode, ProtocolError } from "../../protocol/errors.ts";
import { API_VERSIONS_KEY, beginResponse, endFrame, endFrameParts, readRequestHeader, skipHeaderTags, type RequestHeader } from "../../protocol/header.ts";
import { Reader } from "../../protocol/reader.ts";
import type { ApiDefinition, Field } from "../../protocol/types.ts";
import { Writer } from "../../protocol/writer.ts";
import { NO_RESPONSE, apiVersionsList, type BrokerContext, type ListenerContext, type Registry, type RequestContext, type Session } from "../handlers/handler.ts";
import type { Logger } from "../log.ts";
import { DROP, connectionFaults, interceptRequest, type Outcome } from "../faults/intercept.ts";
import { requestAuthorizer } from "../acl/authorizer.ts";
import type { Responder, ResponseFrame } from "./connection.ts";
import type { QuotaEnforcer } from "../quotas/client-quotas.ts";

/** What dispatch may do to the connection a request came on. */
export interface Channel {
  /** stop reading the connection's requests for `ms` (quota throttling) */
  mute(ms: number): void;
}

const PRODUCE_KEY = 0;
const FETCH_KEY = 1;

/**
 * Byte-rate quotas on Produce and Fetch, as Kafka applies them: the Fetch's max_bytes is capped at what
 * the quota allows in its window (before the handler); after it, the request (Produce) or the response
 * (Fetch) is charged. Over the quota: throttle_time_ms in the response and the connection muted; a
 * throttled Fetch is answered empty and not charged (kept as it is when it belongs to a fetch session,
 * whose state the handler already moved on).
 */
function quotaCheck(quotas: QuotaEnforcer, def: ApiDefinition, principal: string, clientId: string, frameBytes: number, channel: Channel | undefined) {
  if (!quotas.engaged || (def.key !== PRODUCE_KEY && def.key !== FETCH_KEY)) return null;
  return {
    before(request: any): void {
      if (def.key === FETCH_KEY) request.maxBytes = Math.min(request.maxBytes, quotas.maxValueInWindow("consumer_byte_rate", principal, clientId));
    },
    after(body: unknown, encode: (body: unknown) => Uint8Array): Uint8Array | null {
      let throttleMs: number;
      let frame: Uint8Array | null = null;
      if (def.key === PRODUCE_KEY) {
        throttleMs = quotas.record("producer_byte_rate", principal, clientId, frameBytes);
        if (body !== NO_RESPONSE) {
          if (throttleMs > 0) (body as { throttleTimeMs?: number }).throttleTimeMs = throttleMs;
          frame = encode(body);
        }
      } else {
        frame = encode(body);
        throttleMs = quotas.record("consumer_byte_rate", principal, clientId, frame.length);
        if (throttleMs > 0) {
          quotas.unrecord("consumer_byte_rate", principal, clientId, frame.length);
          const b = body as { sessionId?: number; throttleTimeMs?: number };
          frame = encode(!b.sessionId ? { throttleTimeMs: throttleMs, errorCode: 0, sessionId: 0, responses: [] } : { ...b, throttleTimeMs: throttleMs });
        }
      }
      if (throttleMs > 0) channel?.mute(throttleMs);
      return frame;
    },
  };
}

export function encodeResponse(def: ApiDefinition, version: number, correlationId: number, body: unknown): Uint8Array {
  const w = new Writer(256);
  const flexible = version >= def.flexible;
  const sizeAt = beginResponse(w, correlationId, def.key, flexible);
  responseCodec(def, version).encode(w, body as never);
  return endFrame(w, sizeAt);
}

/** Like encodeResponse, but large record data stays shared with the log (parts written back to back). */
export function encodeResponseFrame(def: ApiDefinition, version: number, correlationId: number, body: unknown): ResponseFrame {
  const w = new Writer(256, { share: true });
  const sizeAt = beginResponse(w, correlationId, def.key, version >= def.flexible);
  responseCodec(def, version).encode(w, body as never);
  return endFrameParts(w, sizeAt);
}

function hasTopLevelError(fields: readonly Field[]): boolean {
  return fields.some((f) => f.name === "errorCode");
}

/** A response carrying only a top-level error code, for a request whose body could not be read. */
function errorBody(fields: readonly Field[], code: number): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const f of fields) if (f.name === "errorCode") body.errorCode = code;
  return body;
}

export function createResponder(
  broker: BrokerContext,
  registry: Registry,
  log: Logger,
  peer: string,
  listener: ListenerContext,
  session: Session,
  channel?: Channel,
): Responder {
  const faultState = connectionFaults();
  const authz = requestAuthorizer(broker.authorizer, session, log);
  const authorize = authz.authorize;
  return (frame) => {
    const startedAt = performance.now();
    let header: RequestHeader;
    const r = new Reader(frame);
    try {
      header = readRequestHeader(r);
    } catch (e) {
      log.warn(`closing connection from ${peer}: unreadable request header (${(e as Error).message})`);
      return "close";
    }
    const handler = registry.get(header.apiKey);
    if (!handler) {
      log.warn(`closing connection from ${peer}: unknown API key ${header.apiKey} (client ${header.clientId})`);
      return "close";
    }
    const def = handler.api;
    const [min, max] = def.versions;
    if (header.apiVersion < min || header.apiVersion > max) {
      if (header.apiKey === API_VERSIONS_KEY) {
        // KIP-511: answer in v0 with the error and the full list, so the client can pick a version.
        const body = { errorCode: ErrorCode.UNSUPPORTED_VERSION, apiKeys: apiVersionsList(registry, broker) };
        return { response: encodeResponse(def, 0, header.correlationId, body) };
      }
      log.warn(`closing connection from ${peer}: ${def.name} v${header.apiVersion} is not supported (v${min}-v${max})`);
      return "close";
    }
    const version = header.apiVersion;
    const metrics = broker.metrics.requests[header.apiKey];
    let request: unknown;
    try {
      if (version >= def.flexible) skipHeaderTags(r);
      request = requestCodec(def, version).decode(r);
    } catch (e) {
      if (!(e instanceof ProtocolError) && !(e instanceof RangeError)) throw e;
      // Where the response has a top-level error code the client learns INVALID_REQUEST; otherwise
      // there is no way to say it in protocol terms, and Kafka's answer is to close the connection.
      if (!hasTopLevelError(def.response)) {
        log.warn(`closing connection from ${peer}: malformed ${def.name} v${version} request (client ${header.clientId}): ${e.message}`);
        return "close";
      }
      log.warn(`malformed ${def.name} v${version} request from ${peer} (client ${header.clientId}): ${e.message}`);
      metrics?.recordFailure(version, startedAt, ErrorCode.INVALID_REQUEST);
      return { response: encodeResponse(def, version, header.correlationId, errorBody(def.response, ErrorCode.INVALID_REQUEST)) };
    }
    const ctx: RequestContext = { broker, version, header, peer, listener, session, authorize, authz };
    const quota = quotaCheck(broker.quotas, def, session.principal, header.clientId ?? "", frame.length, channel);
    quota?.before(request);
    const encode = (body: unknown): Uint8Array => encodeResponse(def, version, header.correlationId, body);
    const finish = (body: unknown): ResponseFrame | null => {
      // Without a quota to charge, record data stays shared with the log (no copy into the frame).
      const response = quota ? quota.after(body, encode) : body === NO_RESPONSE ? null : encodeResponseFrame(def, version, header.correlationId, body);
      metrics?.record(version, startedAt, response === null ? null : body);
      return response;
    };
    const failed = (e: unknown): Uint8Array | "close" => {
      log.error(`${def.name} v${version} from ${peer} failed: ${(e as Error).stack ?? e}`);
      metrics?.recordFailure(version, startedAt, ErrorCode.UNKNOWN_SERVER_ERROR);
      if (!hasTopLevelError(def.response)) return "close";
      return encodeResponse(def, version, header.correlationId, errorBody(def.response, ErrorCode.UNKNOWN_SERVER_ERROR));
    };
    if (broker.faults.engaged) {
      // Fault injection (src/faults): the only cost to the hot path is the branch above.
      const out = interceptRequest(broker.faults, faultState, {
        def, version, clientId: header.clientId, request, frame,
        run: (req) => handler.handle(req as never, ctx),
        failed: (e) => {
          log.error(`${def.name} v${version} from ${peer} failed: ${(e as Error).stack ?? e}`);
          return hasTopLevelError(def.response) ? errorBody(def.response, ErrorCode.UNKNOWN_SERVER_ERROR) : DROP;
        },
      });
      const settle = (o: Outcome): ResponseFrame | null | "close" => (o === DROP ? "close" : finish(o));
      if (out instanceof Promise) return { response: out.then(settle) };
      return out === DROP ? "close" : { response: finish(out) };
    }
    try {
      const out = handler.handle(request as never, ctx);
      // An asynchronous handler (or its response's encoding) failing is answered like a synchronous one.
      if (out instanceof Promise) return { response: out.then(finish).catch(failed) };
      return { response: finish(out) };
    } catch (e) {
      const response = failed(e);
      return response === "close" ? "close" : { response };
    }
  };
}
