/**
 * A minimal browser for protocol tests: `fetch` plus a cookie jar that honours cookie paths and deletions, with
 * redirects followed by hand so tests can stop where the browser would leave for another site.
 */
import { CookieJar } from "./cookie-jar";

export class TestBrowser {
  private readonly cookies = new CookieJar();

  constructor(private readonly defaultHeaders: Record<string, string> = {}) {}

  cookieNames(): string[] {
    return this.cookies.names();
  }

  async request(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url);
    const headers = new Headers({ ...this.defaultHeaders, ...(init.headers as Record<string, string> | undefined) });
    const cookie = this.cookies.header(target.pathname);
    if (cookie) headers.set("cookie", cookie);
    const response = await fetch(target, { ...init, headers, redirect: "manual" });
    this.cookies.store(response.headers.getSetCookie(), target.pathname);
    return response;
  }

  /** Follows redirects while they stay on `origin`; returns the last response and, if left, the foreign URL. */
  async follow(url: string | URL, origin: string, init: RequestInit = {}): Promise<{ response: Response; leftTo?: URL }> {
    let response = await this.request(url, init);
    let current = new URL(url);
    for (let hops = 0; hops < 10; hops++) {
      const location = response.headers.get("location");
      if (response.status < 300 || response.status >= 400 || !location) return { response };
      current = new URL(location, current);
      if (current.origin !== origin) return { response, leftTo: current };
      response = await this.request(current);
    }
    throw new Error("too many redirects");
  }
}

/** Values of hidden and named form fields, and the form's action, read from server-rendered HTML. */
export function readForm(html: string, formSelectorId?: string): { action: string; fields: Record<string, string> } {
  const formMatch = formSelectorId
    ? new RegExp(`<form[^>]*id="${formSelectorId.replace(/\./g, "\\.")}"[^>]*>`).exec(html)
    : /<form[^>]*>/.exec(html);
  if (!formMatch) throw new Error("no form in page");
  const action = /action="([^"]*)"/.exec(formMatch[0])?.[1];
  if (action === undefined) throw new Error("form without action");
  const fields: Record<string, string> = {};
  for (const input of html.matchAll(/<input[^>]*>/g)) {
    const name = /name="([^"]*)"/.exec(input[0])?.[1];
    const value = /value="([^"]*)"/.exec(input[0])?.[1];
    if (name !== undefined) fields[name] = decodeEntities(value ?? "");
  }
  return { action: decodeEntities(action), fields };
}

function decodeEntities(value: string): string {
  return value
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}
