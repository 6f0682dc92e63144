/**
 * The browser's only way to call the BFF's data routes: same-origin, with the anti-forgery header.
 * Safe in client components: it never sees a token, only JSON from our own routes.
 */
import { CSRF_HEADER, CSRF_HEADER_VALUE } from "@/lib/http/anti-forgery";
import type { ErrorCode } from "@/lib/http/json";

export async function bffFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set(CSRF_HEADER, CSRF_HEADER_VALUE);
  const send = () => fetch(path, { ...init, headers, credentials: "same-origin", cache: "no-store" });
  const response = await send();
  // The hint is gone now, so the one retry passes through the middleware, which refreshes the token. A stream
  // body was spent by the first attempt: that answer stands.
  const replayable = !(init.body instanceof ReadableStream);
  return replayable && response.status === 401 && (await errorCode(response)) === ("refresh_required" satisfies ErrorCode) ? send() : response;
}

async function errorCode(response: Response): Promise<unknown> {
  try {
    return ((await response.clone().json()) as { error?: unknown }).error;
  } catch {
    return undefined;
  }
}
