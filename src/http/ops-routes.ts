// What the HTTP listener serves of its own: /metrics (Prometheus), /healthz (the process answers),
// /readyz (recovery done and the Kafka listeners accept connections; 503 before that and while shutting
// down), the web console (src/http/console-api.ts) and fault injection (/faults, src/faults/http.ts).
import pkg from "../../package.json" with { type: "json" };
import type { BrokerContext } from "../handlers/handler.ts";
import type { OpsState } from "./ops-state.ts";
import { faultRoutes } from "../faults/http.ts";
import { registerConsole } from "./console-api.ts";
import { renderMetrics } from "./metrics-endpoint.ts";
import { CONTENT_TYPE } from "./prometheus.ts";
import type { HttpRoutes } from "./server.ts";
import { ThroughputSampler } from "./throughput.ts";

export type { OpsState } from "./ops-state.ts";

export const BROOK_VERSION: string = pkg.version;

export function registerOpsRoutes(broker: BrokerContext & { readonly http: HttpRoutes }, state: OpsState): { stop(): void } {
  const routes = broker.http;
  const text = (body: string, status = 200) => new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" } });
  routes.add("GET", "/metrics", () =>
    new Response(renderMetrics({ broker, stopping: state.stopping, version: BROOK_VERSION }), {
      headers: { "content-type": CONTENT_TYPE, "cache-control": "no-store" },
    }),
  );
  routes.add("GET", "/healthz", () => text("ok\n"));
  routes.add("GET", "/readyz", () => (state.ready ? text("ready\n") : text(state.stopping ? "shutting down\n" : "starting\n", 503)));
  const sampler = new ThroughputSampler(broker.metrics);
  sampler.start();
  registerConsole(routes, broker, state, sampler);
  const faults = faultRoutes(broker.faults);
  const notFound = () => text("not found\n", 404);
  for (const method of ["GET", "POST", "DELETE"])
    for (const path of ["/faults", "/faults/*"]) routes.add(method, path, (req) => faults(req) ?? notFound());
  return { stop: () => sampler.stop() };
}
