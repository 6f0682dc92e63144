import type { Grant, KoaContextWithOIDC } from "oidc-provider";

/**
 * Consent for first-party clients. The web app is part of the same product as this IdP, so asking its users to
 * approve it would be noise: for a first-party client the grant is widened, just in time, to everything the
 * authorization request asks for (OpenID scopes, claims and the scopes of each requested resource server), and
 * oidc-provider's consent prompt never fires. Other clients keep oidc-provider's default behaviour.
 *
 * This plugs into oidc-provider's `loadExistingGrant` hook, which runs on every authorization request once the
 * end-user is known.
 */
export function createLoadExistingGrant(firstPartyClientIds: ReadonlySet<string>) {
  return async function loadExistingGrant(ctx: KoaContextWithOIDC): Promise<Grant | undefined> {
    const { oidc } = ctx;
    const client = oidc.client;
    const session = oidc.session;
    if (!client || !session) return undefined;

    const existingId = oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId);
    let grant = existingId ? await oidc.provider.Grant.find(existingId) : undefined;

    if (!firstPartyClientIds.has(client.clientId)) return grant;

    const accountId = session.accountId;
    if (!accountId) return grant;
    if (!grant || grant.accountId !== accountId || grant.clientId !== client.clientId) {
      grant = new oidc.provider.Grant({ accountId, clientId: client.clientId });
    }

    const requestedScopes = oidc.requestParamScopes;
    grant.addOIDCScope(oidc.requestParamOIDCScopes);
    grant.addOIDCClaims(oidc.requestParamClaims);
    for (const [indicator, resourceServer] of Object.entries(oidc.resourceServers ?? {})) {
      const scopes = [...requestedScopes].filter((scope) => resourceServer.scopes.has(scope));
      if (scopes.length > 0) grant.addResourceScope(indicator, scopes);
    }
    await grant.save();
    return grant;
  };
}
