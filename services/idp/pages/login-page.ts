import { escapeHtml, renderPage } from "./html";

/** The one message for every failed sign-in, so the page never reveals whether a username exists. */
export const INVALID_CREDENTIALS_MESSAGE = "Invalid username or password.";

export interface LoginPageOptions {
  /** Where the form posts to. */
  action: string;
  /** Display name of the application the user is signing in to. */
  clientName: string;
  /** Username to prefill after a failed attempt. */
  username?: string;
  error?: string;
}

export function renderLoginPage({ action, clientName, username = "", error }: LoginPageOptions): string {
  const errorBlock = error ? `<p class="error" id="login-error" role="alert">${escapeHtml(error)}</p>` : "";
  const describedBy = error ? ' aria-describedby="login-error"' : "";
  // After a failed attempt the username is kept, so focus goes straight to the password.
  const focusUsername = username ? "" : " autofocus";
  const focusPassword = username ? " autofocus" : "";

  return renderPage({
    title: "Sign in - Tessera development IdP",
    body: `<h2>Sign in to continue to ${escapeHtml(clientName)}</h2>
${errorBlock}<form method="post" action="${escapeHtml(action)}" novalidate>
<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required value="${escapeHtml(username)}"${describedBy}${focusUsername}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${describedBy}${focusPassword}>
<button type="submit">Sign in</button>
</form>`,
  });
}
