import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { isCrossSite } from "./interactions";

const request = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
const issuer = "http://localhost:4000";

describe("isCrossSite", () => {
  it("accepts a post from the IdP's own pages", () => {
    expect(isCrossSite(request({ origin: issuer, "sec-fetch-site": "same-origin" }), issuer)).toBe(false);
  });

  it("accepts a client that sends neither header", () => {
    expect(isCrossSite(request({}), issuer)).toBe(false);
  });

  it.each([
    [{ origin: "http://localhost:3000" }],
    [{ origin: "null" }],
    [{ origin: "http://localhost:4000.attacker.example" }],
    [{ "sec-fetch-site": "cross-site" }],
    [{ "sec-fetch-site": "same-site" }],
  ])("refuses %j", (headers) => {
    expect(isCrossSite(request(headers), issuer)).toBe(true);
  });
});
