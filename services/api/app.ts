import { Hono, type Context, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { parseAuthorization, type AccessToken } from "./access-token";
import type { Logger } from "./logger";
import type { LogoutToken } from "./logout-token";
import type { NotesStore } from "./notes-store";
import type { Revocation, RevocationStore } from "./revocation-store";
import { TokenError, type TokenErrorCode } from "./signed-token";

export interface ApiOptions {
  /** Verifies a bearer token; rejects (or throws) with `TokenError`. A token verified before may be answered at once. */
  verifier: (token: string) => AccessToken | Promise<AccessToken>;
  /** Verifies a back-channel logout token; rejects with `TokenError`. */
  logoutTokenVerifier: (token: string) => Promise<LogoutToken>;
  notes: NotesStore;
  revocations: RevocationStore;
  log: Logger;
  /** Seconds: the longest an access token can live, so a revoked session outlasts all of its tokens. */
  maxTokenTtl: number;
  /** Seconds of leeway the verifier allows on `exp`; revocations are kept that much longer. */
  clockTolerance: number;
  /** Epoch milliseconds. */
  now?: () => number;
}

export const REALM = "tessera-api";
export const MAX_BODY_BYTES = 16 * 1024;
export const MAX_NOTE_LENGTH = 1000;
/** Room for one logout token of the largest accepted size, form-encoded. */
export const MAX_LOGOUT_BODY_BYTES = 12 * 1024;

type ApiEnv = { Variables: { token: AccessToken } };

/**
 * An answer about the caller's own token or data, which no cache may keep. Built as a plain `Response`: Hono
 * materialises a `Headers` object for a second header, which costs every authenticated request a noticeable share.
 */
const privateJson = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", "cache-control": "no-store" } });

const privateEmpty = (status: 200 | 204) => new Response(null, { status, headers: { "cache-control": "no-store" } });

const unavailable = (c: Context) => {
  c.header("Cache-Control", "no-store");
  return c.json({ error: "temporarily_unavailable" }, 503);
};

const invalidRequest = (message: string) => privateJson({ error: "invalid_request", message }, 400);

// Deliberately vague: the log has the precise reason, the caller needs only to know the token is not usable.
const INVALID_TOKEN_DESCRIPTION = "The access token is invalid, expired or revoked";

const invalidToken = (c: Context) => {
  c.header("Cache-Control", "no-store");
  c.header("WWW-Authenticate", `Bearer realm="${REALM}", error="invalid_token", error_description="${INVALID_TOKEN_DESCRIPTION}"`);
  return c.json({ error: "invalid_token" }, 401);
};

/**
 * RFC 6750 section 3.1: a challenge without an error code when no bearer credentials came, `invalid_token` (401)
 * otherwise. A malformed Authorization header (two tokens, two headers) is refused as an unusable token too:
 * the contract answers every refused credential with 401, so a client has one signal to act on.
 */
function refuseCredentials(c: Context, code: TokenErrorCode) {
  if (code === "missing_token") {
    // No header, or another scheme: nothing was wrong, the client may not have known it had to authenticate.
    c.header("Cache-Control", "no-store");
    c.header("WWW-Authenticate", `Bearer realm="${REALM}"`);
    return c.json({ error: "unauthorized" }, 401);
  }
  return invalidToken(c);
}

const noStore: MiddlewareHandler = async (c, next) => {
  c.header("Cache-Control", "no-store");
  await next();
};

const mediaTypeOf = (value: string | undefined) => value?.split(";")[0]?.trim().toLowerCase();

// Back-Channel Logout 1.0 section 2.8: the same error shape an RP gives the OP; the log has the precise reason.
const invalidLogoutToken = (c: Context, description: string) =>
  c.json({ error: "invalid_request", error_description: description }, 400);

/** The HTTP face of the resource server; everything it depends on is passed in. */
export function createApi(options: ApiOptions): Hono<ApiEnv> {
  const { verifier, logoutTokenVerifier, notes, revocations, log, maxTokenTtl, clockTolerance, now = Date.now } = options;
  const nowSeconds = () => Math.floor(now() / 1000);
  // A session or subject is remembered until every token issued to it so far has expired.
  const coverAllTokensUntil = (exp = 0) => Math.max(exp, nowSeconds() + maxTokenTtl) + clockTolerance;
  const app = new Hono<ApiEnv>();

  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    log.info("request", {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round(performance.now() - started),
      sub: c.get("token")?.sub,
    });
  });

  // Every answer behind it is private: the refusals here set no-store, and the handlers answer with `privateJson`.
  const authenticate: MiddlewareHandler<ApiEnv> = async (c, next) => {
    let token: AccessToken;
    try {
      token = await verifier(parseAuthorization(c.req.header("Authorization")));
    } catch (error) {
      if (!(error instanceof TokenError)) throw error;
      if (error.code === "keys_unavailable") {
        log.error("token_unverifiable", { code: error.code, error });
        return unavailable(c);
      }
      log.info("token_rejected", { code: error.code, reason: error.message });
      return refuseCredentials(c, error.code);
    }
    let revoked: boolean;
    try {
      revoked = await revocations.isRevoked(token);
    } catch (error) {
      // Failing open would let revoked tokens through whenever the store is down.
      log.error("revocation_check_failed", { error });
      return unavailable(c);
    }
    if (revoked) {
      log.info("token_rejected", { code: "revoked", jti: token.jti });
      return invalidToken(c);
    }
    c.set("token", token);
    await next();
  };

  const requireScope =
    (scope: string): MiddlewareHandler<ApiEnv> =>
    async (c, next) => {
      if (!c.get("token").scopes.includes(scope)) {
        c.header("Cache-Control", "no-store");
        c.header("WWW-Authenticate", `Bearer realm="${REALM}", error="insufficient_scope", scope="${scope}"`);
        return c.json({ error: "insufficient_scope", scope }, 403);
      }
      await next();
    };

  app.get("/healthz", (c) => c.json({ status: "ok" }));

  // What the contract promises and no more: the token's identifiers (jti, sid) are the revocation list's business.
  app.get("/me", authenticate, (c) => {
    const { sub, scopes, exp } = c.get("token");
    return privateJson({ sub, scopes, exp });
  });

  app.get("/notes", authenticate, requireScope("notes:read"), (c) => privateJson({ notes: notes.list(c.get("token").sub) }));

  app.post(
    "/notes",
    authenticate,
    requireScope("notes:write"),
    bodyLimit({ maxSize: MAX_BODY_BYTES, onError: () => invalidRequest(`body exceeds ${MAX_BODY_BYTES} bytes`) }),
    async (c) => {
      if (mediaTypeOf(c.req.header("Content-Type")) !== "application/json") {
        return invalidRequest("Content-Type must be application/json");
      }
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return invalidRequest("body is not valid JSON");
      }
      const text = typeof body === "object" && body !== null ? (body as Record<string, unknown>).text : undefined;
      if (typeof text !== "string") return invalidRequest("text must be a string");
      const trimmed = text.trim();
      const length = [...trimmed].length;
      if (length < 1 || length > MAX_NOTE_LENGTH) {
        return invalidRequest(`text must be 1 to ${MAX_NOTE_LENGTH} characters after trimming`);
      }
      return privateJson({ note: notes.create(c.get("token").sub, trimmed) }, 201);
    },
  );

  app.delete("/notes/:id", authenticate, requireScope("notes:write"), (c) =>
    notes.delete(c.get("token").sub, c.req.param("id")) ? privateEmpty(204) : privateJson({ error: "not_found" }, 404),
  );

  // A token may always end itself and its session, whatever its scopes.
  app.post("/revocations", authenticate, async (c) => {
    const { jti, sid, exp, iat, sub } = c.get("token");
    // The session's cut-off is now, or this token's iat when the IdP's clock runs ahead: every token of the session
    // issued up to this one goes, and those the IdP issues later under the same sid (its SSO session lived on) do not.
    const issuedUpTo = Math.max(nowSeconds(), iat);
    try {
      await revocations.revoke({ jti, until: exp + clockTolerance });
      if (sid !== undefined) await revocations.revoke({ sid, issuedUpTo, until: coverAllTokensUntil(exp) });
    } catch (error) {
      log.error("revocation_failed", { error });
      return unavailable(c);
    }
    log.info("token_revoked", { sub, jti, sid });
    return privateEmpty(204);
  });

  // The web app relays the logout tokens the IdP sends it, so that the session's access tokens die with it.
  // No bearer token: the logout token is itself signed by the issuer.
  app.post(
    "/revocations/logout-token",
    noStore,
    bodyLimit({ maxSize: MAX_LOGOUT_BODY_BYTES, onError: (c) => invalidLogoutToken(c, "The request body is too large") }),
    async (c) => {
      if (mediaTypeOf(c.req.header("Content-Type")) !== "application/x-www-form-urlencoded") {
        return invalidLogoutToken(c, "Content-Type must be application/x-www-form-urlencoded");
      }
      const values = new URLSearchParams(await c.req.text()).getAll("logout_token");
      const [token] = values;
      if (token === undefined || values.length !== 1) return invalidLogoutToken(c, "Exactly one logout_token is required");

      let logout: LogoutToken;
      try {
        logout = await logoutTokenVerifier(token);
      } catch (error) {
        if (!(error instanceof TokenError)) throw error;
        if (error.code === "keys_unavailable") {
          log.error("logout_token_unverifiable", { code: error.code, error });
          return unavailable(c);
        }
        log.info("logout_token_rejected", { code: error.code, reason: error.message });
        return invalidLogoutToken(c, "The logout token is invalid");
      }

      const { jti, sid, sub, acceptableUntil } = logout;
      // A session ends with its id; without one, the IdP means every session of the subject so far. Either way only
      // tokens issued so far: a later sign-in may bring the same sid or sub back.
      const cutOff = { issuedUpTo: nowSeconds(), until: coverAllTokensUntil() };
      const revocation: Revocation = sid !== undefined ? { sid, ...cutOff } : { sub, ...cutOff };
      let firstUse: boolean;
      try {
        firstUse = await revocations.revokeOnce(revocation, { jti, until: acceptableUntil });
      } catch (error) {
        log.error("revocation_failed", { error });
        return unavailable(c);
      }
      if (!firstUse) {
        log.info("logout_token_rejected", { code: "replayed", jti });
        return invalidLogoutToken(c, "The logout token is invalid");
      }
      log.info("logout_token_accepted", { jti, sid, sub });
      return c.body(null, 200);
    },
  );

  app.notFound((c) => c.json({ error: "not_found" }, 404));

  app.onError((error, c) => {
    log.error("server_error", { method: c.req.method, path: c.req.path, error, stack: error.stack });
    return privateJson({ error: "server_error" }, 500);
  });

  return app;
}
