/**
 * A refresh at the configured IdP, traced (`tessera.refresh`) and counted by outcome (`tessera.refreshes`): the one
 * the middleware runs on a single instance, and the coordination's leader with `REDIS_URL`. Edge-safe.
 */
import { getConfig } from "@/lib/config";
import { configuredClient } from "@/lib/idp/client-auth";
import { RefreshError, refreshSession } from "@/lib/idp/token-refresh";
import type { Session } from "@/lib/session/session";
import { countRefresh, type RefreshOutcome } from "@/lib/telemetry/signals";
import { inSpan } from "@/lib/telemetry/spans";

export function idpRefresh(refresh: (session: Session) => Promise<Session> = configuredIdpRefresh): (session: Session) => Promise<Session> {
  return (session) =>
    inSpan("tessera.refresh", async (span) => {
      try {
        const successor = await refresh(session);
        countRefresh("refreshed");
        span?.setAttribute("tessera.outcome", "refreshed");
        return successor;
      } catch (error) {
        const { outcome, errorClass } = refreshOutcome(error);
        countRefresh(outcome, errorClass);
        span?.setAttribute("tessera.outcome", outcome);
        throw error;
      }
    });
}

function configuredIdpRefresh(session: Session): Promise<Session> {
  return refreshSession(session, { ...configuredClient(), refreshSkew: getConfig().refreshSkew });
}

/** A failed refresh's outcome; a refusal keeps its class, one of the few `RefreshErrorCode`s. */
export function refreshOutcome(error: unknown): { outcome: RefreshOutcome; errorClass?: string } {
  const code = error instanceof RefreshError ? error.code : "invalid_response";
  if (code === "idp_unreachable" || code === "coordination_unavailable") return { outcome: code };
  return { outcome: "idp_refused", errorClass: code };
}
