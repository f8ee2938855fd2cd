// The handler registry. ApiVersions is built from it, so registering a handler is what makes an API
// (and its version range) visible to clients.
import type { Registry } from "../server/dispatch.ts";
import type { Handler } from "./handler.ts";
import produce from "./00-produce.ts";
import fetch from "./01-fetch.ts";
import listOffsets from "./02-list-offsets.ts";
import metadata from "./03-metadata.ts";
import apiVersions from "./18-api-versions.ts";
import createTopics from "./19-create-topics.ts";
import deleteTopics from "./20-delete-topics.ts";
import initProducerId from "./22-init-producer-id.ts";

export const handlers: Handler<any>[] = [produce, fetch, listOffsets, metadata, apiVersions, createTopics, deleteTopics, initProducerId];

export function buildRegistry(list: Handler<any>[] = handlers): Registry {
  const registry: Registry = new Map();
  for (const h of list) {
    if (registry.has(h.api.key)) throw new Error(`two handlers for API key ${h.api.key}`);
    registry.set(h.api.key, h);
  }
  return registry;
}

export const registry = buildRegistry();
