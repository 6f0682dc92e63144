import { describe, expect, it } from "vitest";
import { endSessionUrl } from "./end-session-url";

const base = {
  endSessionEndpoint: "https://idp.example/session/end",
  clientId: "tessera-bff",
  idToken: "header.payload.signature",
  postLogoutRedirectUri: "https://app.example/",
  state: "complete",
};

describe("endSessionUrl", () => {
  it("builds the IdP's end-session URL with id_token_hint, client_id and post_logout_redirect_uri", () => {
    const url = endSessionUrl(base);
    expect(url?.origin + (url?.pathname ?? "")).toBe("https://idp.example/session/end");
    expect(url?.searchParams.get("id_token_hint")).toBe("header.payload.signature");
    expect(url?.searchParams.get("client_id")).toBe("tessera-bff");
    expect(url?.searchParams.get("post_logout_redirect_uri")).toBe("https://app.example/");
  });

  it("percent-encodes the redirect URI", () => {
    const url = endSessionUrl({ ...base, postLogoutRedirectUri: "https://app.example/?signed=out&x=1" });
    expect(url?.href).toContain("post_logout_redirect_uri=https%3A%2F%2Fapp.example%2F%3Fsigned%3Dout%26x%3D1");
  });

  it("keeps query parameters already in the endpoint", () => {
    const url = endSessionUrl({ ...base, endSessionEndpoint: "https://tenant.example/logout?tenant=acme" });
    expect(url?.searchParams.get("tenant")).toBe("acme");
    expect(url?.searchParams.get("client_id")).toBe("tessera-bff");
  });

  it("sends no id_token_hint when there is no ID token", () => {
    const url = endSessionUrl({ ...base, idToken: undefined });
    expect(url).toBeInstanceOf(URL);
    expect(url?.searchParams.has("id_token_hint")).toBe(false);
    expect(url?.searchParams.get("client_id")).toBe("tessera-bff");
  });

  it("sends no id_token_hint for an empty ID token", () => {
    expect(endSessionUrl({ ...base, idToken: "" })?.searchParams.has("id_token_hint")).toBe(false);
  });

  it("passes state on for the IdP to return", () => {
    expect(endSessionUrl({ ...base, state: "api" })?.searchParams.get("state")).toBe("api");
  });

  it("always sends a state, which some IdPs need to send the browser back", () => {
    expect(endSessionUrl(base)?.searchParams.get("state")).toBe("complete");
  });

  it("is undefined when the IdP has no end-session endpoint", () => {
    expect(endSessionUrl({ ...base, endSessionEndpoint: undefined })).toBeUndefined();
  });

  it("is undefined for an empty end-session endpoint", () => {
    expect(endSessionUrl({ ...base, endSessionEndpoint: "" })).toBeUndefined();
  });
});
