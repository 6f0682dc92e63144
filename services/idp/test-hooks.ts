import type { IncomingMessage, ServerResponse } from "node:http";
import type Provider from "oidc-provider";
import type { Client } from "oidc-provider";
import type { ExtraClaims } from "./provider";

/**
 * Test-only HTTP hooks, served only with `IDP_TEST_HOOKS=1` (the end-to-end suite sets it; nothing else should).
 * They let a test see what the IdP issued, for instance to prove that none of those tokens ever reaches the
 * browser, and play the parts of an IdP administrator and of an unreliable network, without reaching into the web
 * app. Every answer carries `cache-control: no-store` and, when it has a body, is JSON. A missing or malformed
 * parameter is a 400, an unknown hook a 404, a wrong method a 405 with `allow`.
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
 * - `GET /__test/issued`: `{"accessTokens", "refreshTokens", "idTokens"}`, every token string the token endpoint
 *   issued since start, oldest first, so that a test can prove none of them was ever written anywhere it should
 *   not be (the servers' logs, for instance).
 */

export const TEST_HOOKS_PREFIX = "/__test/";

export interface IssuedTokens {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
}

export interface GrantStats {
  refreshGrants: number;
  codeGrants: number;
  refreshFailures: number;
}

export interface IssuedTokenLists {
  accessTokens: string[];
  refreshTokens: string[];
  idTokens: string[];
}

export const PADDING_CLAIM = "test_padding";
/** Far beyond any cookie budget, and still a token oidc-provider signs in a moment. */
const MAX_PADDING_BYTES = 64 * 1024;

export interface ClaimPadding extends ExtraClaims {
  set(sub: string, bytes: number): void;
}

/** The `big-claims` hook's state; the provider reads it through `ExtraClaims` when it issues a token. */
export function createClaimPadding(): ClaimPadding {
  const bytesBySub = new Map<string, number>();
  return {
    names: [PADDING_CLAIM],
    for(sub) {
      const bytes = bytesBySub.get(sub);
      return bytes ? { [PADDING_CLAIM]: "x".repeat(bytes) } : undefined;
    },
    set(sub, bytes) {
      if (bytes === 0) bytesBySub.delete(sub);
      else bytesBySub.set(sub, bytes);
    },
  };
}

interface Reply {
  status: number;
  body?: unknown;
}

type Hook = (params: URLSearchParams) => Promise<Reply>;

// Not declared by @types/oidc-provider, but it is the delivery oidc-provider's end-session endpoint uses.
type BackchannelLogout = (this: Client, sub: string, sid: string | undefined) => Promise<void>;

const zeroStats = (): GrantStats => ({ refreshGrants: 0, codeGrants: 0, refreshFailures: 0 });

const badRequest = (error: string): Reply => ({ status: 400, body: { error } });

function addTo<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  const values = index.get(key);
  if (values) values.add(value);
  else index.set(key, new Set([value]));
}

export function createTestHooks(provider: Provider, padding: ClaimPadding) {
  const latestBySub = new Map<string, IssuedTokens>();
  const issued: IssuedTokenLists = { accessTokens: [], refreshTokens: [], idTokens: [] };
  const statsBySub = new Map<string, GrantStats>();
  const totals = zeroStats();
  const subByRefreshToken = new Map<string, string>();
  const grantIdsBySub = new Map<string, Set<string>>();
  // Session ids rotate, and oidc-provider drops the old id without an event: stale ids simply no longer resolve.
  const sessionIdsBySub = new Map<string, Set<string>>();
  let down = false;

  const count = (sub: string | undefined, counter: keyof GrantStats) => {
    totals[counter] += 1;
    if (sub === undefined) return;
    const stats = statsBySub.get(sub) ?? zeroStats();
    stats[counter] += 1;
    statsBySub.set(sub, stats);
  };

  provider.on("grant.success", (ctx) => {
    const sub = ctx.oidc.entities.Account?.accountId;
    const grantType = ctx.oidc.params?.grant_type;
    if (grantType === "refresh_token") count(sub, "refreshGrants");
    if (grantType === "authorization_code") count(sub, "codeGrants");

    const body = ctx.body as Record<string, unknown> | undefined;
    if (typeof body?.access_token === "string") issued.accessTokens.push(body.access_token);
    if (typeof body?.refresh_token === "string") issued.refreshTokens.push(body.refresh_token);
    if (typeof body?.id_token === "string") issued.idTokens.push(body.id_token);
    if (!sub || typeof body?.access_token !== "string") return;
    const tokens: IssuedTokens = { access_token: body.access_token };
    if (typeof body.refresh_token === "string") {
      tokens.refresh_token = body.refresh_token;
      subByRefreshToken.set(body.refresh_token, sub);
    }
    if (typeof body.id_token === "string") tokens.id_token = body.id_token;
    latestBySub.set(sub, tokens);
  });

  provider.on("grant.error", (ctx) => {
    const params = ctx.oidc.params;
    if (params?.grant_type !== "refresh_token") return;
    const presented = params.refresh_token;
    count(typeof presented === "string" ? subByRefreshToken.get(presented) : undefined, "refreshFailures");
  });

  provider.on("grant.saved", (grant) => {
    if (grant.accountId) addTo(grantIdsBySub, grant.accountId, grant.jti);
  });
  provider.on("grant.destroyed", (grant) => {
    if (grant.accountId) grantIdsBySub.get(grant.accountId)?.delete(grant.jti);
  });
  provider.on("session.saved", (session) => {
    if (session.accountId) addTo(sessionIdsBySub, session.accountId, session.jti);
  });
  provider.on("session.destroyed", (session) => {
    if (session.accountId) sessionIdsBySub.get(session.accountId)?.delete(session.jti);
  });

  async function revokeGrant(grantId: string): Promise<void> {
    await Promise.all([
      provider.AccessToken.revokeByGrantId(grantId),
      provider.RefreshToken.revokeByGrantId(grantId),
      provider.AuthorizationCode.revokeByGrantId(grantId),
    ]);
    const grant = await provider.Grant.find(grantId);
    await grant?.destroy();
  }

  // Not async: a missing method must fail the hook, not pass for a refused delivery.
  function backchannelLogout(client: Client, sub: string, sid: string | undefined): Promise<void> {
    const deliver = client.backchannelLogout;
    if (typeof deliver !== "function") {
      throw new Error("oidc-provider's Client no longer has backchannelLogout: the end-session hook needs updating");
    }
    return (deliver as BackchannelLogout).call(client, sub, sid);
  }

  async function endSessions(sub: string, namesSession: boolean): Promise<Reply> {
    const result = { sessions: 0, delivered: 0, failed: 0 };
    const sessionIds = sessionIdsBySub.get(sub) ?? new Set<string>();
    for (const sessionId of [...sessionIds]) {
      const session = await provider.Session.find(sessionId);
      if (session?.accountId !== sub) {
        sessionIds.delete(sessionId);
        continue;
      }
      const authorizations = Object.entries(session.authorizations ?? {});
      const clients = await Promise.all(authorizations.map(([clientId]) => provider.Client.find(clientId)));
      const deliveries = await Promise.allSettled(
        clients.flatMap((client) =>
          client?.backchannelLogoutUri ? [backchannelLogout(client, sub, namesSession ? session.sidFor(client.clientId) : undefined)] : [],
        ),
      );
      for (const delivery of deliveries) {
        if (delivery.status === "fulfilled") result.delivered += 1;
        else result.failed += 1;
      }
      await Promise.all(
        authorizations.map(async ([, { grantId, persistsLogout }]) => {
          if (grantId && !persistsLogout) await revokeGrant(grantId);
        }),
      );
      await session.destroy();
      result.sessions += 1;
    }
    return { status: 200, body: result };
  }

  const requireSub = (params: URLSearchParams, hook: (sub: string) => Promise<Reply>): Promise<Reply> => {
    const sub = params.get("sub");
    return sub ? hook(sub) : Promise.resolve(badRequest("sub is required"));
  };

  const hooks = new Map<string, Partial<Record<string, Hook>>>([
    [
      "tokens",
      {
        GET: (params) =>
          requireSub(params, async (sub) => {
            const tokens = latestBySub.get(sub);
            if (!tokens) return { status: 404, body: { error: "no tokens issued for this subject" } };
            return { status: 200, body: tokens };
          }),
      },
    ],
    [
      "stats",
      {
        GET: async (params) => {
          const sub = params.get("sub");
          if (sub === null) return { status: 200, body: totals };
          return { status: 200, body: statsBySub.get(sub) ?? zeroStats() };
        },
      },
    ],
    [
      "revoke",
      {
        POST: (params) =>
          requireSub(params, async (sub) => {
            await Promise.all([...(grantIdsBySub.get(sub) ?? [])].map(revokeGrant));
            return { status: 204 };
          }),
      },
    ],
    ["end-session", { POST: (params) => requireSub(params, (sub) => endSessions(sub, params.get("subject-only") !== "1")) }],
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
    ["issued", { GET: async () => ({ status: 200, body: issued }) }],
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
    if (!url.pathname.startsWith(TEST_HOOKS_PREFIX)) {
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
