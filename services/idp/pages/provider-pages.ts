import type { ErrorOut, KoaContextWithOIDC } from "oidc-provider";
import { escapeHtml, htmlSecurityHeaders, renderPage, scriptHash } from "./html";

/**
 * The pages oidc-provider renders itself (sign-out confirmation, signed-out notice, error page), restyled to match
 * the login page and served with the same security headers. The sign-out buttons keep oidc-provider's wording and
 * form wiring.
 */

const LOGOUT_FORM_ID = "op.logoutForm";
const AUTO_SUBMIT_SCRIPT = `document.getElementById(${JSON.stringify(LOGOUT_FORM_ID)}).submit();`;
const AUTO_SUBMIT_SCRIPT_HASH = scriptHash(AUTO_SUBMIT_SCRIPT);

/**
 * Whether the sign-out request comes, provably, from a first-party client acting for the current session: its
 * `id_token_hint` (already signature-checked by oidc-provider) was issued to that client, names the signed-in
 * user and carries the session's `sid`. RP-Initiated Logout 1.0 (section 2) only requires asking the user when
 * that is not the case; the first-party web app has already taken the user's decision behind its own
 * anti-forgery checks, so asking again would be a second "are you sure?".
 */
export function isConfirmedByFirstParty(ctx: KoaContextWithOIDC, firstPartyClientIds: ReadonlySet<string>): boolean {
  const hint = ctx.oidc.entities.IdTokenHint?.payload;
  const client = ctx.oidc.client;
  const session = ctx.oidc.session;
  if (!hint || !client || !session?.accountId || !firstPartyClientIds.has(client.clientId)) return false;
  const sid = session.sidFor(client.clientId);
  return hint.aud === client.clientId && hint.sub === session.accountId && sid !== undefined && hint.sid === sid;
}

export function createProviderPages(formActionOrigins: readonly string[], firstPartyClientIds: ReadonlySet<string>) {
  const respond = (ctx: KoaContextWithOIDC, html: string, scriptHashes: string[] = []) => {
    ctx.set(htmlSecurityHeaders(formActionOrigins, { scriptHashes }));
    ctx.body = html;
  };

  return {
    async logoutSource(ctx: KoaContextWithOIDC, form: string): Promise<void> {
      // `form` is oidc-provider's hidden form carrying the anti-forgery token; the buttons submit it.
      if (isConfirmedByFirstParty(ctx, firstPartyClientIds)) {
        const confirmedForm = form.replace("</form>", '<input type="hidden" name="logout" value="yes"/></form>');
        return respond(
          ctx,
          renderPage({
            title: "Signing out - Tessera development IdP",
            body: `<h2>Signing out</h2>
${confirmedForm}
<noscript><button type="submit" form="${LOGOUT_FORM_ID}">Continue signing out</button></noscript>
<script>${AUTO_SUBMIT_SCRIPT}</script>`,
          }),
          [AUTO_SUBMIT_SCRIPT_HASH],
        );
      }
      respond(
        ctx,
        renderPage({
          title: "Sign out - Tessera development IdP",
          body: `<h2>Sign out</h2>
<p>Do you want to sign out of the Tessera development IdP?</p>
${form}
<button type="submit" form="${LOGOUT_FORM_ID}" name="logout" value="yes" autofocus>Yes, sign me out</button>
<button type="submit" form="${LOGOUT_FORM_ID}" class="secondary">No, stay signed in</button>`,
        }),
      );
    },

    async postLogoutSuccessSource(ctx: KoaContextWithOIDC): Promise<void> {
      const client = ctx.oidc.client;
      const name = client?.clientName ?? client?.clientId;
      respond(
        ctx,
        renderPage({
          title: "Signed out - Tessera development IdP",
          body: `<h2>Signed out</h2>
<p>You have signed out${name ? ` of ${escapeHtml(name)}` : ""}. You can close this page.</p>`,
        }),
      );
    },

    async renderError(ctx: KoaContextWithOIDC, out: ErrorOut): Promise<void> {
      respond(
        ctx,
        renderPage({
          title: "Error - Tessera development IdP",
          body: `<h2>Something went wrong</h2>
<p class="error" role="alert">${escapeHtml(out.error_description ?? out.error)}</p>
<p>Return to the application and try again.</p>`,
        }),
      );
    },
  };
}
