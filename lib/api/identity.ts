/**
 * What the downstream API makes of the session's access token (`GET /me`), for server-rendered pages.
 * Node or edge; never sent to the browser except as the public fields below.
 */
import { getConfig } from "@/lib/config";
import { withDeadline } from "@/lib/http/deadline";
import { logError } from "@/lib/log";
import { apiEndpoint } from "./endpoint";

export interface ApiIdentity {
  sub: string;
  scopes: string[];
  /** The verified token's expiry, seconds since the epoch. */
  exp: number;
}

/** `null` when the API refuses the token or cannot be reached: the page shows that instead of failing. */
export async function fetchApiIdentity(accessToken: string, fetchImpl: typeof fetch = fetch): Promise<ApiIdentity | null> {
  const { apiUrl, apiTimeoutMs } = getConfig();
  try {
    return await withDeadline(apiTimeoutMs, async (signal) => {
      const response = await fetchImpl(apiEndpoint(apiUrl, "/me"), {
        headers: { authorization: `Bearer ${accessToken}`, accept: "application/json" },
        signal,
        cache: "no-store",
      });
      if (!response.ok) {
        logError("api", `GET /me answered ${response.status}`);
        return null;
      }
      const body = (await response.json()) as Partial<ApiIdentity>;
      if (typeof body.sub !== "string" || !Array.isArray(body.scopes) || typeof body.exp !== "number") return null;
      return { sub: body.sub, scopes: body.scopes.filter((s): s is string => typeof s === "string"), exp: body.exp };
    });
  } catch (error) {
    logError("api", "GET /me failed", error);
    return null;
  }
}
