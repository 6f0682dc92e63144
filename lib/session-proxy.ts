/**
 * A BFF data route: the signed-in user's request, forwarded to the API with their access token.
 * Node runtime (reads the session through `next/headers`).
 */
import { forwardToApi } from "./api-proxy";
import { getConfig } from "./config";
import { unauthenticated } from "./json-response";
import { getSession } from "./server-session";

export async function forwardWithSession(request: Request, upstreamPath: string): Promise<Response> {
  const session = await getSession();
  if (!session) return unauthenticated();
  const { apiUrl, apiTimeoutMs } = getConfig();
  return forwardToApi(request, upstreamPath, session.accessToken, { apiUrl, timeoutMs: apiTimeoutMs });
}
