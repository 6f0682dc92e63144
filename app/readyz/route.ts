/**
 * Ready, for load balancers: the IdP's discovery loaded and the list of ended sessions answering (see
 * `lib/server/readiness.ts`). No session, no anti-forgery header, no details.
 */
import { getConfig } from "@/lib/config";
import { idpMetadata } from "@/lib/idp/discovery";
import { endedSessions } from "@/lib/server/ended-sessions";
import { readinessAnswer } from "@/lib/server/readiness";

export const dynamic = "force-dynamic";

/** A key no session has: asking for it reaches the store (a Redis round trip) and finds nothing. */
const PROBE_KEY = "readiness-probe";

export function GET(): Promise<Response> {
  return readinessAnswer({ idp: idpMetadata, endedSessions: () => endedSessions().isEnded(0, PROBE_KEY) }, getConfig().idpTimeoutMs);
}
