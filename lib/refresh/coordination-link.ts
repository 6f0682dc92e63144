/**
 * The link between the middleware and this instance's refresh coordination, with `REDIS_URL` set.
 *
 * Edge code cannot reach Redis, so the middleware keeps deciding when to refresh, and its per-instance
 * single-flight leader hands the refresh to a Node-runtime route of the same instance over loopback
 * (`lib/server/refresh-coordination/`), which makes it one refresh across every instance. That route is outside
 * the middleware's matcher, denied at the load balancer, and answers only requests that carry a secret derived
 * from `AUTH_SECRET`. The session travels as JSON: the hop never leaves this machine (`INTERNAL_URL` must be on
 * loopback). Only due refreshes take this path: a request whose token is current costs nothing here.
 *
 * Every failure of the hop itself is `coordination_unavailable`: the session is kept, and the caller answers
 * 503; a refresh is never made without coordination. Edge-safe; `fetch` is injectable.
 */
import { base64url } from "jose";
import { RefreshError, REFRESH_ERROR_CODES, type RefreshErrorCode } from "@/lib/idp/token-refresh";
import { sessionFromPayload, sessionPayload, type Session } from "@/lib/session/session";
import { countRefresh } from "@/lib/telemetry/signals";
import { inSpan, propagateTrace, SpanKind } from "@/lib/telemetry/spans";

export const COORDINATION_PATH = "/internal/refresh";
export const COORDINATION_SECRET_HEADER = "x-tessera-coordination";

/** What the route's caller proves it knows: a key derived from the newest `AUTH_SECRET`, never the secret itself. */
export async function coordinationSecret(authSecret: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(authSecret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode("tessera refresh coordination route"));
  return base64url.encode(new Uint8Array(mac));
}

export interface CoordinationDeadlines {
  /** How long a leader holds a refresh token's lock: its discovery and token requests, each bounded by the IdP timeout. */
  leaseMs: number;
  /** How long a follower waits for a leader's result before it gives up (503) or takes over an expired lease. */
  followMs: number;
  /** How long the middleware waits for the route: a follower's wait, then a refresh of its own. */
  requestMs: number;
}

export function coordinationDeadlines(idpTimeoutMs: number): CoordinationDeadlines {
  // Discovery and the token request, each up to the IdP timeout, then the Redis round trips that settle the
  // refresh, with room for a busy event loop: a lease that lapsed under a live leader would let a follower send
  // the same refresh token.
  const leaseMs = 2 * idpTimeoutMs + 3_000;
  const followMs = leaseMs + 1_000;
  return { leaseMs, followMs, requestMs: followMs + leaseMs };
}

/** The session as it crosses the link, with its absolute end (which the sealed cookie keeps elsewhere). */
export const sessionToWire = (session: Session): Record<string, unknown> => ({ ...sessionPayload(session), exp: session.expiresAt });

export const sessionFromWire = (body: unknown): Session | null =>
  typeof body === "object" && body !== null && !Array.isArray(body) ? sessionFromPayload(body as Record<string, unknown>) : null;

export const isRefreshErrorCode = (code: unknown): code is RefreshErrorCode => (REFRESH_ERROR_CODES as readonly unknown[]).includes(code);

export interface CoordinatedRefreshOptions {
  /** This instance's loopback origin (`INTERNAL_URL`). */
  internalUrl: URL;
  /** The newest `AUTH_SECRET`. */
  authSecret: string;
  timeoutMs: number;
  fetch?: typeof fetch;
}

/** `refresh` for the middleware's single-flight: the session's successor, as coordinated across instances. */
export function coordinatedRefresh({ internalUrl, authSecret, timeoutMs, fetch: send = fetch }: CoordinatedRefreshOptions) {
  let secret: Promise<string> | undefined;
  const url = new URL(COORDINATION_PATH, internalUrl);
  // This hop's own failures; what the coordination answered, it has counted itself.
  const unavailable = (why: string, cause?: unknown) => {
    countRefresh("coordination_unavailable");
    return new RefreshError("coordination_unavailable", `Refresh coordination ${why}`, { cause });
  };

  return (session: Session): Promise<Session> => inSpan("tessera.refresh.coordinate", () => refresh(session), { kind: SpanKind.CLIENT });

  async function refresh(session: Session): Promise<Session> {
    secret ??= coordinationSecret(authSecret);
    const headers = new Headers({ "content-type": "application/json", [COORDINATION_SECRET_HEADER]: await secret });
    propagateTrace(headers);
    let response: Response;
    try {
      response = await send(url, {
        method: "POST",
        headers,
        body: JSON.stringify(sessionToWire(session)),
        signal: AbortSignal.timeout(timeoutMs),
        cache: "no-store",
        redirect: "manual",
      });
    } catch (error) {
      throw unavailable(`could not be reached at ${url.href}`, error);
    }
    const body: unknown = await response.json().catch(() => undefined);
    if (response.status === 200) {
      const successor = sessionFromWire(body);
      if (!successor) throw unavailable("answered 200 without a session");
      return successor;
    }
    const { error, message } = (typeof body === "object" && body !== null ? body : {}) as { error?: unknown; message?: unknown };
    if (!isRefreshErrorCode(error)) throw unavailable(`answered ${response.status} without a refresh outcome`);
    throw new RefreshError(error, typeof message === "string" ? message : `Refresh coordination answered ${error}`);
  }
}
