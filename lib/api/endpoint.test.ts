import { describe, expect, it } from "vitest";
import { apiEndpoint } from "./endpoint";

describe("apiEndpoint", () => {
  it("puts the route at the root of an API served at an origin", () => {
    expect(apiEndpoint(new URL("https://api.example"), "/notes").href).toBe("https://api.example/notes");
    expect(apiEndpoint(new URL("http://127.0.0.1:4001/"), "/me").href).toBe("http://127.0.0.1:4001/me");
  });

  it("keeps the path an API is published under, with or without a trailing slash", () => {
    expect(apiEndpoint(new URL("https://gateway.example/notes-api"), "/notes/7").href).toBe("https://gateway.example/notes-api/notes/7");
    expect(apiEndpoint(new URL("https://gateway.example/notes-api/"), "/revocations").href).toBe("https://gateway.example/notes-api/revocations");
  });

  it("carries the route's query, and none of API_URL's", () => {
    expect(apiEndpoint(new URL("https://api.example:8443/v1/?debug=1"), "/notes?limit=5").href).toBe("https://api.example:8443/v1/notes?limit=5");
  });
});
