// What a handler is: an API definition plus a function from a typed request to a typed response.
import type { RequestHeader } from "../../protocol/header.ts";
import type { ApiDefinition, RequestOf, ResponseOf } from "../../protocol/types.ts";
import type { Broker } from "../broker.ts";

/** Returned by a handler for requests that get no response at all (Produce with acks=0). */
export const NO_RESPONSE = Symbol("no response");

export interface RequestContext {
  broker: Broker;
  version: number;
  header: RequestHeader;
  /** "host:port" of the client, for log lines */
  peer: string;
}

export interface Handler<D extends ApiDefinition = ApiDefinition> {
  api: D;
  handle(
    request: RequestOf<D>,
    ctx: RequestContext,
  ): ResponseOf<D> | typeof NO_RESPONSE | Promise<ResponseOf<D> | typeof NO_RESPONSE>;
}

export function handler<D extends ApiDefinition>(api: D, handle: Handler<D>["handle"]): Handler<D> {
  return { api, handle };
}
