/**
 * The auth cookies: their names, the attributes they are written with, and how the session is chunked. The one
 * home of these rules: Auth.js is given the same options (`server/auth`), and every `Set-Cookie` of ours is
 * written by `setCookie` here.
 *
 * Every auth cookie but one carries the `__Host-` prefix: the browser then insists on `Secure`, `Path=/` and
 * no `Domain`, so no sibling subdomain can plant or overwrite one. The exception is the ID token's cookie, which
 * only sign-out needs and which therefore travels only to the sign-out route: a cookie with a `Path` cannot be
 * `__Host-`, so it is `__Secure-` and bound to its session instead (see `id-token-cookie.ts`). Browsers treat
 * http://localhost as a secure context, so the same names work in development.
 *
 * A sealed session can exceed one cookie's 4 KB, so it is split into `name.0`, `name.1`, ... (Auth.js's naming;
 * its own writes are replaced by ours at the sign-in callback, so one chunk size holds); `joinChunks` puts it back
 * together. Edge-safe.
 */
import { recordCookieSize } from "@/lib/telemetry/signals";

const PREFIX = "__Host-tessera";

export const COOKIE_NAMES = {
  session: `${PREFIX}-session`,
  fresh: `${PREFIX}-fresh`,
  callbackUrl: `${PREFIX}-callback-url`,
  csrf: `${PREFIX}-csrf`,
  pkce: `${PREFIX}-pkce`,
  state: `${PREFIX}-state`,
  nonce: `${PREFIX}-nonce`,
  idToken: "__Secure-tessera-id-token",
} as const;

/** Where the ID token's cookie travels: the sign-out route, which sends it to the IdP as `id_token_hint`. */
export const ID_TOKEN_COOKIE_PATH = "/auth/logout";

/**
 * What every auth cookie is written with, deletions included: a `__Host-` cookie is deleted only by a `Set-Cookie`
 * that has them too. Lax, not Strict: the IdP's redirect back is a cross-site navigation (see the README).
 */
export const COOKIE_OPTIONS = { path: "/", secure: true, httpOnly: true, sameSite: "lax" } as const;

/** COOKIE_OPTIONS as `Set-Cookie` attributes, for the cookie's path. */
const attributes = (path: string) =>
  [
    `Path=${path}`,
    ...(COOKIE_OPTIONS.secure ? ["Secure"] : []),
    ...(COOKIE_OPTIONS.httpOnly ? ["HttpOnly"] : []),
    `SameSite=${COOKIE_OPTIONS.sameSite[0]!.toUpperCase()}${COOKIE_OPTIONS.sameSite.slice(1)}`,
  ].join("; ");

/** The path each auth cookie is written with: `/` for all but the ID token's. */
const pathOf = (name: string) => (name === COOKIE_NAMES.idToken ? ID_TOKEN_COOKIE_PATH : COOKIE_OPTIONS.path);

/** The `Set-Cookie` value that writes the auth cookie `name` with COOKIE_OPTIONS, for `maxAge` seconds or until `expires`. */
export function setCookie(name: string, value: string, lifetime: { maxAge: number } | { expires: Date }): string {
  const life = "maxAge" in lifetime ? `Max-Age=${lifetime.maxAge}` : `Expires=${lifetime.expires.toUTCString()}`;
  return `${name}=${value}; ${life}; ${attributes(pathOf(name))}`;
}

/** The `Set-Cookie` value that deletes the auth cookie `name`. */
export const cookieDeletion = (name: string) => setCookie(name, "", { maxAge: 0 });

/** More chunks than this is not a session this app wrote. */
const MAX_CHUNKS = 8;

export interface CookieLike {
  name: string;
  value: string;
}

/** The whole value of the chunked cookie `name`, or `undefined` when absent or malformed. */
export function joinChunks(name: string, cookies: Iterable<CookieLike>): string | undefined {
  const chunks: string[] = [];
  let whole: string | undefined;
  for (const cookie of cookies) {
    if (cookie.name === name) {
      whole = cookie.value;
    } else if (cookie.name.startsWith(`${name}.`)) {
      const index = cookie.name.slice(name.length + 1);
      if (!/^\d$/.test(index) || Number(index) >= MAX_CHUNKS) return undefined;
      chunks[Number(index)] = cookie.value;
    }
  }
  if (chunks.length === 0) return whole || undefined;
  // A gap means a chunk went missing (or was never ours): the value cannot be trusted to be whole.
  for (let i = 0; i < chunks.length; i += 1) if (chunks[i] === undefined) return undefined;
  return chunks.join("");
}

/**
 * The cookies of a `Cookie` request header that belong to the chunked cookie `name`, read exactly as Next.js's
 * `request.cookies` reads them (the middleware's view and this one must never differ): pairs split on `;` and the
 * spaces after it, names taken as they are, a pair without `=` worth "true", the last of two by one name kept, a
 * value that does not decode dropped. Only the pairs that start with `name` are cut out and decoded: the rest of
 * the header is passed over, and a value without `%` is its own decoding. For route handlers, which have the
 * request at hand.
 */
export function chunksInHeader(name: string, header: string | null): CookieLike[] {
  if (header === null) return [];
  const found = new Map<string, string>();
  for (let start = 0; start < header.length; ) {
    const semicolon = header.indexOf(";", start);
    const end = semicolon === -1 ? header.length : semicolon;
    if (header.startsWith(name, start)) {
      const pair = header.slice(start, end);
      const separator = pair.indexOf("=");
      const cookieName = separator === -1 ? pair : pair.slice(0, separator);
      const value = separator === -1 ? "true" : pair.slice(separator + 1);
      if (isChunkOf(name, cookieName)) {
        try {
          found.set(cookieName, value.includes("%") ? decodeURIComponent(value) : value);
        } catch {
          // Next.js drops it too.
        }
      }
    }
    start = end + 1;
    while (header.charCodeAt(start) === 0x20) start += 1;
  }
  return [...found].map(([cookieName, value]) => ({ name: cookieName, value }));
}

/** Whether `cookieName` is the chunked cookie `name` or one of its chunks. */
export function isChunkOf(name: string, cookieName: string): boolean {
  return cookieName === name || cookieName.startsWith(`${name}.`);
}

/** Names of every cookie that belongs to the chunked cookie `name`, for clearing them all. */
export function chunkNames(name: string, cookies: Iterable<CookieLike>): string[] {
  const names: string[] = [];
  for (const cookie of cookies) if (isChunkOf(name, cookie.name)) names.push(cookie.name);
  return names;
}

/** Room for one chunk's value: a cookie is at most 4096 bytes, name and attributes included. */
export const CHUNK_SIZE = 3900;

export interface CookieWrites {
  set: CookieLike[];
  /** Chunks the browser holds that the new value does not use: they must be deleted, or they would be joined in. */
  clear: string[];
}

/** The cookies that store `value` under the chunked cookie `name`, replacing what `existing` holds. */
export function chunkCookie(name: string, value: string, existing: Iterable<CookieLike>): CookieWrites {
  const set: CookieLike[] =
    value.length <= CHUNK_SIZE
      ? [{ name, value }]
      : Array.from({ length: Math.ceil(value.length / CHUNK_SIZE) }, (_, i) => ({
          name: `${name}.${i}`,
          value: value.slice(i * CHUNK_SIZE, (i + 1) * CHUNK_SIZE),
        }));
  const written = new Set(set.map((cookie) => cookie.name));
  return { set, clear: chunkNames(name, existing).filter((old) => !written.has(old)) };
}

/**
 * The session cookie, written: the chunks that store `sealed` until `expires`, and the deletion of every chunk the
 * browser holds (`existing`) that they do not replace. `cookies` are the chunks, for the request's own `Cookie` header.
 */
export function sessionCookieWrites(sealed: string, expires: Date, existing: Iterable<CookieLike>): { cookies: CookieLike[]; setCookies: string[] } {
  const { set, clear } = chunkCookie(COOKIE_NAMES.session, sealed, existing);
  recordCookieSize(set);
  return { cookies: set, setCookies: [...set.map(({ name, value }) => setCookie(name, value, { expires })), ...clear.map(cookieDeletion)] };
}
