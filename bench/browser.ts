/**
 * What the benchmark needs of a browser: cookies kept per origin (so the web app's `Cookie` header holds
 * exactly what a real browser would send it), redirects followed by hand, and the dev IdP's login form
 * filled in. Sessions come from the real sign-in flow, never from sealing a cookie ourselves.
 */
import { CookieJar } from "../services/idp/testing/cookie-jar";

export class Browser {
  private readonly jars = new Map<string, CookieJar>();

  jar(origin: string): CookieJar {
    let jar = this.jars.get(origin);
    if (!jar) {
      jar = new CookieJar();
      this.jars.set(origin, jar);
    }
    return jar;
  }

  async request(url: URL, init: RequestInit = {}): Promise<Response> {
    const jar = this.jar(url.origin);
    const headers = new Headers(init.headers);
    const cookie = jar.header(url.pathname);
    if (cookie) headers.set("cookie", cookie);
    const response = await fetch(url, { ...init, headers, redirect: "manual", signal: AbortSignal.timeout(15_000) });
    jar.store(response.headers.getSetCookie(), url.pathname);
    return response;
  }
}

export interface Credentials {
  username: string;
  password: string;
}

/**
 * Signs in the way a user does: `/auth/login` on the web app, the IdP's login page, the callback, and on
 * to `returnTo`. Returns the HTML of `returnTo` as served to the signed-in browser.
 */
export async function signIn(browser: Browser, web: URL, credentials: Credentials, returnTo = "/dashboard"): Promise<string> {
  let url = new URL(`/auth/login?returnTo=${encodeURIComponent(returnTo)}`, web);
  let init: RequestInit = {};
  let submitted = false;
  for (let hop = 0; hop < 20; hop += 1) {
    const response = await browser.request(url, init);
    init = {};
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      url = new URL(location, url);
      continue;
    }
    if (response.status === 200 && url.origin === web.origin && url.pathname === returnTo) return response.text();
    if (response.status === 200 && url.origin !== web.origin && !submitted) {
      const action = /<form[^>]*\saction="([^"]*)"/.exec(await response.text())?.[1];
      if (action === undefined) throw new Error(`sign-in: no login form at ${url.origin}${url.pathname}`);
      url = new URL(action.replace(/&amp;/g, "&"), url);
      init = {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: url.origin },
        body: new URLSearchParams({ username: credentials.username, password: credentials.password }),
      };
      submitted = true;
      continue;
    }
    throw new Error(`sign-in stopped at ${response.status} ${url.origin}${url.pathname}`);
  }
  throw new Error("sign-in: too many redirects");
}
