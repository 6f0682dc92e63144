/**
 * RP-initiated logout: the URL that ends the user's session at the IdP too, with `client_id` and `state` always (an
 * IdP that cannot read the ID token hint, or would not return without a state, still knows where to send the
 * browser). Pure.
 */

export interface EndSessionInput {
  endSessionEndpoint: string | undefined;
  clientId: string;
  idToken: string | undefined;
  postLogoutRedirectUri: string;
  /**
   * Returned by the IdP on the redirect to `postLogoutRedirectUri` as `?state=`. Always sent: some IdPs redirect
   * back only when there is one, and leave the user on their own "signed out" page otherwise.
   */
  state: string;
}

/** `undefined` when the IdP offers no end-session endpoint: then only the local session can end. */
export function endSessionUrl({ endSessionEndpoint, clientId, idToken, postLogoutRedirectUri, state }: EndSessionInput): URL | undefined {
  if (!endSessionEndpoint) return undefined;
  const url = new URL(endSessionEndpoint);
  url.searchParams.set("client_id", clientId);
  url.searchParams.set("post_logout_redirect_uri", postLogoutRedirectUri);
  if (idToken) url.searchParams.set("id_token_hint", idToken);
  url.searchParams.set("state", state);
  return url;
}
