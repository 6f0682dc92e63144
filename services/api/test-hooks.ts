import type { Http2Bindings, HttpBindings } from "@hono/node-server";
import { createTestHooksGuard, TEST_HOOKS_HEADER, type TestHooksAccess } from "../shared/test-hooks-access";

/**
 * Test-only hooks, served only with `API_TEST_HOOKS=1` and `TEST_HOOKS_TOKEN` on loopback (the end-to-end suite
 * sets them). A request reaches a hook only with that token in `x-test-hooks-token` and a loopback `Host` with the
 * API's port (`../shared/test-hooks-access.ts`); any other is the API's, as if there were no hooks (its 404, or a
 * dropped connection during an outage).
 *
 * - `POST /__test/outage?down=1|0` (204), `GET /__test/outage` (`{"down": boolean}`): while down, every
 *   other request has its connection dropped with no response, so the BFF sees exactly what an
 *   unreachable API looks like.
 */

export const TEST_HOOKS_PREFIX = "/__test/";

type Fetch = (request: Request, env: HttpBindings | Http2Bindings) => Response | Promise<Response>;

const json = (status: number, body: unknown) => Response.json(body, { status, headers: { "cache-control": "no-store" } });

export function withTestHooks(fetch: Fetch, access: TestHooksAccess, port: number): Fetch {
  const allowed = createTestHooksGuard(access, [port]);
  let down = false;

  return (request, env) => {
    const url = new URL(request.url);
    const isHook = url.pathname.startsWith(TEST_HOOKS_PREFIX) && allowed(request.headers.get("host") ?? undefined, request.headers.get(TEST_HOOKS_HEADER) ?? undefined);
    if (!isHook) {
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
