/**
 * The session: what the BFF keeps in its sealed cookie, and nothing else.
 *
 * Tokens live here and only here. `toPublicSession` is the one door out to the browser, and it lets
 * no token through. Edge-safe and pure: the clock is a parameter.
 */
import { decodeJwt } from "jose";
import { CodedError } from "@/lib/errors";
import { CLOCK_TOLERANCE } from "@/lib/idp/jwt-rules";
import { refreshTokenExpiry } from "@/lib/idp/quirks";
import { DEFAULT_REFRESH_SKEW, refreshTime } from "@/lib/refresh/policy";

export interface Session {
  /** This app's own id for the session, new at every sign-in: what sign-out lists as ended. */
  id: string;
  sub: string;
  /** The IdP's session id, the key for back-channel logout and revocation. */
  sid?: string;
  name?: string;
  email?: string;
  accessToken: string;
  /** Seconds since the epoch. */
  accessTokenExpiresAt: number;
  /** When the middleware refreshes the access token, seconds since the epoch (see `refresh/policy`). */
  refreshAt: number;
  refreshToken?: string;
  /** Kept only as `id_token_hint` for RP-initiated logout. */
  idToken?: string;
  /**
   * When the user signed in, seconds since the epoch on the IdP's clock (the ID token's `iat`): a logout token
   * that ends all the user's sessions, dated by the same clock, ends those started by then.
   */
  startedAt: number;
  /** Absolute end of the session, seconds since the epoch; never extended by a refresh. */
  expiresAt: number;
}

export interface PublicSession {
  sub: string;
  name: string | null;
  email: string | null;
  sessionExpiresAt: string;
  accessTokenExpiresAt: string;
}

export class SessionError extends CodedError<"missing_access_token" | "missing_expiry" | "missing_subject"> {
  override readonly name = "SessionError";
}

export interface TokenSet {
  access_token?: string;
  refresh_token?: string;
  id_token?: string;
  expires_at?: number;
  refresh_expires_in?: number;
}

export interface NewSessionInput {
  tokens: TokenSet;
  claims: { sub?: unknown; sid?: unknown; name?: unknown; email?: unknown; iat?: unknown };
  nowSeconds: number;
  maxAge: number;
  refreshSkew?: number;
  /** Injectable for tests; a random UUID otherwise. */
  id?: string;
}

const optionalString = (value: unknown): string | undefined => (typeof value === "string" && value ? value : undefined);

/** The access token's expiry: the token response's `expires_in`, else the JWT's own `exp`. */
function accessTokenExpiry(tokens: TokenSet): number {
  if (typeof tokens.expires_at === "number") return tokens.expires_at;
  try {
    const { exp } = decodeJwt(tokens.access_token ?? "");
    if (typeof exp === "number") return exp;
  } catch {
    // An opaque token: nothing more to learn from it.
  }
  throw new SessionError("missing_expiry", "The token response gave no expires_in and the access token is not a JWT with exp");
}

export function newSession({ tokens, claims, nowSeconds, maxAge, refreshSkew = DEFAULT_REFRESH_SKEW, id = crypto.randomUUID() }: NewSessionInput): Session {
  const sub = optionalString(claims.sub);
  if (!sub) throw new SessionError("missing_subject", "The ID token has no sub claim");
  if (!tokens.access_token) throw new SessionError("missing_access_token", "The token response has no access_token");
  const accessTokenExpiresAt = accessTokenExpiry(tokens);
  return {
    id,
    sub,
    sid: optionalString(claims.sid),
    name: optionalString(claims.name),
    email: optionalString(claims.email),
    accessToken: tokens.access_token,
    accessTokenExpiresAt,
    refreshAt: refreshTime(nowSeconds, accessTokenExpiresAt, refreshSkew),
    refreshToken: optionalString(tokens.refresh_token),
    idToken: optionalString(tokens.id_token),
    // Never later than our clock allows: an `iat` from the far future would lift the session above every entry
    // in the list of ended sessions, its own sign-out's included.
    startedAt: typeof claims.iat === "number" ? Math.min(Math.floor(claims.iat), nowSeconds + CLOCK_TOLERANCE) : nowSeconds,
    // A session must not outlive the refresh token that keeps it alive, where the IdP says how long that is.
    expiresAt: Math.min(nowSeconds + maxAge, refreshTokenExpiry(tokens, nowSeconds)),
  };
}

/**
 * The session after a refresh: new access token, the rotated refresh token where the IdP rotated it,
 * the newest ID token. Who the user is and when the session ends do not change.
 */
export function withRefreshedTokens(session: Session, tokens: TokenSet, nowSeconds: number, refreshSkew: number = DEFAULT_REFRESH_SKEW): Session {
  if (!tokens.access_token) throw new SessionError("missing_access_token", "The refresh response has no access_token");
  const accessTokenExpiresAt = accessTokenExpiry(tokens);
  return {
    ...session,
    accessToken: tokens.access_token,
    accessTokenExpiresAt,
    refreshAt: refreshTime(nowSeconds, accessTokenExpiresAt, refreshSkew),
    refreshToken: optionalString(tokens.refresh_token) ?? session.refreshToken,
    idToken: optionalString(tokens.id_token) ?? session.idToken,
  };
}

/** A session from an opened cookie payload, or `null` when its shape is not one this app writes. */
export function sessionFromPayload(payload: Record<string, unknown> | null): Session | null {
  if (!payload) return null;
  const { id, sub, accessToken, accessTokenExpiresAt, refreshAt, exp } = payload;
  if (typeof id !== "string" || typeof sub !== "string" || typeof accessToken !== "string") return null;
  if (typeof accessTokenExpiresAt !== "number" || typeof refreshAt !== "number" || typeof exp !== "number") return null;
  return {
    id,
    sub,
    sid: optionalString(payload.sid),
    name: optionalString(payload.name),
    email: optionalString(payload.email),
    accessToken,
    accessTokenExpiresAt,
    refreshAt,
    refreshToken: optionalString(payload.refreshToken),
    idToken: optionalString(payload.idToken),
    // A cookie sealed before sessions recorded their start counts as the oldest: a logout of all sessions ends it.
    startedAt: typeof payload.startedAt === "number" ? payload.startedAt : 0,
    expiresAt: exp,
  };
}

/** The session as the seal stores it: `expiresAt` travels as the JWE's own `exp`. */
export function sessionPayload(session: Session): Record<string, unknown> {
  const { expiresAt: _expiresAt, ...payload } = session;
  return payload;
}

export function toPublicSession(session: Session): PublicSession {
  return {
    sub: session.sub,
    name: session.name ?? null,
    email: session.email ?? null,
    sessionExpiresAt: new Date(session.expiresAt * 1000).toISOString(),
    accessTokenExpiresAt: new Date(session.accessTokenExpiresAt * 1000).toISOString(),
  };
}
