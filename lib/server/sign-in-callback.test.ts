// next-auth's own entry point needs Next.js's runtime; its errors are @auth/core's.
import { CallbackRouteError, InvalidCheck } from "@auth/core/errors";
import { errors as jose } from "jose";
import { NextRequest } from "next/server";
import * as oauth from "oauth4webapi";
import { describe, expect, it } from "vitest";
import { CHUNK_SIZE, COOKIE_NAMES, joinChunks } from "@/lib/session/cookies";
import { ID_TOKEN_COOKIE_DELETION, idTokenFor } from "@/lib/session/id-token-cookie";
import { readSessionCookie, sealSession, SessionTooLargeError } from "@/lib/session/seal";
import { withAppEnv } from "@/lib/testing/app-env";
import { sessionFixture } from "@/lib/testing/fixtures";
import { parseSetCookie } from "@/lib/testing/set-cookie";
import { useTelemetry } from "@/lib/testing/telemetry";
import { finishSignIn, LEFTOVER_COOKIES, runCallback, signInFailure, signInOutcome } from "./sign-in-callback";

withAppEnv("https://app.example");

const ATTRIBUTES = "Path=/; Secure; HttpOnly; SameSite=Lax";
const AUTHJS_EXPIRES = "Expires=Thu, 01 Jan 2099 00:00:00 GMT";
const DELETIONS = LEFTOVER_COOKIES.map((name) => `${name}=; Max-Age=0; ${ATTRIBUTES}`);
const NAME = COOKIE_NAMES.session;
/** Auth.js's own chunk size, which differs from this app's. */
const AUTHJS_CHUNK = 3936;

function answer(...setCookies: string[]): Headers {
  const headers = new Headers({ location: "/dashboard" });
  for (const setCookie of setCookies) headers.append("set-cookie", setCookie);
  return headers;
}

/** Auth.js's writes of `sealed`, chunked at its own size. */
function authJsWrites(sealed: string): string[] {
  if (sealed.length <= AUTHJS_CHUNK) return [`${NAME}=${sealed}; ${ATTRIBUTES}; ${AUTHJS_EXPIRES}`];
  return Array.from({ length: Math.ceil(sealed.length / AUTHJS_CHUNK) }, (_, i) => `${NAME}.${i}=${sealed.slice(i * AUTHJS_CHUNK, (i + 1) * AUTHJS_CHUNK)}; ${ATTRIBUTES}; ${AUTHJS_EXPIRES}`);
}

const sessionWrites = (headers: Headers) => headers.getSetCookie().map(parseSetCookie).filter((cookie) => cookie.name.startsWith(NAME));

describe("finishSignIn: the session", () => {
  it("writes the session with this app's writer, dated by the session's own end", async () => {
    const session = sessionFixture({ idToken: undefined });
    const sealed = await sealSession(session);
    const [written, ...others] = sessionWrites(await finishSignIn(answer(...authJsWrites(sealed)), []));
    expect(others).toEqual([]);
    expect(written?.raw).toBe(`${NAME}=${sealed}; Expires=${new Date(session.expiresAt * 1000).toUTCString()}; ${ATTRIBUTES}`);
  });

  it("re-chunks a session that Auth.js chunked at its own size, and it opens to the same session", async () => {
    const session = sessionFixture({ idToken: undefined, accessToken: "a".repeat(6000) });
    const sealed = await sealSession(session);
    expect(authJsWrites(sealed).length).toBeGreaterThan(1);
    const headers = await finishSignIn(answer(...authJsWrites(sealed)), []);
    const written = sessionWrites(headers);
    const full = Math.floor(sealed.length / CHUNK_SIZE);
    expect(written.map((cookie) => cookie.value.length)).toEqual([...Array<number>(full).fill(CHUNK_SIZE), sealed.length - full * CHUNK_SIZE]);
    expect(joinChunks(NAME, written)).toBe(sealed);
    expect(await readSessionCookie(written)).toEqual(session);
    expect(headers.getSetCookie().slice(-3)).toEqual([ID_TOKEN_COOKIE_DELETION, ...DELETIONS]);
  });

  it("deletes chunks the browser still holds from an earlier session that the new one does not use", async () => {
    const sealed = await sealSession(sessionFixture({ idToken: undefined }));
    const existing = [0, 1, 2].map((i) => ({ name: `${NAME}.${i}`, value: "old" }));
    const written = sessionWrites(await finishSignIn(answer(...authJsWrites(sealed)), existing));
    expect(written.filter((cookie) => cookie.attributes.get("max-age") === "0").map((cookie) => cookie.name)).toEqual([`${NAME}.0`, `${NAME}.1`, `${NAME}.2`]);
    expect(written.filter((cookie) => cookie.value !== "").map((cookie) => cookie.name)).toEqual([NAME]);
  });
});

describe("finishSignIn: the ID token", () => {
  it("goes into its own cookie, for the sign-out route only, bound to the new session; the session cookie does not hold it", async () => {
    const session = sessionFixture({ idToken: undefined });
    const headers = await finishSignIn(answer(...authJsWrites(await sealSession(session))), [], "header.id-token-payload.signature");
    const idTokenCookie = headers.getSetCookie().map(parseSetCookie).find((cookie) => cookie.name === COOKIE_NAMES.idToken);
    expect(idTokenCookie?.attributes.get("path")).toBe("/auth/logout");
    expect(idTokenCookie?.attributes.has("httponly")).toBe(true);
    expect(idTokenCookie?.attributes.has("secure")).toBe(true);
    expect(await idTokenFor(session, idTokenCookie?.value)).toBe("header.id-token-payload.signature");
    expect(await idTokenFor({ ...session, id: "someone-else's-session" }, idTokenCookie?.value)).toBeUndefined();
    expect(sessionWrites(headers).map((cookie) => cookie.value).join()).not.toContain("id-token-payload");
  });

  it("deletes an earlier sign-in's ID token cookie when the new session has none to store", async () => {
    const headers = await finishSignIn(answer(...authJsWrites(await sealSession(sessionFixture({ idToken: undefined })))), [], undefined);
    expect(headers.getSetCookie()).toContain(ID_TOKEN_COOKIE_DELETION);
  });
});

describe("finishSignIn: the sign-in's leftover cookies", () => {
  it("deletes Auth.js's callback-url and csrf cookies once the callback stores a session, with a __Host- deletion's attributes", async () => {
    const headers = await finishSignIn(answer(...authJsWrites(await sealSession(sessionFixture()))), []);
    expect(headers.getSetCookie().slice(-2)).toEqual(DELETIONS);
    expect(DELETIONS).toEqual([`${COOKIE_NAMES.callbackUrl}=; Max-Age=0; ${ATTRIBUTES}`, `${COOKIE_NAMES.csrf}=; Max-Age=0; ${ATTRIBUTES}`]);
    expect(headers.get("location")).toBe("/dashboard");
  });

  it("keeps every other cookie the callback writes, and drops Auth.js's own writes of the leftover cookies", async () => {
    const written = (
      await finishSignIn(
        answer(
          ...authJsWrites(await sealSession(sessionFixture())),
          `${COOKIE_NAMES.csrf}=new-token%7Chash; ${ATTRIBUTES}`,
          `${COOKIE_NAMES.pkce}=; Max-Age=0; ${ATTRIBUTES}`,
          `${COOKIE_NAMES.callbackUrl}-other=kept; ${ATTRIBUTES}`,
        ),
        [],
      )
    ).getSetCookie();
    expect(written.filter((setCookie) => !setCookie.startsWith(NAME))).toEqual([
      `${COOKIE_NAMES.pkce}=; Max-Age=0; ${ATTRIBUTES}`,
      `${COOKIE_NAMES.callbackUrl}-other=kept; ${ATTRIBUTES}`,
      ID_TOKEN_COOKIE_DELETION,
      ...DELETIONS,
    ]);
  });

  it("leaves callback-url in the browser, and the answer's session cookies as they are, when the callback signs no one in (a forged link, a refused sign-in)", async () => {
    const refused = [
      answer(`${COOKIE_NAMES.csrf}=new-token%7Chash; ${ATTRIBUTES}`),
      answer(`${NAME}=; Max-Age=0; ${ATTRIBUTES}`),
      answer(`${NAME}=not-a-sealed-session; ${ATTRIBUTES}`),
      answer(),
    ];
    for (const failed of refused) {
      const before = failed.getSetCookie().filter((setCookie) => setCookie.startsWith(NAME));
      const written = (await finishSignIn(failed, [])).getSetCookie();
      expect(written.some((setCookie) => setCookie.startsWith(`${COOKIE_NAMES.callbackUrl}=`))).toBe(false);
      expect(written.some((setCookie) => setCookie.startsWith(`${COOKIE_NAMES.csrf}=`))).toBe(false);
      expect(written.filter((setCookie) => setCookie.startsWith(NAME))).toEqual(before);
    }
  });
});

describe("runCallback and signInFailure", () => {
  const tooLarge = () => Object.assign(new Error("Read more at https://errors.authjs.dev#callbackrouteerror"), { cause: { err: new SessionTooLargeError(20_000) } });
  const callback = (query = "code=c&state=s") => new NextRequest(`https://app.example/auth/callback/oidc?${query}`);
  const redirect = async () => Response.redirect("https://app.example/auth/error?error=Configuration");

  it("tells when Auth.js's callback failed because the session does not fit the cookie", async () => {
    const outcome = await runCallback(callback(), async () => {
      signInFailure(tooLarge());
      return redirect();
    });
    expect(outcome.tooLarge).toBe(true);
  });

  it("does not for any other failure, nor for a failure outside the callback", async () => {
    signInFailure(tooLarge());
    const outcome = await runCallback(callback(), async () => {
      signInFailure(new Error("OAuth Provider returned an error"));
      return redirect();
    });
    expect(outcome.tooLarge).toBe(false);
  });

  /** As Auth.js reports an IdP's error that came back on a callback whose state checked out. */
  const returnedError = () => Object.assign(new Error("OAuth Provider returned an error"), { type: "OAuthCallbackError", kind: "signIn" });

  it("logs the error the IdP sent the browser back with, and nothing that is not an error code", async () => {
    let logged: string[] = [];
    await runCallback(callback("error=access_denied&error_description=alice%40example.com"), async () => {
      logged = [signInFailure(returnedError())];
      return redirect();
    });
    expect(logged).toEqual(["sign-in failed: the authorization endpoint sent the browser back with error access_denied"]);
    await runCallback(callback("error=%3Cscript%3E"), async () => {
      logged = [signInFailure(returnedError())];
      return redirect();
    });
    expect(logged).toEqual(["sign-in failed: the authorization endpoint sent the browser back with an unrecognised error"]);
  });

  it("does not put a forged callback's error on the IdP's account", async () => {
    let logged = "";
    await runCallback(callback("error=invalid_client&state=forged"), async () => {
      logged = signInFailure(Object.assign(new Error("state mismatch"), { type: "InvalidCheck", kind: "error" }));
      return redirect();
    });
    expect(logged).toBe("sign-in failed");
  });

  it("says nothing more than that it failed when the IdP did not refuse", async () => {
    expect(signInFailure(new TypeError("fetch failed"))).toBe("sign-in failed");
  });
});

/** As Auth.js wraps what failed in its callback route: the error it caught kept as `cause.err`. */
const inCallbackRoute = (error: Error) => new CallbackRouteError(error as unknown as string, { provider: "oidc" } as ErrorOptions);

/** oauth4webapi's own refusal of a callback whose `state` is not the one this browser was sent with. */
function stateMismatch(): Error {
  const as: oauth.AuthorizationServer = { issuer: "https://idp.example" };
  try {
    oauth.validateAuthResponse(as, { client_id: "tessera-bff" }, new URLSearchParams("code=SECRET-CODE&state=forged"), "expected-state");
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected validateAuthResponse to refuse the state");
}

describe("signInOutcome", () => {
  it("is check_failed for Auth.js's InvalidCheck: a state, nonce or PKCE cookie missing or not matching", () => {
    expect(signInOutcome(new InvalidCheck("pkceCodeVerifier value could not be parsed"))).toBe("check_failed");
    expect(signInOutcome(Object.assign(new Error("state mismatch"), { type: "InvalidCheck" }))).toBe("check_failed");
    expect(signInOutcome(inCallbackRoute(new InvalidCheck("state value could not be parsed")))).toBe("check_failed");
  });

  it("is check_failed for oauth4webapi's comparison of state or nonce, wrapped as Auth.js wraps it", () => {
    expect(stateMismatch()).toMatchObject({ code: oauth.INVALID_RESPONSE });
    expect(signInOutcome(inCallbackRoute(stateMismatch()))).toBe("check_failed");
    const nonce = new oauth.OperationProcessingError('unexpected ID Token "nonce" claim value', { code: oauth.JWT_CLAIM_COMPARISON });
    expect(signInOutcome(inCallbackRoute(nonce))).toBe("check_failed");
  });

  it("is id_token_rejected for jose's verification errors and oauth4webapi's claim and timestamp checks", () => {
    expect(signInOutcome(inCallbackRoute(new jose.JWSSignatureVerificationFailed()))).toBe("id_token_rejected");
    expect(signInOutcome(new jose.JWTExpired("exp", {}))).toBe("id_token_rejected");
    const audience = new oauth.OperationProcessingError('unexpected JWT "aud" (audience) claim value', { code: oauth.JWT_CLAIM_COMPARISON });
    const expired = new oauth.OperationProcessingError('unexpected JWT "exp" (expiration time) claim value, expiration is past current timestamp', { code: oauth.JWT_TIMESTAMP_CHECK });
    expect(signInOutcome(inCallbackRoute(audience))).toBe("id_token_rejected");
    expect(signInOutcome(inCallbackRoute(expired))).toBe("id_token_rejected");
  });

  it("is failed for anything else", () => {
    expect(signInOutcome(new TypeError("fetch failed"))).toBe("failed");
    expect(signInOutcome(inCallbackRoute(new Error("something broke")))).toBe("failed");
    const issuer = new oauth.OperationProcessingError('unexpected "iss" (issuer) response parameter value', { code: oauth.INVALID_RESPONSE });
    expect(signInOutcome(inCallbackRoute(issuer))).toBe("failed");
    expect(signInOutcome(Object.assign(new Error("x"), { code: "state" }))).toBe("failed");
    expect(signInOutcome(undefined)).toBe("failed");
    expect(signInOutcome("a string")).toBe("failed");
  });
});

describe("sign-ins counted in tessera.sign_ins", () => {
  const telemetry = useTelemetry({ traces: false });
  const signIns = () => telemetry.collectMetric("tessera.sign_ins");
  const callback = (query = "code=c&state=s") => new NextRequest(`https://app.example/auth/callback/oidc?${query}`);
  const failedWith = (error: unknown, query?: string) =>
    runCallback(callback(query), async () => {
      signInFailure(error);
      return Response.redirect("https://app.example/auth/error?error=Configuration");
    });

  it("counts ok when the callback stores a session, and nothing when it stores none", async () => {
    await finishSignIn(answer(...authJsWrites(await sealSession(sessionFixture()))), []);
    await finishSignIn(answer(`${COOKIE_NAMES.csrf}=new-token%7Chash; ${ATTRIBUTES}`), []);
    await finishSignIn(answer(`${NAME}=not-a-sealed-session; ${ATTRIBUTES}`), []);
    expect(await signIns()).toEqual([{ attributes: { "tessera.outcome": "ok" }, value: 1 }]);
  });

  it("counts a failed callback by what failed: the IdP's refusal, a check, the ID token, anything else", async () => {
    await failedWith(Object.assign(new Error("OAuth Provider returned an error"), { type: "OAuthCallbackError", kind: "signIn" }), "error=access_denied&state=s");
    await failedWith(new InvalidCheck("state value could not be parsed"));
    await failedWith(inCallbackRoute(stateMismatch()));
    await failedWith(inCallbackRoute(new jose.JWSSignatureVerificationFailed()));
    await failedWith(new TypeError("fetch failed"));
    expect(await signIns()).toEqual(
      expect.arrayContaining([
        { attributes: { "tessera.outcome": "idp_error" }, value: 1 },
        { attributes: { "tessera.outcome": "check_failed" }, value: 2 },
        { attributes: { "tessera.outcome": "id_token_rejected" }, value: 1 },
        { attributes: { "tessera.outcome": "failed" }, value: 1 },
      ]),
    );
    expect(await telemetry.total("tessera.sign_ins")).toBe(5);
  });

  it("counts nothing for an error Auth.js reports outside a callback", async () => {
    signInFailure(new InvalidCheck("state value could not be parsed"));
    signInFailure(new TypeError("fetch failed"));
    expect(await signIns()).toEqual([]);
  });
});
