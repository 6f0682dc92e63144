/**
 * The internal route's answers (`POST /internal/refresh`, see `lib/refresh/coordination-link.ts`): the caller
 * proves it is this app, the session is read from the body, and the coordinator's outcome is answered as the
 * link expects it. Anyone else gets the 404 of a route that does not exist. Node runtime only.
 */
import { timingSafeEqual } from "node:crypto";
import { RefreshError } from "@/lib/idp/token-refresh";
import { json, jsonError } from "@/lib/http/json";
import { COORDINATION_SECRET_HEADER, coordinationSecret, sessionFromWire, sessionToWire } from "@/lib/refresh/coordination-link";
import type { Session } from "@/lib/session/session";
import { inSpan } from "@/lib/telemetry/spans";

export interface CoordinationRouteOptions {
  /** The newest `AUTH_SECRET`. */
  authSecret: string;
  /** `undefined` without `REDIS_URL`: there is nothing to coordinate. */
  coordinate: ((session: Session) => Promise<Session>) | undefined;
}

/** Far above any session the cookie can hold. */
const MAX_BODY_BYTES = 64 * 1024;

const notFound = () => jsonError(404, "not_found", "Not found.");

async function isFromThisApp(request: Request, authSecret: string): Promise<boolean> {
  const presented = Buffer.from(request.headers.get(COORDINATION_SECRET_HEADER) ?? "");
  const expected = Buffer.from(await coordinationSecret(authSecret));
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export async function answerCoordinatedRefresh(request: Request, { authSecret, coordinate }: CoordinationRouteOptions): Promise<Response> {
  if (!coordinate || !(await isFromThisApp(request, authSecret))) return notFound();
  const text = await request.text();
  // Not a refresh outcome: the link reads these as `coordination_unavailable`, which keeps the session.
  if (text.length > MAX_BODY_BYTES) return json({ error: "bad_request", message: "The session sent for refresh is too large" }, 400);
  const session = sessionFromWire(parseJson(text));
  if (!session) return json({ error: "bad_request", message: "No session was sent for refresh" }, 400);
  try {
    // In the trace of the request whose middleware asked: Next.js's span for this request continues its traceparent.
    const successor = await inSpan("tessera.refresh.coordination", () => coordinate(session));
    return json(sessionToWire(successor));
  } catch (error) {
    if (!(error instanceof RefreshError)) throw error;
    const transient = error.code === "idp_unreachable" || error.code === "coordination_unavailable";
    return json({ error: error.code, message: error.message }, transient ? 503 : 409);
  }
}
