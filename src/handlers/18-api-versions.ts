// ApiVersions v0–v3: the list is built from the handler registry, so Brook never advertises an API it
// cannot serve. Unsupported versions are answered by dispatch (v0 + UNSUPPORTED_VERSION + the list).
import { ApiVersions } from "../../protocol/apis/18-api-versions.ts";
import { apiVersionsList, handler } from "./handler.ts";

export default handler(ApiVersions, (_req, ctx) => ({
  errorCode: 0,
  apiKeys: apiVersionsList(ctx.broker.registry, ctx.broker),
  throttleTimeMs: 0,
}));
