// What the HTTP listener serves of its own: /metrics (Prometheus), /healthz (the process answers),
// /readyz (recovery done and the Kafka listeners accept connections; 503 before that and while shutting
// down), the web console (src/http/console-api.ts), fault injection (/faults, src/faults/http.ts) and
// /debug/heap (what the process's memory holds, by object type, like the JVM's `jmap -histo`).
import { heapStats } from "bun:jsc";
import pkg from "../../package.json" with { type: "json" };
import { anonymousMemory } from "../memory-trim.ts";
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
  routes.add("GET", "/debug/heap", (req) => {
    // ?gc=1: a full collection first, so that the counts are of live objects.
    if (new URL(req.url).searchParams.get("gc") === "1") Bun.gc(true);
    const h = heapStats();
    const types = Object.entries(h.objectTypeCounts).sort((a, b) => b[1] - a[1]).slice(0, 50);
    const body = {
      anonymousMemory: anonymousMemory(),
      heapSize: h.heapSize,
      heapCapacity: h.heapCapacity,
      extraMemorySize: h.extraMemorySize,
      objectCount: h.objectCount,
      protectedObjectCount: h.protectedObjectCount,
      objectTypeCounts: Object.fromEntries(types),
    };
    return new Response(JSON.stringify(body, null, 1) + "\n", { headers: { "content-type": "application/json", "cache-control": "no-store" } });
  });
  for (const method of ["GET", "POST", "DELETE"])
    for (const path of ["/faults", "/faults/*"]) routes.add(method, path, (req) => faults(req) ?? notFound());
  return { stop: () => sampler.stop() };
}
