/**
 * Where to send the user after sign-in: only a path on this origin, never an open redirect.
 *
 * Browsers are lenient with URLs (`//host`, `/\host`, tabs and newlines stripped from the middle,
 * `https:host`), so anything that is not plainly a local path falls back to the default. Pure.
 */

export const DEFAULT_RETURN_TO = "/dashboard";
const MAX_LENGTH = 2048;
const PROBE_ORIGIN = "http://return-to.invalid";

export function safeReturnTo(raw: unknown, fallback: string = DEFAULT_RETURN_TO): string {
  if (typeof raw !== "string" || raw.length === 0 || raw.length > MAX_LENGTH) return fallback;
  // Control characters (tab, newline, NUL, ...) and backslashes are how payloads sneak past a prefix check.
  if (/[\u0000-\u001f\u007f\\]/.test(raw)) return fallback;
  if (!raw.startsWith("/") || raw.startsWith("//")) return fallback;
  let url: URL;
  try {
    url = new URL(raw, PROBE_ORIGIN);
  } catch {
    return fallback;
  }
  if (url.origin !== PROBE_ORIGIN) return fallback;
  const path = `${url.pathname}${url.search}${url.hash}`;
  // The parser resolves dot segments: "/.//evil.example" (or "/%2e//", "/..//") becomes "//evil.example".
  return path.startsWith("//") ? fallback : path;
}

/** `safeReturnTo` for a value that may be an absolute URL on our own origin (Auth.js's callback URLs are). */
export function safeReturnUrl(raw: string, baseUrl: string): string {
  if (raw.startsWith("/")) return new URL(safeReturnTo(raw), baseUrl).href;
  try {
    const url = new URL(raw);
    if (url.origin === new URL(baseUrl).origin) return new URL(safeReturnTo(`${url.pathname}${url.search}${url.hash}`), baseUrl).href;
  } catch {
    // Not a URL: fall through to the default.
  }
  return new URL(DEFAULT_RETURN_TO, baseUrl).href;
}
