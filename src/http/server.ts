// The HTTP listener (brook.http.listener): a small router over Bun.serve. Any module can add routes to
// the broker's table at any time, before or after the listener starts:
//
//   const off = broker.http.add("POST", "/faults", async (req, { params, url }) => Response.json(...));
//   broker.http.add("DELETE", "/faults/:id", (req, { params }) => ...);   // params.id, URL-decoded
//   broker.http.add("GET", "/files/*", (req, { params }) => ...);         // params["*"]: the rest of the path
//   off();                                                                // removes the route again
//
// The first route added for a method and path wins. HEAD is answered by GET routes. Unknown paths get
// 404, known paths with another method 405 (with Allow). A handler that throws gets a 500 with the
// message, and a log line.
import type { Server } from "bun";
import type { Logger } from "../log.ts";

export interface RouteMatch {
  /** `:name` segments (URL-decoded), and `*` for the rest of the path after a trailing `/*` */
  params: Record<string, string>;
  url: URL;
}

export type RouteHandler = (req: Request, match: RouteMatch) => Response | Promise<Response>;

interface Route {
  method: string;
  segments: string[];
  rest: boolean;
  handler: RouteHandler;
}

export class HttpRoutes {
  private readonly routes: Route[] = [];

  /** Adds a route; returns a function that removes it. */
  add(method: string, pattern: string, handler: RouteHandler): () => void {
    if (!pattern.startsWith("/")) throw new Error(`route pattern must start with "/": ${pattern}`);
    let segments = pattern.split("/").slice(1);
    const rest = segments[segments.length - 1] === "*";
    if (rest) segments = segments.slice(0, -1);
    const route: Route = { method: method.toUpperCase(), segments, rest, handler };
    this.routes.push(route);
    return () => {
      const i = this.routes.indexOf(route);
      if (i >= 0) this.routes.splice(i, 1);
    };
  }

  /** The route for a request, or the methods the path allows (405), or null (404). */
  match(method: string, pathname: string): { handler: RouteHandler; params: Record<string, string> } | { allow: string[] } | null {
    const parts = pathname.split("/").slice(1);
    const want = method === "HEAD" ? "GET" : method;
    const allow = new Set<string>();
    for (const r of this.routes) {
      const params = matchPath(r, parts);
      if (!params) continue;
      if (r.method === want) return { handler: r.handler, params };
      allow.add(r.method);
    }
    return allow.size > 0 ? { allow: [...allow] } : null;
  }
}

function matchPath(r: Route, parts: string[]): Record<string, string> | null {
  if (r.rest ? parts.length < r.segments.length : parts.length !== r.segments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < r.segments.length; i++) {
    const s = r.segments[i]!;
    let part: string;
    try {
      part = decodeURIComponent(parts[i]!);
    } catch {
      return null;
    }
    if (s.startsWith(":")) {
      if (part === "") return null;
      params[s.slice(1)] = part;
    } else if (s !== part) return null;
  }
  if (r.rest) params["*"] = parts.slice(r.segments.length).join("/");
  return params;
}

export interface HttpListener {
  readonly host: string;
  readonly port: number;
  /** "http://host:port" */
  readonly url: string;
  stop(): Promise<void>;
}

export function startHttpServer(host: string, port: number, routes: HttpRoutes, log: Logger): HttpListener {
  const server: Server<undefined> = Bun.serve({
    hostname: host === "" ? "0.0.0.0" : host,
    port,
    idleTimeout: 60, // seconds; Bun's default (10) could cut a long console search on a busy machine
    async fetch(req) {
      const url = new URL(req.url);
      const found = routes.match(req.method, url.pathname);
      if (found === null) return new Response("not found\n", { status: 404, headers: { "content-type": "text/plain" } });
      if ("allow" in found)
        return new Response("method not allowed\n", { status: 405, headers: { allow: found.allow.join(", "), "content-type": "text/plain" } });
      try {
        return await found.handler(req, { params: found.params, url });
      } catch (e) {
        log.error(`http ${req.method} ${url.pathname} failed: ${(e as Error).stack ?? e}`);
        return Response.json({ error: (e as Error).message ?? String(e) }, { status: 500 });
      }
    },
  });
  const bound = server.hostname ?? host;
  const shown = bound === "0.0.0.0" ? "127.0.0.1" : bound === "::" ? "::1" : bound;
  const hostPart = shown.includes(":") ? `[${shown}]` : shown;
  return {
    host: shown,
    port: server.port!,
    url: `http://${hostPart}:${server.port}`,
    stop: () => server.stop(true),
  };
}
