/**
 * Extra parameters of the authorization request, by how the IdP wants the API named.
 *
 * - `resource`: RFC 8707 resource indicators (the dev IdP, Keycloak with the feature, Okta custom servers);
 * - `audience`: Auth0's non-standard `audience` parameter;
 * - `scope` / `none`: the API is implied by its scopes (Entra ID: `api://<app-id>/notes.read`), nothing added.
 * Pure.
 */
import type { AudienceStyle } from "./config";

export function authorizationParams(options: { scope: string; audienceStyle: AudienceStyle; apiAudience: string }): Record<string, string> {
  const params: Record<string, string> = { scope: options.scope };
  if (options.audienceStyle === "resource") params.resource = options.apiAudience;
  if (options.audienceStyle === "audience") params.audience = options.apiAudience;
  return params;
}
