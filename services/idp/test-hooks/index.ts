import type { IncomingMessage, ServerResponse } from "node:http";
import type Provider from "oidc-provider";
import { TEST_HOOKS_HEADER } from "../../shared/test-hooks-access";
import { MAX_PADDING_BYTES, type ClaimPadding } from "./claim-padding";
import { recordIssued } from "./issued";
import { trackSubjectSessions } from "./subject-sessions";

/**
 * Test-only HTTP hooks, served only with `IDP_TEST_HOOKS=1` and `TEST_HOOKS_TOKEN` (the end-to-end suite and the
 * benchmark set them; nothing else should). They let a test see what the IdP issued, for instance to prove that
 * none of those tokens ever reaches the browser, and play the parts of an IdP administrator and of an unreliable
 * network, without reaching into the web app. A request reaches a hook only with that token in
 * `x-test-hooks-token` and a loopback `Host` (`../../shared/test-hooks-access.ts`); any other is handled as if
 * there were no hooks (oidc-provider's 404, or a dropped connection during an outage). Every hook's answer carries
 * `cache-control: no-store` and, when it has a body, is JSON. A missing or malformed parameter is a 400, an
 * unknown hook a 404, a wrong method a 405 with `allow`.
 *
 * - `GET /__test/tokens?sub=<sub>`: the tokens of the latest token-endpoint response for that subject; 404 when
 *   none was issued.
 *
 * - `GET /__test/stats?sub=<sub>`: `{"refreshGrants", "codeGrants", "refreshFailures"}` for that subject since
 *   start (zeros for a subject never seen); without `sub`, the same counters over all subjects and requests.
 *   Grants are counted on oidc-provider's `grant.success`, that is a 200 token response. A refresh failure is any
 *   error answer the token endpoint gives to a `refresh_token` grant request (`grant.error`): `invalid_grant` for
 *   a replayed, revoked, expired or unknown refresh token, but also `invalid_client`. It is attributed to a subject
 *   through the refresh token presented, looked up among those this process issued. That lookup is what makes it
 *   reliable: once a token is revoked oidc-provider can no longer say whose it was (`ctx.oidc.entities.Account` is
 *   only set while the token still exists, as on a replay). A token this process never issued (garbage, or one
 *   from before a restart) counts in the totals only. Not counted at all: `server_error` answers (oidc-provider
 *   emits `server_error` instead of `grant.error`) and requests dropped during an outage, which never reach it.
 *
 * - `POST /__test/revoke?sub=<sub>` (204): what an administrator revoking the user's consent does. Every grant
 *   oidc-provider saved for the subject is destroyed together with the refresh tokens and authorization codes
 *   issued under it, exactly as oidc-provider's own revocation does, so the next refresh fails with
 *   `invalid_grant`. The subject's IdP sessions stay: the next authorization request signs in without a password
 *   and creates a fresh grant. Access tokens already issued are JWTs and stay valid until they expire.
 *
 * - `POST /__test/end-session?sub=<sub>` (200): what the user signing out at the IdP does, for every IdP session of
 *   the subject. It follows oidc-provider's end-session confirmation (`lib/actions/end_session.js`, "sign out of
 *   all clients"): a back-channel logout token to each client of the session that registered a
 *   `backchannel_logout_uri`, delivered by the client model's own `backchannelLogout`, then the session's grants
 *   revoked and the session destroyed. It answers once every delivery has settled, with `{"sessions": <ended>,
 *   "delivered": <accepted with 200/204>, "failed": <attempted but refused or unreachable>}`. With no request
 *   context to pass, it does not emit `backchannel.success`/`backchannel.error`: `failed` is where a refused
 *   delivery shows. With `&subject-only=1` the logout tokens carry no `sid`, as from an IdP that ends every session
 *   of a user at once and names only the user.
 *
 * - `POST /__test/outage?down=1|0` (204), `GET /__test/outage` (`{"down": boolean}`): while down, every request
 *   that is not a hook has its connection destroyed before any response, so callers see a network error as if
 *   the IdP were unreachable (the connection is accepted and reset, not refused).
 *
 * - `POST /__test/big-claims?sub=<sub>&bytes=<n>` (204): every ID token and access token issued to the subject from
 *   now on carries an extra claim (`test_padding`) whose value is n characters long, as an IdP that puts large
 *   group lists or entitlements into its tokens does. `bytes=0`, or `DELETE /__test/big-claims?sub=<sub>` (204),
 *   stops it. Tokens already issued keep their size.
 *
 * - `GET /__test/issued`: `{"accessTokens", "refreshTokens", "idTokens", "authorizationCodes"}`, every token string the token endpoint
 *   issued since start, oldest first, so that a test can prove none of them was ever written anywhere it should
 *   not be (the servers' logs, for instance).
 */

export const TEST_HOOKS_PREFIX = "/__test/";

interface Reply {
  status: number;
  body?: unknown;
}

type Hook = (params: URLSearchParams) => Promise<Reply>;

const badRequest = (error: string): Reply => ({ status: 400, body: { error } });

const requireSub = (params: URLSearchParams, hook: (sub: string) => Promise<Reply>): Promise<Reply> => {
  const sub = params.get("sub");
  return sub ? hook(sub) : Promise.resolve(badRequest("sub is required"));
};

/** `allowed` tells a hook request from any other (see test-hooks-access.ts): the `Host` header and the token presented. */
export function createTestHooks(provider: Provider, padding: ClaimPadding, allowed: (host: string | undefined, token: string | undefined) => boolean) {
  const tokens = recordIssued(provider);
  const subjects = trackSubjectSessions(provider);
  let down = false;

  const hooks = new Map<string, Partial<Record<string, Hook>>>([
    [
      "tokens",
      {
        GET: (params) =>
          requireSub(params, async (sub) => {
            const latest = tokens.latest(sub);
            if (!latest) return { status: 404, body: { error: "no tokens issued for this subject" } };
            return { status: 200, body: latest };
          }),
      },
    ],
    ["stats", { GET: async (params) => ({ status: 200, body: tokens.stats(params.get("sub")) }) }],
    [
      "revoke",
      {
        POST: (params) =>
          requireSub(params, async (sub) => {
            await subjects.revokeGrants(sub);
            return { status: 204 };
          }),
      },
    ],
    [
      "end-session",
      { POST: (params) => requireSub(params, async (sub) => ({ status: 200, body: await subjects.endSessions(sub, params.get("subject-only") !== "1") })) },
    ],
    [
      "big-claims",
      {
        POST: (params) =>
          requireSub(params, async (sub) => {
            const raw = params.get("bytes") ?? "";
            const bytes = Number(raw);
            if (!/^\d+$/.test(raw) || bytes > MAX_PADDING_BYTES) {
              return badRequest(`bytes must be an integer from 0 to ${MAX_PADDING_BYTES}`);
            }
            padding.set(sub, bytes);
            return { status: 204 };
          }),
        DELETE: (params) =>
          requireSub(params, async (sub) => {
            padding.set(sub, 0);
            return { status: 204 };
          }),
      },
    ],
    ["issued", { GET: async () => ({ status: 200, body: tokens.issued }) }],
    [
      "outage",
      {
        GET: async () => ({ status: 200, body: { down } }),
        POST: async (params) => {
          const value = params.get("down");
          if (value !== "0" && value !== "1") return badRequest("down must be 1 or 0");
          down = value === "1";
          return { status: 204 };
        },
      },
    ],
  ]);

  return async function handleTestHook(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? "/", "http://idp.invalid");
    const token = req.headers[TEST_HOOKS_HEADER];
    if (!url.pathname.startsWith(TEST_HOOKS_PREFIX) || !allowed(req.headers.host, typeof token === "string" ? token : undefined)) {
      if (!down) return false;
      req.socket.destroy();
      return true;
    }

    const send = ({ status, body }: Reply) => {
      res.setHeader("cache-control", "no-store");
      if (body === undefined) {
        res.writeHead(status).end();
        return;
      }
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };

    const methods = hooks.get(url.pathname.slice(TEST_HOOKS_PREFIX.length));
    const hook = methods?.[req.method ?? ""];
    if (!methods) {
      send({ status: 404, body: { error: "not_found" } });
    } else if (!hook) {
      res.setHeader("allow", Object.keys(methods).join(", "));
      send({ status: 405, body: { error: "method_not_allowed" } });
    } else {
      send(await hook(url.searchParams));
    }
    return true;
  };
}
