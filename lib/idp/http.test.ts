import * as oauth from "oauth4webapi";
import { describe, expect, it } from "vitest";
import { describeAnswer, errorStatus, idpRefusalIn, isNetworkError, isOAuthErrorCode, isTransientStatus } from "./http";

const TOKEN_ENDPOINT = "https://idp.example/realms/x/token";

/** A response as fetch returns it, with its URL. */
function answered(body: BodyInit | null, status: number): Response {
  const response = new Response(body, { status });
  Object.defineProperty(response, "url", { value: TOKEN_ENDPOINT });
  return response;
}

const bodyError = (status: number, body: { error: string; error_description?: string }) =>
  new oauth.ResponseBodyError("server responded with an error in the response body", { cause: body, response: answered(JSON.stringify(body), status) });

describe("what a failed call to the IdP says", () => {
  it("repeats only what looks like an OAuth error code", () => {
    expect(["invalid_client", "access_denied", "urn:x:error.1"].every(isOAuthErrorCode)).toBe(true);
    expect(["<script>", "a b", "", "x".repeat(65)].some(isOAuthErrorCode)).toBe(false);
  });

  it("tells an answer without an OAuth body, an OAuth error and no answer at all apart", () => {
    const page = new oauth.OperationProcessingError("unexpected HTTP status code", { cause: answered("<html>", 400) });
    expect(errorStatus(page)).toBe(400);
    expect(describeAnswer(page)).toBe("HTTP 400 without an OAuth error");
    expect(describeAnswer(bodyError(401, { error: "invalid_client" }))).toBe("HTTP 401, error invalid_client");
    expect(describeAnswer(new TypeError("fetch failed"))).toBe("no answer");
    expect(isNetworkError(new TypeError("fetch failed"))).toBe(true);
    expect(isNetworkError(new DOMException("timed out", "TimeoutError"))).toBe(true);
  });

  it("counts server errors, timeouts and rate limits as 'not now', every other status as an answer", () => {
    expect([500, 502, 503, 408, 429].every(isTransientStatus)).toBe(true);
    expect([400, 401, 403, 404].some(isTransientStatus)).toBe(false);
  });
});

describe("idpRefusalIn", () => {
  it("names the endpoint, the status and the error code, never the description", () => {
    const refusal = idpRefusalIn(bodyError(400, { error: "unauthorized_client", error_description: "client alice@example.com is not allowed" }));
    expect(refusal).toBe(`${TOKEN_ENDPOINT} answered HTTP 400, error unauthorized_client`);
  });

  it("finds the refusal inside Auth.js's wrapping (cause.err), and inside plain causes", () => {
    const wrapped = Object.assign(new Error("Read more at https://errors.authjs.dev#callbackrouteerror"), {
      type: "CallbackRouteError",
      kind: "error",
      cause: { err: new Error("wrapped", { cause: bodyError(401, { error: "invalid_client" }) }) },
    });
    expect(idpRefusalIn(wrapped)).toBe(`${TOKEN_ENDPOINT} answered HTTP 401, error invalid_client`);
  });

  it("is undefined when the IdP never answered", () => {
    expect(idpRefusalIn(new TypeError("fetch failed"))).toBeUndefined();
    expect(idpRefusalIn(undefined)).toBeUndefined();
  });
});
