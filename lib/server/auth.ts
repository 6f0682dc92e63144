/**
 * Auth.js: the OIDC authorization-code flow (PKCE, state, nonce) as a confidential client.
 *
 * Auth.js runs the protocol; the session it writes is ours: `jwt.encode`/`decode` use the app's
 * session codec (keys derived once), and the `jwt` callback turns the token response into a
 * `Session`. Node runtime only (route handlers); the middleware reads sessions without Auth.js.
 */
import NextAuth, { customFetch, type NextAuthConfig } from "next-auth";
import type { OIDCConfig } from "next-auth/providers";
import type { JWT } from "next-auth/jwt";
import { getConfig } from "@/lib/config";
import { safeReturnUrl } from "@/lib/http/return-to";
import { authenticatingFetch, configuredClient } from "@/lib/idp/client-auth";
import { discardRefreshToken } from "@/lib/idp/token-revocation";
import { createIdTokenVerifier } from "@/lib/idp/id-token";
import { idpKeys } from "@/lib/idp/keys";
import { authorizationParams } from "@/lib/idp/quirks";
import { logError } from "@/lib/log";
import { COOKIE_NAMES, COOKIE_OPTIONS } from "@/lib/session/cookies";
import { keepIdToken, signInFailure } from "./sign-in-callback";
import { sealSession, SessionTooLargeError, unsealSession } from "@/lib/session/seal";
import { newSession, type Session } from "@/lib/session/session";
import { authJsEndpoint, observedIdpFetch } from "@/lib/idp/observed-fetch";

/** Built on first use, not at import: `next build` loads this module without the runtime secrets. */
function buildAuthConfig(): NextAuthConfig {
  const config = getConfig();

  const verifyIdToken = createIdTokenVerifier({
    issuer: config.issuer,
    clientId: config.clientId,
    getKey: idpKeys(),
  });

  // A sign-in has this long to come back; a successful callback deletes all of these (see sign-in-callback.ts),
  // and an abandoned sign-in's go by themselves. Not callback-url: Auth.js writes it again only when its value
  // changes, so a sign-in restarted for the same page would find it expired.
  const signInOptions = { ...COOKIE_OPTIONS, maxAge: 15 * 60 };

  // Every request to the token endpoint is authenticated by this app's one client authentication.
  const idpFetch = authenticatingFetch(configuredClient(), observedIdpFetch(authJsEndpoint));

  const provider: OIDCConfig<Record<string, unknown>> = {
    id: "oidc",
    name: "Identity provider",
    type: "oidc",
    issuer: config.issuer,
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    // Auth.js authenticates as a public client; `idpFetch` adds the configured authentication (see client-auth.ts).
    client: { token_endpoint_auth_method: "none" },
    checks: ["pkce", "state", "nonce"],
    authorization: { params: authorizationParams(config) },
    profile: (claims) => ({ id: String(claims.sub), name: claims.name as string | undefined, email: claims.email as string | undefined }),
    [customFetch]: (input: string | URL | Request, init?: RequestInit) =>
      idpFetch(input, { ...init, signal: AbortSignal.timeout(config.idpTimeoutMs) }),
  };

  const authConfig: NextAuthConfig = {
    basePath: "/auth",
    secret: config.authSecrets,
    providers: [provider],
    session: { strategy: "jwt", maxAge: config.sessionMaxAge },
    cookies: {
      sessionToken: { name: COOKIE_NAMES.session, options: COOKIE_OPTIONS },
      callbackUrl: { name: COOKIE_NAMES.callbackUrl, options: COOKIE_OPTIONS },
      csrfToken: { name: COOKIE_NAMES.csrf, options: signInOptions },
      pkceCodeVerifier: { name: COOKIE_NAMES.pkce, options: signInOptions },
      state: { name: COOKIE_NAMES.state, options: signInOptions },
      nonce: { name: COOKIE_NAMES.nonce, options: signInOptions },
    },
    jwt: {
      encode: async ({ token }) => {
        const session = token as unknown as Session;
        try {
          return await sealSession(session);
        } catch (error) {
          // A session too large to keep: its grant must not outlive the sign-in that cannot use it.
          if (error instanceof SessionTooLargeError) await discardRefreshToken(session.refreshToken, configuredClient());
          throw error;
        }
      },
      decode: async ({ token }) => (token ? ((await unsealSession(token)) as unknown as JWT | null) : null),
    },
    callbacks: {
      async jwt({ token, account }) {
        if (!account) return token;
        const claims = await verifyIdToken(account.id_token ?? "");
        const session = newSession({
          tokens: account,
          claims,
          nowSeconds: Math.floor(Date.now() / 1000),
          maxAge: config.sessionMaxAge,
          refreshSkew: config.refreshSkew,
        });
        // The ID token is stored apart from the session (see `finishSignIn`).
        keepIdToken(session.idToken);
        return { ...session, idToken: undefined } as unknown as JWT;
      },
      // Auth.js's own session endpoint is not routed (see app/auth/[...nextauth]); this keeps it token-free regardless.
      session: ({ session }) => ({ expires: session.expires, user: { name: session.user?.name, email: session.user?.email } }) as typeof session,
      redirect: ({ url, baseUrl }) => safeReturnUrl(url, baseUrl),
    },
    pages: { signIn: "/auth/error", error: "/auth/error" },
    logger: {
      error: (error) => logError("auth", signInFailure(error), error),
      warn: (code) => console.warn(`[auth] warning: ${code}`),
      debug: () => {},
    },
  };

  return authConfig;
}

let built: NextAuthConfig | undefined;

export const { handlers, signIn } = NextAuth(() => (built ??= buildAuthConfig()));
