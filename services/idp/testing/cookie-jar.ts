/**
 * A cookie jar for one origin that honours cookie paths, expiry and deletion: what a test browser (and the
 * benchmark's sign-in client) needs so that the `Cookie` header it sends is the one a real browser would.
 */
interface StoredCookie {
  value: string;
  path: string;
  /** Epoch milliseconds; none for a cookie that lives as long as the jar. */
  expiresAt?: number;
}

export class CookieJar {
  private readonly cookies = new Map<string, StoredCookie>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Applies `Set-Cookie` header values received for `requestPath`. */
  store(setCookies: readonly string[], requestPath: string): void {
    for (const header of setCookies) {
      const [pair = "", ...attributes] = header.split(";").map((part) => part.trim());
      const separator = pair.indexOf("=");
      if (separator <= 0) continue;
      const name = pair.slice(0, separator);
      const value = pair.slice(separator + 1);
      let path = requestPath.replace(/\/[^/]*$/, "") || "/";
      let expires: number | undefined;
      let maxAge: number | undefined;
      for (const attribute of attributes) {
        const [key = "", attributeValue = ""] = attribute.split("=");
        const lower = key.toLowerCase();
        if (lower === "path") path = attributeValue;
        if (lower === "expires") expires = Date.parse(attributeValue);
        if (lower === "max-age") maxAge = Number(attributeValue);
      }
      // Max-Age wins over Expires (RFC 6265 section 5.3).
      const expiresAt = maxAge !== undefined ? this.now() + maxAge * 1000 : expires;
      if (value === "" || (expiresAt !== undefined && expiresAt <= this.now())) this.cookies.delete(name);
      else this.cookies.set(name, { value, path, expiresAt });
    }
  }

  /** The cookies that apply to a request for `pathname`. */
  list(pathname = "/"): { name: string; value: string }[] {
    return this.live()
      .filter(([, cookie]) => pathMatches(pathname, cookie.path))
      .map(([name, { value }]) => ({ name, value }));
  }

  /** The `Cookie` header for a request to `pathname` (empty when nothing applies). */
  header(pathname: string): string {
    return this.list(pathname)
      .map(({ name, value }) => `${name}=${value}`)
      .join("; ");
  }

  names(): string[] {
    return this.live().map(([name]) => name);
  }

  private live(): [string, StoredCookie][] {
    const now = this.now();
    return [...this.cookies.entries()].filter(([, { expiresAt }]) => expiresAt === undefined || expiresAt > now);
  }
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith("/") || requestPath.charAt(cookiePath.length) === "/";
}
