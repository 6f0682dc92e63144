import { describe, expect, it } from "vitest";
import { COOKIE_NAMES } from "./session-cookie";
import { deleteLeftoverCookies, LEFTOVER_COOKIES } from "./sign-in-transaction";

const ATTRIBUTES = "Path=/; Secure; HttpOnly; SameSite=Lax";

describe("deleteLeftoverCookies", () => {
  it("deletes Auth.js's callback-url and csrf cookies, with the attributes a __Host- deletion needs", () => {
    const headers = deleteLeftoverCookies(new Headers({ location: "/dashboard" }));
    expect(headers.getSetCookie()).toEqual([
      `${COOKIE_NAMES.callbackUrl}=; Max-Age=0; ${ATTRIBUTES}`,
      `${COOKIE_NAMES.csrf}=; Max-Age=0; ${ATTRIBUTES}`,
    ]);
    expect(headers.get("location")).toBe("/dashboard");
  });

  it("keeps every other cookie the callback writes, and drops a leftover cookie it wrote again", () => {
    const headers = new Headers();
    headers.append("set-cookie", `${COOKIE_NAMES.session}=sealed; ${ATTRIBUTES}`);
    headers.append("set-cookie", `${COOKIE_NAMES.csrf}=new-token%7Chash; ${ATTRIBUTES}`);
    headers.append("set-cookie", `${COOKIE_NAMES.pkce}=; Max-Age=0; ${ATTRIBUTES}`);
    headers.append("set-cookie", `${COOKIE_NAMES.callbackUrl}-other=kept; ${ATTRIBUTES}`);
    const written = deleteLeftoverCookies(headers).getSetCookie();
    expect(written).toEqual([
      `${COOKIE_NAMES.session}=sealed; ${ATTRIBUTES}`,
      `${COOKIE_NAMES.pkce}=; Max-Age=0; ${ATTRIBUTES}`,
      `${COOKIE_NAMES.callbackUrl}-other=kept; ${ATTRIBUTES}`,
      ...LEFTOVER_COOKIES.map((name) => `${name}=; Max-Age=0; ${ATTRIBUTES}`),
    ]);
  });
});
