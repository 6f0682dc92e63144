import type { Http2Bindings, HttpBindings } from "@hono/node-server";

/**
 * Test-only hooks, served only with `API_TEST_HOOKS=1` on loopback (the end-to-end suite sets it).
 *
 * - `POST /__test/outage?down=1|0` (204), `GET /__test/outage` (`{"down": boolean}`): while down, every
 *   other request has its connection dropped with no response, so the BFF sees exactly what an
 *   unreachable API looks like.
 */

export const TEST_HOOKS_PREFIX = "/__test/";

type Fetch = (request: Request, env: HttpBindings | Http2Bindings) => Response | Promise<Response>;

const json = (status: number, body: unknown) => Response.json(body, { status, headers: { "cache-control": "no-store" } });

export function withTestHooks(fetch: Fetch): Fetch {
  let down = false;

  return (request, env) => {
    const url = new URL(request.url);
    if (!url.pathname.startsWith(TEST_HOOKS_PREFIX)) {
      if (!down) return fetch(request, env);
      env.incoming.socket.destroy();
      // Never sent: the socket is gone. The adapter still wants a Response to settle the request.
      return new Response(null, { status: 503 });
    }
    if (url.pathname !== `${TEST_HOOKS_PREFIX}outage`) return json(404, { error: "not_found" });
    if (request.method === "GET") return json(200, { down });
    if (request.method !== "POST") return json(405, { error: "method_not_allowed" });
    const value = url.searchParams.get("down");
    if (value !== "0" && value !== "1") return json(400, { error: "down must be 1 or 0" });
    down = value === "1";
    return new Response(null, { status: 204, headers: { "cache-control": "no-store" } });
  };
}
