/**
 * The receiving end of OpenID Connect Back-Channel Logout 1.0: the IdP POSTs a logout token when a session
 * ends there (the user signed out at the IdP, or an administrator ended it).
 *
 * 1. Read exactly one `logout_token` from a small form body.
 * 2. Verify it fully (see `idp/logout-token`).
 * 3. Record its session (or, without a `sid`, every session of its user so far) as ended, and its `jti` as used,
 *    in one step: a replay changes nothing.
 * 4. Pass it on to the API, so that the session's access tokens die with it.
 * Answers (section 2.8): 200 once the session has ended here, 400 with an OAuth-style `error` otherwise,
 * never cached. A failure to reach the API is logged but does not undo step 3, so it is still a 200.
 * Dependencies are injected, so that each answer can be tested.
 */
import { endedKey, type EndedSessions } from "@/lib/server/ended-sessions/store";
import { NO_STORE } from "@/lib/http/json";
import { BodyTooLargeError, readLimited } from "@/lib/http/read-limited";
import { logError, logInfo } from "@/lib/log";
import { LogoutTokenError, type LogoutToken } from "@/lib/idp/logout-token";
import { countBackChannelLogout } from "@/lib/telemetry/signals";

/** A logout token is a signed JWT of a kilobyte or two; the form around it adds a few bytes. */
export const MAX_BODY_BYTES = 12 * 1024;

export interface BackchannelLogoutDeps {
  verify(logoutToken: string): Promise<LogoutToken>;
  sessions: Pick<EndedSessions, "endOnce">;
  /** Passes the logout token on to the API; rejects when the API did not take it. */
  relay(logoutToken: string): Promise<void>;
  /** Seconds: how long a session named by a logout token could have lasted, since its end is unknown here. */
  sessionMaxAge: number;
  /** Epoch milliseconds. */
  now?: () => number;
}

const SCOPE = "backchannel-logout";

const answer = (status: 200 | 400, body?: { error: string; error_description: string }): Response =>
  body ? Response.json(body, { status, headers: NO_STORE }) : new Response(null, { status, headers: NO_STORE });

const invalidRequest = (description: string) => answer(400, { error: "invalid_request", error_description: description });

// The IdP may send again later; the request changed nothing, so that is safe.
const unavailable = () => answer(400, { error: "temporarily_unavailable", error_description: "The logout could not be processed now." });

/** The one `logout_token` of a form body no larger than MAX_BODY_BYTES, or a reason why not. */
async function readLogoutToken(request: Request): Promise<{ token: string } | { problem: string }> {
  if (request.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase() !== "application/x-www-form-urlencoded") {
    return { problem: "Content-Type must be application/x-www-form-urlencoded" };
  }
  // Declared or chunked alike (IdPs send both), no more than the limit is read.
  const declared = request.headers.get("content-length");
  if (declared !== null && (!/^\d+$/.test(declared) || Number(declared) > MAX_BODY_BYTES)) {
    return { problem: `The body must be at most ${MAX_BODY_BYTES} bytes` };
  }
  let body: Uint8Array;
  try {
    body = await readLimited(request.body, MAX_BODY_BYTES);
  } catch (error) {
    if (error instanceof BodyTooLargeError) return { problem: `The body must be at most ${MAX_BODY_BYTES} bytes` };
    throw error;
  }
  const tokens = new URLSearchParams(new TextDecoder().decode(body)).getAll("logout_token");
  if (tokens.length !== 1 || !tokens[0]) return { problem: "Exactly one logout_token is required" };
  return { token: tokens[0] };
}

export async function handleBackchannelLogout(request: Request, deps: BackchannelLogoutDeps): Promise<Response> {
  const { now = Date.now } = deps;
  const read = await readLogoutToken(request);
  if ("problem" in read) {
    logInfo(SCOPE, `request refused: ${read.problem}`);
    countBackChannelLogout("refused", "bad_request");
    return invalidRequest(read.problem);
  }

  let logout: LogoutToken;
  try {
    logout = await deps.verify(read.token);
  } catch (error) {
    if (error instanceof LogoutTokenError && error.code === "invalid_logout_token") {
      logInfo(SCOPE, `logout token refused: ${error.message}`);
      countBackChannelLogout("refused", "invalid_logout_token");
      return invalidRequest("The logout token is invalid.");
    }
    logError(SCOPE, "could not verify a logout token", error);
    countBackChannelLogout("refused", "keys_unavailable");
    return unavailable();
  }

  const { jti, sid, sub, issuedAt, acceptableUntil } = logout;
  // Kept until every session it may name has run its course.
  const until = Math.floor(now() / 1000) + deps.sessionMaxAge;
  const message = { jti, until: acceptableUntil };
  let firstUse: boolean;
  try {
    // Without a `sid`, every session of the user (section 2.7) that the IdP had started when it issued the token,
    // both dated by the IdP's clock (see `Session.startedAt`): a sign-in after it is not one, however late the
    // token arrives and whatever this instance's clock says.
    firstUse =
      sid === undefined
        ? await deps.sessions.endOnce(endedKey.subject(sub), until, message, issuedAt)
        : await deps.sessions.endOnce(endedKey.idp(sid), until, message);
  } catch (error) {
    logError(SCOPE, "could not record the ended session", error);
    countBackChannelLogout("refused", "store_unavailable");
    return unavailable();
  }
  if (!firstUse) {
    logInfo(SCOPE, `logout token refused: jti ${jti} was used before`);
    countBackChannelLogout("refused", "replayed");
    return invalidRequest("The logout token is invalid.");
  }
  try {
    await deps.relay(read.token);
  } catch (error) {
    logError(SCOPE, "the API did not take the logout token; the session's access tokens stay valid until they expire", error);
  }
  logInfo(SCOPE, `session ended: sid=${sid ?? "-"} sub=${sub ?? "-"} jti=${jti}`);
  countBackChannelLogout("accepted");
  return answer(200);
}
