/**
 * A BFF data route: the signed-in user's request, forwarded to the API with their access token.
 * Node runtime (reads the session through `next/headers`).
 */
import type { NextRequest } from "next/server";
import { forwardToApi } from "./api-proxy";
import { getConfig } from "./config";
import { sessionForDataRequest } from "./data-request";

export async function forwardWithSession(request: NextRequest, upstreamPath: string): Promise<Response> {
  const session = await sessionForDataRequest(request);
  if (session instanceof Response) return session;
  const { apiUrl, apiTimeoutMs } = getConfig();
  return forwardToApi(request, upstreamPath, session.accessToken, { apiUrl, timeoutMs: apiTimeoutMs });
}
