/** A `Set-Cookie` header value, parsed for tests: what a browser would store, and with which attributes. */
export interface SetCookie {
  name: string;
  value: string;
  /** Attribute names lower-cased; flags map to "". */
  attributes: Map<string, string>;
  /** The whole header value, as the browser stores it against the 4096-byte cookie limit. */
  raw: string;
}

export function parseSetCookie(raw: string): SetCookie {
  const [pair = "", ...attrs] = raw.split(";").map((part) => part.trim());
  const eq = pair.indexOf("=");
  const attributes = new Map<string, string>();
  for (const attr of attrs) {
    const at = attr.indexOf("=");
    if (at === -1) attributes.set(attr.toLowerCase(), "");
    else attributes.set(attr.slice(0, at).toLowerCase(), attr.slice(at + 1));
  }
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes, raw };
}
