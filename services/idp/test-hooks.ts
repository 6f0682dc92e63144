import type { IncomingMessage, ServerResponse } from "node:http";
import type Provider from "oidc-provider";

/**
 * Test-only HTTP hooks, served only with `IDP_TEST_HOOKS=1` (the end-to-end suite sets it; nothing else should).
 * They let a test see what the IdP issued, for instance to prove that none of those tokens ever reaches the
 * browser, without reaching into the web app.
 *
 * - `GET /__test/tokens?sub=<sub>`: the tokens of the latest token-endpoint response for that subject.
 *
 * New hooks belong here: oidc-provider's events (`grant.success` and friends) carry everything a counter or a
 * capture needs.
 */

export const TEST_HOOKS_PREFIX = "/__test/";

export interface IssuedTokens {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
}

export function createTestHooks(provider: Provider) {
  const latestBySub = new Map<string, IssuedTokens>();

  provider.on("grant.success", (ctx) => {
    const sub = ctx.oidc.entities.Account?.accountId;
    const body = ctx.body as Record<string, unknown> | undefined;
    if (!sub || typeof body?.access_token !== "string") return;
    const tokens: IssuedTokens = { access_token: body.access_token };
    if (typeof body.refresh_token === "string") tokens.refresh_token = body.refresh_token;
    if (typeof body.id_token === "string") tokens.id_token = body.id_token;
    latestBySub.set(sub, tokens);
  });

  return async function handleTestHook(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? "/", "http://idp.invalid");
    if (!url.pathname.startsWith(TEST_HOOKS_PREFIX)) return false;

    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify(body));
    };

    if (url.pathname !== `${TEST_HOOKS_PREFIX}tokens`) {
      send(404, { error: "not_found" });
    } else if (req.method !== "GET") {
      res.setHeader("allow", "GET");
      send(405, { error: "method_not_allowed" });
    } else {
      const sub = url.searchParams.get("sub");
      const tokens = sub ? latestBySub.get(sub) : undefined;
      if (tokens) send(200, tokens);
      else send(404, { error: "no tokens issued for this subject" });
    }
    return true;
  };
}
