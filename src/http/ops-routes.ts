// What the HTTP listener serves of its own: /metrics (Prometheus), /healthz (the process answers),
// /readyz (recovery done and the Kafka listeners accept connections; 503 before that and while shutting
// down), and the web console (src/http/console-api.ts).
import pkg from "../../package.json" with { type: "json" };
import type { BrokerContext, ListenerContext } from "../handlers/handler.ts";
import { registerConsole } from "./console-api.ts";
import { renderMetrics } from "./metrics-endpoint.ts";
import { CONTENT_TYPE } from "./prometheus.ts";
import type { HttpRoutes } from "./server.ts";
import { ThroughputSampler } from "./throughput.ts";

export const BROOK_VERSION: string = pkg.version;

/** Startup and shutdown state, set by startBroker. */
export interface OpsState {
  /** recovery is done and the Kafka listeners accept connections */
  ready: boolean;
  stopping: boolean;
  /** the first Kafka listener: the console's admin calls run as if they came in on it */
  listener: ListenerContext | null;
  /** every Kafka listener as bound (port 0 resolved) and advertised, for the console */
  listeners: { name: string; securityProtocol: string; host: string; port: number; advertised: string }[];
}

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
  return { stop: () => sampler.stop() };
}
