/**
 * Sign-out everywhere, in order, each step failing safe: a step that cannot be completed is logged, noted
 * for the user, and the next step runs regardless. The user always ends up signed out of this app.
 *
 * 1. Revoke the refresh token at the IdP (RFC 7009): no copy of the session can mint new access tokens.
 * 2. Revoke the access token and its session at the API: the tokens already issued die too.
 * 3. Record the session as ended here, so that a copy of the cookie is refused (the caller clears the cookies).
 * 4. Send the browser to the IdP's end-session endpoint (RP-initiated logout), so the IdP's session ends too;
 * 5. the IdP returns it to the signed-out page, with what could not be completed as `state`.
 * An IdP that could not be reached in step 1 is skipped in step 4: the browser would only find an error page.
 * The steps are injected, so that each failure can be tested.
 */
import { endSessionUrl } from "@/lib/idp/end-session-url";
import { logError, logInfo } from "@/lib/log";
import type { Session } from "@/lib/session/session";
import { signedOutState, type IncompleteStep } from "./notice";
import { TokenRevocationError } from "@/lib/idp/token-revocation";

export interface SignOutSteps {
  revokeRefreshToken(refreshToken: string): Promise<unknown>;
  revokeAccessToken(accessToken: string): Promise<unknown>;
  /** Records the session as ended until `until` (epoch seconds). */
  endSession(session: Session, until: number): Promise<void>;
  /** `undefined` when the IdP has none. */
  endSessionEndpoint(): Promise<string | undefined>;
}

export interface SignOutOptions {
  clientId: string;
  /** The post-logout redirect URI, exactly as registered with the IdP. */
  signedOutUrl: URL;
}

/** Where to send the browser once its session cookies are cleared. */
export async function signOut(session: Session | null, steps: SignOutSteps, { clientId, signedOutUrl }: SignOutOptions): Promise<URL> {
  const incomplete = new Set<IncompleteStep>();
  const attempt = async (step: IncompleteStep, failure: string, action: () => Promise<unknown>): Promise<void> => {
    try {
      await action();
    } catch (error) {
      logError("logout", failure, error);
      incomplete.add(step);
    }
  };

  const refreshToken = session?.refreshToken;
  if (refreshToken) {
    try {
      await steps.revokeRefreshToken(refreshToken);
    } catch (error) {
      logError("logout", "could not revoke the refresh token at the IdP", error);
      // A refusal is not the user's concern: the IdP answered, and its end-session, next, ends the grant too.
      if (!(error instanceof TokenRevocationError && error.code === "revocation_refused")) incomplete.add("idp");
    }
  }
  if (session) {
    await attempt("api", "could not revoke the access token and its session at the API; they stay valid until they expire", () =>
      steps.revokeAccessToken(session.accessToken),
    );
  }
  if (session) {
    await attempt("app", "could not record the session as ended; a copy of its cookie is refused only once its refresh fails", () =>
      steps.endSession(session, session.expiresAt),
    );
  }

  let endSessionEndpoint: string | undefined;
  if (!incomplete.has("idp")) {
    await attempt("idp", "could not find the IdP's end-session endpoint", async () => {
      endSessionEndpoint = await steps.endSessionEndpoint();
    });
  }

  const state = signedOutState(incomplete);
  logInfo("logout", `signed out${session ? ` sub=${session.sub} sid=${session.sid ?? "-"}` : ""}${incomplete.size > 0 ? `; not completed: ${state}` : ""}`);
  const signedOut = new URL(signedOutUrl);
  if (incomplete.size > 0) signedOut.searchParams.set("state", state);
  return endSessionUrl({ endSessionEndpoint, clientId, idToken: session?.idToken, postLogoutRedirectUri: signedOutUrl.href, state }) ?? signedOut;
}
