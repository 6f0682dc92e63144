import { describe, expect, it } from "vitest";
import { useTelemetry } from "@/lib/testing/telemetry";
import { CHUNK_SIZE, COOKIE_NAMES, COOKIE_OPTIONS, chunkCookie, chunkNames, chunksInHeader, cookieDeletion, isChunkOf, joinChunks, sessionCookieWrites, setCookie } from "./cookies";

const NAME = COOKIE_NAMES.session;
const cookie = (name: string, value: string) => ({ name, value });

describe("COOKIE_NAMES", () => {
  it("gives every auth cookie the __Host- prefix, but the ID token's, which has a path and so is __Secure-", () => {
    for (const [key, name] of Object.entries(COOKIE_NAMES)) expect(name.startsWith(key === "idToken" ? "__Secure-" : "__Host-"), name).toBe(true);
  });

  it("writes the ID token's cookie for the sign-out route only, and every other at the root, all Secure, HttpOnly and Lax", () => {
    expect(setCookie(COOKIE_NAMES.idToken, "v", { maxAge: 60 })).toBe("__Secure-tessera-id-token=v; Max-Age=60; Path=/auth/logout; Secure; HttpOnly; SameSite=Lax");
    expect(cookieDeletion(COOKIE_NAMES.idToken)).toBe("__Secure-tessera-id-token=; Max-Age=0; Path=/auth/logout; Secure; HttpOnly; SameSite=Lax");
    expect(setCookie(COOKIE_NAMES.session, "v", { maxAge: 60 })).toBe("__Host-tessera-session=v; Max-Age=60; Path=/; Secure; HttpOnly; SameSite=Lax");
  });

  it("gives every auth cookie a distinct name", () => {
    const names = Object.values(COOKIE_NAMES);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe("joinChunks", () => {
  it("returns the value of a single, unchunked cookie", () => {
    expect(joinChunks(NAME, [cookie(NAME, "whole-value")])).toBe("whole-value");
  });

  it("returns undefined when the cookie is absent", () => {
    expect(joinChunks(NAME, [cookie("theme", "dark")])).toBeUndefined();
  });

  it("returns undefined for an empty single cookie", () => {
    expect(joinChunks(NAME, [cookie(NAME, "")])).toBeUndefined();
  });

  it("joins chunks .0 .1 .2 in index order", () => {
    const cookies = [cookie(`${NAME}.0`, "aaa"), cookie(`${NAME}.1`, "bbb"), cookie(`${NAME}.2`, "ccc")];
    expect(joinChunks(NAME, cookies)).toBe("aaabbbccc");
  });

  it("joins chunks that arrive out of order", () => {
    const cookies = [cookie(`${NAME}.2`, "ccc"), cookie(`${NAME}.0`, "aaa"), cookie(`${NAME}.1`, "bbb")];
    expect(joinChunks(NAME, cookies)).toBe("aaabbbccc");
  });

  it("returns undefined when a middle chunk is missing", () => {
    expect(joinChunks(NAME, [cookie(`${NAME}.0`, "aaa"), cookie(`${NAME}.2`, "ccc")])).toBeUndefined();
  });

  it("returns undefined when the first chunk is missing", () => {
    expect(joinChunks(NAME, [cookie(`${NAME}.1`, "bbb"), cookie(`${NAME}.2`, "ccc")])).toBeUndefined();
  });

  it.each(["x", "", "-1", "1a", "01", "١"])("returns undefined for the non-numeric or malformed index %j", (index) => {
    expect(joinChunks(NAME, [cookie(`${NAME}.0`, "aaa"), cookie(`${NAME}.${index}`, "zzz")])).toBeUndefined();
  });

  it.each(["8", "9", "10", "99"])("returns undefined for the too-high index %s", (index) => {
    expect(joinChunks(NAME, [cookie(`${NAME}.0`, "aaa"), cookie(`${NAME}.${index}`, "zzz")])).toBeUndefined();
  });

  it("accepts the highest allowed index when every chunk before it is there", () => {
    const cookies = Array.from({ length: 8 }, (_, i) => cookie(`${NAME}.${i}`, String(i)));
    expect(joinChunks(NAME, cookies)).toBe("01234567");
  });

  it("ignores unrelated cookies whose names share the prefix", () => {
    const cookies = [
      cookie(`${NAME}-old`, "nope"),
      cookie(`${NAME}x.0`, "nope"),
      cookie(`${NAME}.0`, "aaa"),
      cookie(NAME.replace("session", "sessions"), "nope"),
      cookie(`${NAME}.1`, "bbb"),
      cookie(COOKIE_NAMES.csrf, "nope"),
    ];
    expect(joinChunks(NAME, cookies)).toBe("aaabbb");
  });

  it("ignores a cookie with the same name but without the __Host- prefix", () => {
    expect(joinChunks(NAME, [cookie(NAME.replace("__Host-", ""), "planted")])).toBeUndefined();
  });

  it("prefers the chunks over a stray whole cookie of the same name", () => {
    const cookies = [cookie(NAME, "stale"), cookie(`${NAME}.0`, "aaa"), cookie(`${NAME}.1`, "bbb")];
    expect(joinChunks(NAME, cookies)).toBe("aaabbb");
  });
});

describe("chunkNames", () => {
  it("lists the single cookie and every chunk, and nothing else", () => {
    const cookies = [
      cookie(NAME, "w"),
      cookie(`${NAME}.0`, "a"),
      cookie(`${NAME}.1`, "b"),
      cookie(`${NAME}-old`, "x"),
      cookie("theme", "dark"),
    ];
    expect(chunkNames(NAME, cookies)).toEqual([NAME, `${NAME}.0`, `${NAME}.1`]);
  });

  it("includes malformed chunks too, so that clearing removes them", () => {
    expect(chunkNames(NAME, [cookie(`${NAME}.99`, "x"), cookie(`${NAME}.x`, "y")])).toEqual([`${NAME}.99`, `${NAME}.x`]);
  });

  it("returns an empty list when there is no such cookie", () => {
    expect(chunkNames(NAME, [cookie("theme", "dark")])).toEqual([]);
  });
});

describe("chunksInHeader", () => {
  const NAME = COOKIE_NAMES.session;

  it("picks the session's cookies and chunks out of a Cookie header, in order, and nothing else", () => {
    const header = `theme=dark; ${NAME}.1=b%3D; ${NAME}.0=a;${NAME}x=no; ${COOKIE_NAMES.fresh}=1; ${NAME}=whole`;
    expect(chunksInHeader(NAME, header)).toEqual([
      { name: `${NAME}.1`, value: "b=" },
      { name: `${NAME}.0`, value: "a" },
      { name: NAME, value: "whole" },
    ]);
  });

  it("reads exactly as Next.js's request.cookies: last of two by one name, undecodable dropped, names untrimmed", async () => {
    const { NextRequest } = await import("next/server");
    for (const header of [
      `${NAME}=first; ${NAME}=second; ${NAME}.0=%E0%A4%A; novalue; =x`,
      `\u00a0${NAME}=planted; ${NAME}=real`,
      ` ${NAME}.0=a;${NAME}.1=b;  ${NAME}.2=c`,
      `${NAME}.0=a=b; ${NAME}.1=%3D%3D`,
      `${NAME}; ${NAME}.0;;  ; ${NAME}.1=%zz; ${NAME}.1=ok;`,
      `theme=a;${NAME}=x; ${NAME}=%41; ${NAME}.x=y`,
      `${NAME}=${"a".repeat(3000)}%20`,
    ]) {
      const request = new NextRequest("https://app.example/", { headers: { cookie: header } });
      const next = request.cookies.getAll();
      // As a route handler sees it: the header value as the request holds it.
      const ours = chunksInHeader(NAME, request.headers.get("cookie"));
      expect(ours, header).toEqual(next.filter((cookie) => isChunkOf(NAME, cookie.name)).map(({ name, value }) => ({ name, value })));
    }
    expect(chunksInHeader(NAME, `\u00a0${NAME}=planted; ${NAME}=real`)).toEqual([{ name: NAME, value: "real" }]);
  });

  it("finds nothing in no header", () => {
    expect(chunksInHeader(NAME, null)).toEqual([]);
    expect(chunksInHeader(NAME, "")).toEqual([]);
  });
});

describe("isChunkOf", () => {
  it("accepts the unchunked cookie itself", () => {
    expect(isChunkOf(NAME, NAME)).toBe(true);
  });

  it("accepts a numbered chunk", () => {
    expect(isChunkOf(NAME, `${NAME}.3`)).toBe(true);
  });

  it("rejects a cookie whose name merely starts with the same text", () => {
    expect(isChunkOf(NAME, `${NAME}-old`)).toBe(false);
    expect(isChunkOf(NAME, `${NAME}x.0`)).toBe(false);
  });

  it("rejects an unrelated cookie", () => {
    expect(isChunkOf(NAME, COOKIE_NAMES.csrf)).toBe(false);
  });
});

describe("chunkCookie", () => {
  /** A value of `length` characters that differ along the way, so a misplaced slice shows. */
  const valueOf = (length: number) => Array.from({ length }, (_, i) => String.fromCharCode(97 + (i % 26))).join("");

  it("stores a short value in one cookie with the plain name", () => {
    expect(chunkCookie(NAME, "short", []).set).toEqual([cookie(NAME, "short")]);
  });

  it("stores a value of exactly CHUNK_SIZE characters in one cookie", () => {
    const value = valueOf(CHUNK_SIZE);
    expect(chunkCookie(NAME, value, []).set).toEqual([cookie(NAME, value)]);
  });

  it("clears nothing when the browser holds no such cookie", () => {
    expect(chunkCookie(NAME, "short", [cookie("theme", "dark")]).clear).toEqual([]);
  });

  it("does not clear the plain cookie it is rewriting", () => {
    expect(chunkCookie(NAME, "short", [cookie(NAME, "old")]).clear).toEqual([]);
  });

  it("clears every old chunk when a short value replaces a chunked one", () => {
    const existing = [cookie(`${NAME}.0`, "a"), cookie(`${NAME}.1`, "b"), cookie("theme", "dark")];
    expect(chunkCookie(NAME, "short", existing).clear).toEqual([`${NAME}.0`, `${NAME}.1`]);
  });

  it("splits a 10 000-character value into name.0, name.1, name.2", () => {
    const { set } = chunkCookie(NAME, valueOf(10_000), []);
    expect(set.map((c) => c.name)).toEqual([`${NAME}.0`, `${NAME}.1`, `${NAME}.2`]);
  });

  it("keeps every chunk within CHUNK_SIZE", () => {
    const { set } = chunkCookie(NAME, valueOf(10_000), []);
    for (const chunk of set) expect(chunk.value.length).toBeLessThanOrEqual(CHUNK_SIZE);
  });

  it("splits one character over CHUNK_SIZE into two chunks", () => {
    const { set } = chunkCookie(NAME, valueOf(CHUNK_SIZE + 1), []);
    expect(set.map((c) => c.value.length)).toEqual([CHUNK_SIZE, 1]);
  });

  it("gives back the original value when its chunks are joined", () => {
    const value = valueOf(10_000);
    expect(joinChunks(NAME, chunkCookie(NAME, value, []).set)).toBe(value);
  });

  it("gives back the original value when the chunks are joined alongside unrelated cookies", () => {
    const value = valueOf(10_000);
    const cookies = [cookie("theme", "dark"), ...chunkCookie(NAME, value, []).set, cookie(COOKIE_NAMES.csrf, "x")];
    expect(joinChunks(NAME, cookies)).toBe(value);
  });

  it("clears the stale name.2 and the plain name when going from 3 chunks to 2", () => {
    const existing = [cookie(NAME, "stray"), cookie(`${NAME}.0`, "a"), cookie(`${NAME}.1`, "b"), cookie(`${NAME}.2`, "c")];
    const { set, clear } = chunkCookie(NAME, valueOf(2 * CHUNK_SIZE), existing);
    expect(set.map((c) => c.name)).toEqual([`${NAME}.0`, `${NAME}.1`]);
    expect(clear.sort()).toEqual([NAME, `${NAME}.2`].sort());
  });

  it("clears the plain cookie when a chunked value replaces it", () => {
    const { clear } = chunkCookie(NAME, valueOf(10_000), [cookie(NAME, "old")]);
    expect(clear).toEqual([NAME]);
  });

  it("leaves cookies of other names alone", () => {
    const existing = [cookie(`${NAME}-old`, "x"), cookie(COOKIE_NAMES.csrf, "y"), cookie("theme", "dark")];
    expect(chunkCookie(NAME, valueOf(10_000), existing).clear).toEqual([]);
  });

  it("writes cookies that, after the stale ones are cleared, join to the new value", () => {
    const value = valueOf(2 * CHUNK_SIZE);
    const existing = [cookie(`${NAME}.0`, "a"), cookie(`${NAME}.1`, "b"), cookie(`${NAME}.2`, "c")];
    const { set, clear } = chunkCookie(NAME, value, existing);
    const jar = new Map(existing.map((c) => [c.name, c.value]));
    for (const c of set) jar.set(c.name, c.value);
    for (const name of clear) jar.delete(name);
    expect(joinChunks(NAME, Array.from(jar, ([name, v]) => cookie(name, v)))).toBe(value);
  });
});

describe("setCookie", () => {
  it("writes COOKIE_OPTIONS, the attributes Auth.js is given too, for a lifetime or until a date", () => {
    expect(COOKIE_OPTIONS).toEqual({ path: "/", secure: true, httpOnly: true, sameSite: "lax" });
    expect(setCookie("n", "v", { maxAge: 5 })).toBe("n=v; Max-Age=5; Path=/; Secure; HttpOnly; SameSite=Lax");
    expect(setCookie("n", "v", { expires: new Date(0) })).toBe("n=v; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; Secure; HttpOnly; SameSite=Lax");
    expect(cookieDeletion("n")).toBe("n=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Lax");
  });
});

describe("sessionCookieWrites telemetry", () => {
  const telemetry = useTelemetry({ traces: false });
  const EXPIRES = new Date("2030-01-01T00:00:00Z");
  /** A sealed session's characters: iron-session's are all ASCII, one byte each. */
  const sealedOf = (length: number) => Array.from({ length }, (_, i) => "Fe26.2*~-_0123456789abcdefABCDEF"[i % 32]).join("");
  /** The bytes of `name=value` of every chunk a list of Set-Cookie headers writes; deletions hold none. */
  const bytesWritten = (setCookies: string[]) =>
    setCookies
      .map((header) => header.split(";", 1)[0]!)
      .filter((pair) => !pair.endsWith("="))
      .reduce((bytes, pair) => bytes + new TextEncoder().encode(pair).byteLength, 0);

  it("records the size of a session that fits one cookie: its name=value", async () => {
    const { setCookies } = sessionCookieWrites(sealedOf(1000), EXPIRES, []);
    expect(await telemetry.collectMetric("tessera.session.cookie.size")).toEqual([
      { attributes: {}, value: 1, sum: `${COOKIE_NAMES.session}=`.length + 1000 },
    ]);
    expect(bytesWritten(setCookies)).toBe(`${COOKIE_NAMES.session}=`.length + 1000);
  });

  it("records a chunked session's size as all its chunks together, without the deletions of old chunks", async () => {
    const existing = [0, 1, 2, 3].map((i) => ({ name: `${COOKIE_NAMES.session}.${i}`, value: "old" }));
    const { setCookies } = sessionCookieWrites(sealedOf(2 * CHUNK_SIZE + 10), EXPIRES, existing);
    expect(setCookies.filter((header) => header.includes("Max-Age=0"))).toHaveLength(1);
    const [point] = await telemetry.collectMetric("tessera.session.cookie.size");
    expect(point).toEqual({ attributes: {}, value: 1, sum: bytesWritten(setCookies) });
    expect(point?.sum).toBe(3 * `${COOKIE_NAMES.session}.0=`.length + 2 * CHUNK_SIZE + 10);
  });

  it("records each write", async () => {
    sessionCookieWrites(sealedOf(100), EXPIRES, []);
    sessionCookieWrites(sealedOf(200), EXPIRES, []);
    expect(await telemetry.collectMetric("tessera.session.cookie.size")).toEqual([
      { attributes: {}, value: 2, sum: 2 * `${COOKIE_NAMES.session}=`.length + 300 },
    ]);
  });
});
