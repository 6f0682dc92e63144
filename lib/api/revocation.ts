/**
 * Ends sessions at the downstream API too, so that the access tokens the IdP already issued die before they
 * expire: on sign-out the session's own access token revokes itself and its session (`POST /revocations`);
 * on back-channel logout the IdP's logout token is passed on (`POST /revocations/logout-token`).
 *
 * Failures become an `ApiRevocationError`; tokens never appear in them. Edge-safe.
 */
import { CodedError } from "@/lib/errors";
import { apiEndpoint } from "./endpoint";

export type ApiRevocationErrorCode = "api_unreachable" | "api_refused";

export class ApiRevocationError extends CodedError<ApiRevocationErrorCode> {
  override readonly name = "ApiRevocationError";
}

export interface ApiRevocationOptions {
  apiUrl: URL;
  timeoutMs: number;
  fetch?: typeof fetch;
}

async function post(path: string, init: { headers: Record<string, string>; body?: string }, options: ApiRevocationOptions): Promise<number> {
  const { apiUrl, timeoutMs, fetch: fetchImpl = fetch } = options;
  let response: Response;
  try {
    response = await fetchImpl(apiEndpoint(apiUrl, path), { method: "POST", ...init, redirect: "manual", signal: AbortSignal.timeout(timeoutMs), cache: "no-store" });
  } catch (error) {
    throw new ApiRevocationError("api_unreachable", `POST ${path}: the API could not be reached`, { cause: error });
  }
  // Only the status matters; the body is released so the connection can be reused.
  await response.body?.cancel();
  return response.status;
}

/**
 * `already_invalid` when the API refuses the token as invalid (expired, say): every older token of the session
 * expired before it, and no new one can be minted once the refresh token is revoked.
 */
export async function revokeAccessToken(accessToken: string, options: ApiRevocationOptions): Promise<"revoked" | "already_invalid"> {
  const status = await post("/revocations", { headers: { authorization: `Bearer ${accessToken}` } }, options);
  if (status === 204 || status === 200) return "revoked";
  if (status === 401) return "already_invalid";
  throw new ApiRevocationError(status >= 500 ? "api_unreachable" : "api_refused", `POST /revocations answered ${status}`);
}

export async function relayLogoutToken(logoutToken: string, options: ApiRevocationOptions): Promise<void> {
  const status = await post(
    "/revocations/logout-token",
    { headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ logout_token: logoutToken }).toString() },
    options,
  );
  if (status === 200 || status === 204) return;
  throw new ApiRevocationError(status >= 500 ? "api_unreachable" : "api_refused", `POST /revocations/logout-token answered ${status}`);
}
