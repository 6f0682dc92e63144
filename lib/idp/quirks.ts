/**
 * Where an IdP departs from the specifications, or leaves a choice open, and how this app meets it: the one
 * place to look, and to add to, when a new IdP behaves differently. Pure.
 *
 * - How the authorization request names the API whose access tokens it wants (`AudienceStyle`):
 *   - `resource`: RFC 8707 resource indicators (the dev IdP, Keycloak with the feature, Okta custom servers);
 *   - `audience`: Auth0's non-standard `audience` parameter;
 *   - `scope` / `none`: the API is implied by its scopes (Entra ID: `api://<app-id>/notes.read`), nothing added.
 * - How long the refresh token lives: Keycloak says so in a non-standard `refresh_expires_in`, and a session must
 *   not outlive it.
 */

export type AudienceStyle = "resource" | "audience" | "scope" | "none";

export const AUDIENCE_STYLES: readonly AudienceStyle[] = ["resource", "audience", "scope", "none"];

export function authorizationParams(options: { scope: string; audienceStyle: AudienceStyle; apiAudience: string }): Record<string, string> {
  const params: Record<string, string> = { scope: options.scope };
  if (options.audienceStyle === "resource") params.resource = options.apiAudience;
  if (options.audienceStyle === "audience") params.audience = options.apiAudience;
  return params;
}

/** When the refresh token of a token response received at `nowSeconds` expires, where the IdP says; else never. */
export function refreshTokenExpiry(tokens: { refresh_expires_in?: number }, nowSeconds: number): number {
  return tokens.refresh_expires_in ? nowSeconds + tokens.refresh_expires_in : Infinity;
}
