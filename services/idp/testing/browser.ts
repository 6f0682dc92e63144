/**
 * A minimal browser for protocol tests: `fetch` plus a cookie jar that honours cookie paths and deletions, with
 * redirects followed by hand so tests can stop where the browser would leave for another site.
 */
interface StoredCookie {
  value: string;
  path: string;
}

export class TestBrowser {
  private readonly cookies = new Map<string, StoredCookie>();

  constructor(private readonly defaultHeaders: Record<string, string> = {}) {}

  cookieNames(): string[] {
    return [...this.cookies.keys()];
  }

  async request(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url);
    const headers = new Headers({ ...this.defaultHeaders, ...(init.headers as Record<string, string> | undefined) });
    const cookie = this.cookieHeader(target.pathname);
    if (cookie) headers.set("cookie", cookie);
    const response = await fetch(target, { ...init, headers, redirect: "manual" });
    this.store(response, target.pathname);
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

  private cookieHeader(pathname: string): string {
    return [...this.cookies.entries()]
      .filter(([, cookie]) => pathMatches(pathname, cookie.path))
      .map(([name, cookie]) => `${name}=${cookie.value}`)
      .join("; ");
  }

  private store(response: Response, requestPath: string): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = header.split(";").map((part) => part.trim());
      const separator = pair.indexOf("=");
      const name = pair.slice(0, separator);
      const value = pair.slice(separator + 1);
      let path = requestPath.replace(/\/[^/]*$/, "") || "/";
      let expired = value === "";
      for (const attribute of attributes) {
        const [key = "", attributeValue = ""] = attribute.split("=");
        if (key.toLowerCase() === "path") path = attributeValue;
        if (key.toLowerCase() === "expires" && Date.parse(attributeValue) <= Date.now()) expired = true;
        if (key.toLowerCase() === "max-age" && Number(attributeValue) <= 0) expired = true;
      }
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, { value, path });
    }
  }
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith("/") || requestPath.charAt(cookiePath.length) === "/";
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
