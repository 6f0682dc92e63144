// next-auth's own entry point needs Next.js's runtime; its errors are @auth/core's.
import { CallbackRouteError, OAuthCallbackError } from "@auth/core/errors";
import { afterEach, describe, expect, it, vi } from "vitest";
import { describeError, logError } from "./log";
import { SessionTooLargeError } from "@/lib/session/seal";

/** What a production build throws from the OIDC callback: Auth.js's CallbackRouteError, its class name minified. */
class p extends CallbackRouteError {}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("describeError", () => {
  it("gives name, code and message", () => {
    expect(describeError(new SessionTooLargeError(20_000))).toMatch(/^SessionTooLargeError \[session_too_large\]: The sealed session is 20000 characters/);
  });

  it("follows a standard cause", () => {
    const error = new Error("outer", { cause: new TypeError("inner") });
    expect(describeError(error)).toBe("Error: outer (cause: TypeError: inner)");
  });

  it("names an Auth.js error by its type, which survives minification, and reports the error it wraps", () => {
    // Auth.js's own call in its callback route, which its type declarations do not cover.
    const wrapped = new p(new SessionTooLargeError(20_000) as unknown as string, { provider: "oidc" } as ErrorOptions);
    expect(wrapped.name).toBe("p");
    const described = describeError(wrapped);
    expect(described).toMatch(/^CallbackRouteError: /);
    expect(described).toContain("(cause: SessionTooLargeError [session_too_large]: ");
  });

  it("never writes out a cause that is not an Error, such as an IdP's error response", () => {
    const response = { error: "access_denied", error_description: "<img src=x onerror=alert(1)>" };
    expect(describeError(new OAuthCallbackError("OAuth Provider returned an error", { cause: response }))).not.toContain("onerror");
    expect(describeError(new Error("refused", { cause: response }))).toBe("Error: refused");
  });

  it("turns a non-Error into a string", () => {
    expect(describeError("plain")).toBe("plain");
  });
});

describe("logError", () => {
  it("writes one line with the scope, the message and the description", () => {
    const spy = vi.spyOn(console, "error").mockImplementation(() => {});
    logError("auth", "sign-in failed", new Error("boom"));
    expect(spy).toHaveBeenCalledWith("[auth] sign-in failed: Error: boom");
  });

  it("logs no parser's message, which quotes what it could not parse (an answer that may hold a token)", () => {
    let parseError: unknown;
    try {
      JSON.parse('{"access_token":"eyJsecret');
    } catch (error) {
      parseError = error;
    }
    const described = describeError(new Error("the answer was not usable", { cause: parseError }));
    expect(described).toContain("SyntaxError");
    expect(described).not.toContain("eyJsecret");
  });
});
