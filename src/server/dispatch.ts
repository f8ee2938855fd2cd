// Request dispatch: header → handler → typed request → typed response → frame.
// Unknown API keys, unsupported versions (other than ApiVersions) and unreadable headers close the
// connection, as Kafka does; a readable header with a malformed body gets INVALID_REQUEST.
import { requestCodec, responseCodec } from "../../protocol/codec.ts";
import { ErrorCode, ProtocolError } from "../../protocol/errors.ts";
import { API_VERSIONS_KEY, beginResponse, endFrame, endFrameParts, readRequestHeader, skipHeaderTags, type RequestHeader } from "../../protocol/header.ts";
import { Reader } from "../../protocol/reader.ts";
import type { ApiDefinition, Field } from "../../protocol/types.ts";
import { Writer } from "../../protocol/writer.ts";
import { NO_RESPONSE, apiVersionsList, type BrokerContext, type ListenerContext, type Registry, type RequestContext, type Session } from "../handlers/handler.ts";
import type { Logger } from "../log.ts";
import type { Responder, ResponseFrame } from "./connection.ts";

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

export function createResponder(broker: BrokerContext, registry: Registry, log: Logger, peer: string, listener: ListenerContext, session: Session): Responder {
  return (frame) => {
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
        const body = { errorCode: ErrorCode.UNSUPPORTED_VERSION, apiKeys: apiVersionsList(registry) };
        return { response: encodeResponse(def, 0, header.correlationId, body) };
      }
      log.warn(`closing connection from ${peer}: ${def.name} v${header.apiVersion} is not supported (v${min}-v${max})`);
      return "close";
    }
    const version = header.apiVersion;
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
      return { response: encodeResponse(def, version, header.correlationId, errorBody(def.response, ErrorCode.INVALID_REQUEST)) };
    }
    const ctx: RequestContext = { broker, version, header, peer, listener, session };
    const finish = (body: unknown): ResponseFrame | null =>
      body === NO_RESPONSE ? null : encodeResponseFrame(def, version, header.correlationId, body);
    const failed = (e: unknown): ResponseFrame => {
      if (!hasTopLevelError(def.response)) throw e; // no way to say it: the connection logs it and closes
      log.error(`${def.name} v${version} from ${peer} failed: ${(e as Error).stack ?? e}`);
      return encodeResponse(def, version, header.correlationId, errorBody(def.response, ErrorCode.UNKNOWN_SERVER_ERROR));
    };
    try {
      const out = handler.handle(request as never, ctx);
      // An asynchronous handler (or its response's encoding) failing is answered like a synchronous one.
      if (out instanceof Promise) return { response: out.then(finish).catch(failed) };
      return { response: finish(out) };
    } catch (e) {
      if (!hasTopLevelError(def.response)) {
        log.error(`${def.name} v${version} from ${peer} failed: ${(e as Error).stack ?? e}`);
        return "close";
      }
      return { response: failed(e) };
    }
  };
}
