import { describe, expect, it } from "vitest";
import { authorizationParams, refreshTokenExpiry } from "./quirks";

const SCOPE = "openid offline_access notes:read";
const API = "https://api.example";

describe("authorizationParams", () => {
  it("adds an RFC 8707 resource for the resource style", () => {
    expect(authorizationParams({ scope: SCOPE, audienceStyle: "resource", apiAudience: API })).toEqual({ scope: SCOPE, resource: API });
  });

  it("adds Auth0's audience for the audience style", () => {
    expect(authorizationParams({ scope: SCOPE, audienceStyle: "audience", apiAudience: API })).toEqual({ scope: SCOPE, audience: API });
  });

  it("adds only the scope for the scope style", () => {
    expect(authorizationParams({ scope: SCOPE, audienceStyle: "scope", apiAudience: API })).toEqual({ scope: SCOPE });
  });

  it("adds only the scope for the none style", () => {
    expect(authorizationParams({ scope: SCOPE, audienceStyle: "none", apiAudience: API })).toEqual({ scope: SCOPE });
  });
});

describe("refreshTokenExpiry", () => {
  it("counts Keycloak's refresh_expires_in from the response's arrival", () => {
    expect(refreshTokenExpiry({ refresh_expires_in: 1800 }, 1_000)).toBe(2_800);
  });

  it("is never without the field, or with Keycloak's 0 for no limit", () => {
    expect(refreshTokenExpiry({}, 1_000)).toBe(Infinity);
    expect(refreshTokenExpiry({ refresh_expires_in: 0 }, 1_000)).toBe(Infinity);
  });
});
