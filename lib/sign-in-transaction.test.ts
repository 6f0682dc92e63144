import { describe, expect, it } from "vitest";
import { COOKIE_NAMES } from "./session-cookie";
import { deleteLeftoverCookies, LEFTOVER_COOKIES } from "./sign-in-transaction";

const ATTRIBUTES = "Path=/; Secure; HttpOnly; SameSite=Lax";
const DELETIONS = LEFTOVER_COOKIES.map((name) => `${name}=; Max-Age=0; ${ATTRIBUTES}`);

function answer(...setCookies: string[]): Headers {
  const headers = new Headers({ location: "/dashboard" });
  for (const setCookie of setCookies) headers.append("set-cookie", setCookie);
  return headers;
}

describe("deleteLeftoverCookies", () => {
  it("deletes Auth.js's callback-url and csrf cookies once the callback stores a session, with a __Host- deletion's attributes", () => {
    const headers = deleteLeftoverCookies(answer(`${COOKIE_NAMES.session}=sealed; ${ATTRIBUTES}`));
    expect(headers.getSetCookie()).toEqual([`${COOKIE_NAMES.session}=sealed; ${ATTRIBUTES}`, ...DELETIONS]);
    expect(DELETIONS).toEqual([`${COOKIE_NAMES.callbackUrl}=; Max-Age=0; ${ATTRIBUTES}`, `${COOKIE_NAMES.csrf}=; Max-Age=0; ${ATTRIBUTES}`]);
    expect(headers.get("location")).toBe("/dashboard");
  });

  it("counts a chunked session as stored", () => {
    const headers = deleteLeftoverCookies(answer(`${COOKIE_NAMES.session}.0=part; ${ATTRIBUTES}`, `${COOKIE_NAMES.session}.1=part; ${ATTRIBUTES}`));
    expect(headers.getSetCookie().slice(2)).toEqual(DELETIONS);
  });

  it("keeps every other cookie the callback writes, and drops Auth.js's own writes of the leftover cookies", () => {
    const written = deleteLeftoverCookies(
      answer(
        `${COOKIE_NAMES.session}=sealed; ${ATTRIBUTES}`,
        `${COOKIE_NAMES.csrf}=new-token%7Chash; ${ATTRIBUTES}`,
        `${COOKIE_NAMES.pkce}=; Max-Age=0; ${ATTRIBUTES}`,
        `${COOKIE_NAMES.callbackUrl}-other=kept; ${ATTRIBUTES}`,
      ),
    ).getSetCookie();
    expect(written).toEqual([
      `${COOKIE_NAMES.session}=sealed; ${ATTRIBUTES}`,
      `${COOKIE_NAMES.pkce}=; Max-Age=0; ${ATTRIBUTES}`,
      `${COOKIE_NAMES.callbackUrl}-other=kept; ${ATTRIBUTES}`,
      ...DELETIONS,
    ]);
  });

  it("leaves callback-url in the browser when the callback signs no one in (a forged link, a refused sign-in)", () => {
    for (const failed of [answer(`${COOKIE_NAMES.csrf}=new-token%7Chash; ${ATTRIBUTES}`), answer(`${COOKIE_NAMES.session}=; Max-Age=0; ${ATTRIBUTES}`), answer()]) {
      const written = deleteLeftoverCookies(failed).getSetCookie();
      expect(written.some((setCookie) => setCookie.startsWith(`${COOKIE_NAMES.callbackUrl}=`))).toBe(false);
      expect(written.some((setCookie) => setCookie.startsWith(`${COOKIE_NAMES.csrf}=`))).toBe(false);
    }
  });
});
