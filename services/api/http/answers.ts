/**
 * The API's answers: JSON that no cache may keep, and the RFC 6750 challenges for refused credentials. The log
 * has the precise reason for every refusal; the caller learns only what it can act on.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { Logger } from "../logger";
import { TokenError, type TokenErrorCode } from "../tokens/signed-token";

export const REALM = "tessera-api";

/**
 * An answer about the caller's own token or data, which no cache may keep. Built as a plain `Response`: Hono
 * materialises a `Headers` object for a second header, which costs every authenticated request a noticeable share.
 */
export const privateJson = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", "cache-control": "no-store" } });

export const privateEmpty = (status: 200 | 204) => new Response(null, { status, headers: { "cache-control": "no-store" } });

export const noStore: MiddlewareHandler = async (c, next) => {
  c.header("Cache-Control", "no-store");
  await next();
};

export const unavailable = (c: Context) => {
  c.header("Cache-Control", "no-store");
  return c.json({ error: "temporarily_unavailable" }, 503);
};

export const invalidRequest = (message: string) => privateJson({ error: "invalid_request", message }, 400);

// Back-Channel Logout 1.0 section 2.8: the same error shape an RP gives the OP.
export const invalidLogoutToken = (c: Context, description: string) => c.json({ error: "invalid_request", error_description: description }, 400);

// Deliberately vague: the caller needs only to know the token is not usable.
const INVALID_TOKEN_DESCRIPTION = "The access token is invalid, expired or revoked";

export const invalidToken = (c: Context) => {
  c.header("Cache-Control", "no-store");
  c.header("WWW-Authenticate", `Bearer realm="${REALM}", error="invalid_token", error_description="${INVALID_TOKEN_DESCRIPTION}"`);
  return c.json({ error: "invalid_token" }, 401);
};

export const insufficientScope = (c: Context, scope: string) => {
  c.header("Cache-Control", "no-store");
  c.header("WWW-Authenticate", `Bearer realm="${REALM}", error="insufficient_scope", scope="${scope}"`);
  return c.json({ error: "insufficient_scope", scope }, 403);
};

/**
 * RFC 6750 section 3.1: a challenge without an error code when no bearer credentials came, `invalid_token` (401)
 * otherwise. A malformed Authorization header (two tokens, two headers) is refused as an unusable token too:
 * the contract answers every refused credential with 401, so a client has one signal to act on.
 */
export function refuseCredentials(c: Context, code: TokenErrorCode) {
  if (code === "missing_token") {
    // No header, or another scheme: nothing was wrong, the client may not have known it had to authenticate.
    c.header("Cache-Control", "no-store");
    c.header("WWW-Authenticate", `Bearer realm="${REALM}"`);
    return c.json({ error: "unauthorized" }, 401);
  }
  return invalidToken(c);
}

/**
 * The answer to a token (`kind`) that a verifier refused: 503 when the issuer's keys could not be fetched, which
 * says nothing about the token, else `refuse`'s answer. Anything but a `TokenError` is a fault, and is thrown on.
 */
export function refuseToken(c: Context, error: unknown, log: Logger, kind: "token" | "logout_token", refuse: (code: TokenErrorCode) => Response): Response {
  if (!(error instanceof TokenError)) throw error;
  if (error.code === "keys_unavailable") {
    log.error(`${kind}_unverifiable`, { code: error.code, error });
    return unavailable(c);
  }
  log.info(`${kind}_rejected`, { code: error.code, reason: error.message });
  return refuse(error.code);
}

export const mediaTypeOf = (value: string | undefined) => value?.split(";")[0]?.trim().toLowerCase();
