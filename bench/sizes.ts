/**
 * What a signed-in browser carries and downloads: the `Cookie` header it sends with every request, the
 * JavaScript of the dashboard, and whether steady-state responses rewrite the session cookie.
 */
import { gzipSync } from "node:zlib";
import { COOKIE_NAMES, isChunkOf } from "@/lib/session/cookies";
import type { Browser } from "./browser";

export interface Sizes {
  /** Bytes of the whole `Cookie` header sent with `/dashboard`. */
  cookieHeaderBytes: number;
  /** Bytes of the session's own `name=value` pairs in it. */
  sessionCookieBytes: number;
  sessionChunks: number;
  cookieNames: string[];
  dashboardScripts: number;
  dashboardJsBytes: number;
  dashboardJsGzipBytes: number;
}

export async function measureSizes(browser: Browser, web: URL, dashboardHtml: string): Promise<Sizes> {
  const cookies = browser.jar(web.origin).list("/dashboard");
  const session = cookies.filter(({ name }) => isChunkOf(COOKIE_NAMES.session, name));
  const pairBytes = (list: typeof cookies) => Buffer.byteLength(list.map(({ name, value }) => `${name}=${value}`).join("; "));

  const sources = new Set([...dashboardHtml.matchAll(/<script\b[^>]*\ssrc="([^"]+)"/g)].map((match) => match[1]!.replace(/&amp;/g, "&")));
  if (sources.size === 0) throw new Error("the dashboard's HTML references no script");
  let raw = 0;
  let gzip = 0;
  for (const source of sources) {
    const response = await fetch(new URL(source, web));
    if (!response.ok) throw new Error(`script ${source} answered ${response.status}`);
    const body = Buffer.from(await response.arrayBuffer());
    raw += body.byteLength;
    gzip += gzipSync(body).byteLength;
  }

  return {
    cookieHeaderBytes: pairBytes(cookies),
    sessionCookieBytes: pairBytes(session),
    sessionChunks: session.length,
    cookieNames: cookies.map(({ name }) => name),
    dashboardScripts: sources.size,
    dashboardJsBytes: raw,
    dashboardJsGzipBytes: gzip,
  };
}

/** How many of `count` sequential signed-in requests to `path` answered with a `Set-Cookie`; every one must succeed. */
export async function cookieWrites(browser: Browser, url: URL, headers: Record<string, string>, count: number): Promise<number> {
  let writes = 0;
  for (let i = 0; i < count; i += 1) {
    const response = await browser.request(url, { headers });
    await response.body?.cancel();
    if (response.status !== 200) throw new Error(`${url.pathname} answered ${response.status} to a signed-in request`);
    if (response.headers.getSetCookie().length > 0) writes += 1;
  }
  return writes;
}
