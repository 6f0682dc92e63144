/**
 * Response headers that make the browser enforce what the app already intends. Edge-safe and pure.
 *
 * The Content Security Policy allows only scripts that carry this response's nonce ('strict-dynamic'
 * lets them load Next.js's chunks), so an injected `<script>` never runs. Forms may post only to this
 * origin and the IdP (sign-out redirects there), and no other site may frame the app.
 */

export interface CspOptions {
  nonce: string;
  /** The IdP's origin: the sign-out form's redirect ends there, and Chrome applies form-action to redirects. */
  idpOrigin: string;
  /**
   * React's development build evaluates code from strings, and the dev tools overlay styles itself inline;
   * production does neither.
   */
  development: boolean;
  /** Upgrade stray http:// subresources, where the app itself is served over https. */
  https: boolean;
}

export function contentSecurityPolicy({ nonce, idpOrigin, development, https }: CspOptions): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${development ? " 'unsafe-eval'" : ""}`,
    // A nonce makes browsers ignore 'unsafe-inline', so development lists no nonce for styles.
    development ? "style-src 'self' 'unsafe-inline'" : `style-src 'self' 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    `form-action 'self' ${idpOrigin}`,
    "frame-ancestors 'none'",
    ...(https ? ["upgrade-insecure-requests"] : []),
  ].join("; ");
}

/** The nonce the middleware put in this request's policy (Next.js reads it the same way), for a route that writes HTML. */
export function nonceFrom(headers: Headers): string {
  return /'nonce-([^']+)'/.exec(headers.get("content-security-policy") ?? "")?.[1] ?? "";
}

export function newNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes));
}

/** Two years, the HSTS preload list's minimum; sent only where the app is served over https. */
export const STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains";

/** The data routes answer JSON, which runs nothing, loads nothing and is never framed (set in next.config.ts). */
export const DATA_ROUTE_CSP = "default-src 'none'; frame-ancestors 'none'";

/** Headers for every response, static files included (set in next.config.ts). */
export const STATIC_SECURITY_HEADERS = [
  { key: "X-Content-Type-Options", value: "nosniff" },
  // Stricter than strict-origin-when-cross-origin; `no-referrer` would make form posts send `Origin: null`.
  { key: "Referrer-Policy", value: "same-origin" },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=(), payment=(), usb=()" },
  { key: "Cross-Origin-Opener-Policy", value: "same-origin" },
] as const;
