/**
 * The session behind a BFF data request (`/api/*`), for its route handler. Node runtime.
 *
 * The middleware sees a data request only once the browser's freshness hint has lapsed (see `fresh-hint.ts`), so
 * what every data request must pass is checked here, in order:
 * 1. the anti-forgery proof: 403 JSON;
 * 2. a session, not on the list of ended sessions: 401 JSON, clearing a session cookie that was sent (it
 *    could not be opened, or it is a copy of one signed out);
 * 3. an access token that has not expired. One that has came with a hint that outlived it (a browser clock set
 *    back, a hand-made cookie): the hint is taken away and the caller told to retry (401 `refresh_required`,
 *    which `bffFetch` does once), and the retry passes through the middleware and its refresh. Nothing here
 *    refreshes: that stays with the middleware, where concurrent requests share one refresh.
 */
import type { NextRequest } from "next/server";
import { getConfig } from "./config";
import { refuseForgery } from "./csrf";
import { CLEAR_FRESH_HINT, REFRESH_REQUIRED } from "./fresh-hint";
import { json, unauthenticated } from "./json-response";
import { freshness } from "./refresh-policy";
import { getRequestSession } from "./server-session";
import type { Session } from "./session";
import { clearSessionCookies } from "./session-response";

export async function sessionForDataRequest(
  request: NextRequest,
  readSession: () => Promise<Session | null> = () => getRequestSession(request),
  nowSeconds: number = Math.floor(Date.now() / 1000),
): Promise<Session | Response> {
  const forged = refuseForgery(request, getConfig().authUrl.origin);
  if (forged) return forged;
  const session = await readSession();
  if (!session) return clearSessionCookies(request, unauthenticated());
  if (freshness(session, nowSeconds) === "expired") {
    return json({ error: REFRESH_REQUIRED, message: "Try again." }, 401, { "set-cookie": CLEAR_FRESH_HINT });
  }
  return session;
}
