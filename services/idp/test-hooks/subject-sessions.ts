/**
 * A subject's grants and IdP sessions, tracked from oidc-provider's events, and the two things an administrator or
 * the user can do to them: revoke the grants (the `revoke` hook), or end the sessions with back-channel logout (the
 * `end-session` hook). See `index.ts` for what each does and answers.
 */
import type Provider from "oidc-provider";
import type { Client } from "oidc-provider";

// Not declared by @types/oidc-provider, but it is the delivery oidc-provider's end-session endpoint uses.
type BackchannelLogout = (this: Client, sub: string, sid: string | undefined) => Promise<void>;

export interface EndedIdpSessions {
  sessions: number;
  delivered: number;
  failed: number;
}

function addTo<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  const values = index.get(key);
  if (values) values.add(value);
  else index.set(key, new Set([value]));
}

// Not async: a missing method must fail the hook, not pass for a refused delivery.
function backchannelLogout(client: Client, sub: string, sid: string | undefined): Promise<void> {
  const deliver = client.backchannelLogout;
  if (typeof deliver !== "function") {
    throw new Error("oidc-provider's Client no longer has backchannelLogout: the end-session hook needs updating");
  }
  return (deliver as BackchannelLogout).call(client, sub, sid);
}

export function trackSubjectSessions(provider: Provider) {
  const grantIdsBySub = new Map<string, Set<string>>();
  // Session ids rotate, and oidc-provider drops the old id without an event: stale ids simply no longer resolve.
  const sessionIdsBySub = new Map<string, Set<string>>();

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

  return {
    /** Every grant saved for `sub` destroyed, with the tokens and codes issued under it. */
    async revokeGrants(sub: string): Promise<void> {
      await Promise.all([...(grantIdsBySub.get(sub) ?? [])].map(revokeGrant));
    },

    /** Every IdP session of `sub` ended, each client told by back-channel logout (naming the session, or not). */
    async endSessions(sub: string, namesSession: boolean): Promise<EndedIdpSessions> {
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
      return result;
    },
  };
}
