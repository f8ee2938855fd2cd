// Fault injection over HTTP, for tests in any language. JSON in and out:
//   POST   /faults        a fault spec (or an array of them) → 201 with the fault(s) as listed
//   GET    /faults        → 200 { faults: [...] } with counts (fired, matched), active, ended
//   GET    /faults/ID     → 200 the fault, or 404
//   DELETE /faults        → 200 { cleared: n }
//   DELETE /faults/ID     → 200 { cleared: 1 }, or 404
// A bad spec answers 400 { error }. faultRoutes() returns a route function for Brook's HTTP listener:
// it answers requests under the prefix and returns null for anything else.
import { FaultSpecError, type FaultHandle, type FaultInjector, type FaultSpec } from "./injector.ts";

export type Route = (req: Request) => Response | Promise<Response> | null;

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body, null, 2) + "\n", { status, headers: { "content-type": "application/json; charset=utf-8" } });

export function faultRoutes(faults: FaultInjector, prefix = "/faults"): Route {
  return (req) => {
    const path = new URL(req.url).pathname.replace(/\/+$/, "");
    if (path !== prefix && !path.startsWith(prefix + "/")) return null;
    const rest = path.slice(prefix.length + 1);
    if (rest === "") {
      switch (req.method) {
        case "GET":
          return json(200, { faults: faults.list() });
        case "POST":
          return inject(faults, req);
        case "DELETE":
          return json(200, { cleared: faults.clear() });
      }
      return json(405, { error: `${req.method} ${prefix}: use GET, POST or DELETE` });
    }
    if (!/^\d+$/.test(rest)) return json(404, { error: `no such fault: ${rest}` });
    const id = Number(rest);
    if (req.method === "GET") {
      const f = faults.get(id);
      return f ? json(200, f) : json(404, { error: `no such fault: ${id}` });
    }
    if (req.method === "DELETE") {
      const n = faults.clear(id);
      return n ? json(200, { cleared: n }) : json(404, { error: `no such fault: ${id}` });
    }
    return json(405, { error: `${req.method} ${prefix}/${id}: use GET or DELETE` });
  };
}

async function inject(faults: FaultInjector, req: Request): Promise<Response> {
  let body: unknown;
  try {
    body = await req.json();
  } catch {
    return json(400, { error: "the body must be a JSON fault spec, or an array of them" });
  }
  const specs = Array.isArray(body) ? body : [body];
  const made: FaultHandle[] = [];
  try {
    for (const s of specs) made.push(faults.inject(s as FaultSpec));
  } catch (e) {
    for (const h of made) faults.clear(h.id); // all or nothing
    if (e instanceof FaultSpecError) return json(400, { error: e.message });
    throw e;
  }
  const infos = made.map((h) => h.info());
  return json(201, Array.isArray(body) ? infos : infos[0]);
}
