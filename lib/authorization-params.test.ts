import { describe, expect, it } from "vitest";
import { authorizationParams } from "./authorization-params";

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
