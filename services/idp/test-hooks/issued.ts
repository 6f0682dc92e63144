/**
 * What the token endpoint issued and refused, recorded from oidc-provider's events: the latest tokens per subject,
 * every token string since start, and grant counters (see the `tokens`, `issued` and `stats` hooks in `index.ts`).
 */
import type Provider from "oidc-provider";

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
  /** The authorization codes redeemed at the token endpoint. */
  authorizationCodes: string[];
}

const zeroStats = (): GrantStats => ({ refreshGrants: 0, codeGrants: 0, refreshFailures: 0 });

export function recordIssued(provider: Provider) {
  const latestBySub = new Map<string, IssuedTokens>();
  const issued: IssuedTokenLists = { accessTokens: [], refreshTokens: [], idTokens: [], authorizationCodes: [] };
  const statsBySub = new Map<string, GrantStats>();
  const totals = zeroStats();
  const subByRefreshToken = new Map<string, string>();

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
    const code = ctx.oidc.params?.code;
    if (grantType === "authorization_code" && typeof code === "string") issued.authorizationCodes.push(code);

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

  return {
    /** The latest token response's tokens for `sub`, if any. */
    latest: (sub: string): IssuedTokens | undefined => latestBySub.get(sub),
    /** Every token issued since start, oldest first. */
    issued,
    /** The counters for `sub`, or over all subjects and requests. */
    stats: (sub: string | null): GrantStats => (sub === null ? totals : (statsBySub.get(sub) ?? zeroStats())),
  };
}
