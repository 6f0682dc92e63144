/**
 * Refresh coordination across instances, for this instance's own middleware only (see
 * `lib/refresh/coordination-link.ts`): outside the middleware's matcher, denied at the load balancer, and a 404
 * to any caller without the secret derived from AUTH_SECRET.
 */
import { getConfig } from "@/lib/config";
import { refreshCoordinator } from "@/lib/server/refresh-coordination";
import { answerCoordinatedRefresh } from "@/lib/server/refresh-coordination/route";

export const dynamic = "force-dynamic";

export function POST(request: Request): Promise<Response> {
  return answerCoordinatedRefresh(request, { authSecret: getConfig().authSecrets[0], coordinate: refreshCoordinator() });
}
