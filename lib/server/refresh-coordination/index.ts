/**
 * The process's refresh coordinator, wired to the configured IdP, the shared Redis client and the list of ended
 * sessions; `undefined` without `REDIS_URL`. Node runtime only.
 */
import { getConfig } from "@/lib/config";
import { configuredClient } from "@/lib/idp/client-auth";
import { discardRefreshToken } from "@/lib/idp/token-revocation";
import { coordinationDeadlines } from "@/lib/refresh/coordination-link";
import { idpRefresh } from "@/lib/refresh/idp-refresh";
import type { Session } from "@/lib/session/session";
import { endedSessions } from "@/lib/server/ended-sessions";
import { endedKeys } from "@/lib/server/ended-sessions/store";
import { sharedRedis } from "@/lib/server/redis";
import { createCoordinator } from "./coordinator";

// Next.js bundles this module into each route that uses it: one coordinator per process, on globalThis.
const COORDINATOR = Symbol.for("tessera.refreshCoordinator");
type Coordinate = (session: Session) => Promise<Session>;

export function refreshCoordinator(): Coordinate | undefined {
  const redis = sharedRedis();
  if (!redis) return undefined;
  const registry = globalThis as { [COORDINATOR]?: Coordinate };
  registry[COORDINATOR] ??= (() => {
    const { authSecrets, idpTimeoutMs } = getConfig();
    return createCoordinator({
      redis,
      secret: authSecrets[0],
      refresh: idpRefresh(),
      isEnded: (session) => endedSessions().isEnded(session.startedAt, ...endedKeys(session)),
      discard: (refreshToken) => discardRefreshToken(refreshToken, configuredClient()),
      ...coordinationDeadlines(idpTimeoutMs),
    });
  })();
  return registry[COORDINATOR];
}
