/**
 * Refresh coordination across instances, for this instance's own middleware only (see
 * `lib/refresh/coordination-link.ts`): outside the middleware's matcher, denied at the load balancer, and a 404
 * to any caller without the secret derived from AUTH_SECRET.
 */
import { getConfig } from "@/lib/config";
import { jsonError } from "@/lib/http/json";
import { refreshCoordinator } from "@/lib/server/refresh-coordination";
import { answerCoordinatedRefresh } from "@/lib/server/refresh-coordination/route";

export const dynamic = "force-dynamic";

export function POST(request: Request): Promise<Response> {
  return answerCoordinatedRefresh(request, { authSecret: getConfig().authSecrets[0], coordinate: refreshCoordinator() });
}

/** Any other method: the same 404 as a caller without the secret, rather than Next.js's 405 that names the route. */
const notFound = (): Response => jsonError(404, "not_found", "Not found.");
export { notFound as GET, notFound as HEAD, notFound as PUT, notFound as PATCH, notFound as DELETE, notFound as OPTIONS };
