import { afterEach, describe, expect, it, vi } from "vitest";
import { bffFetch } from "./bff-fetch";

afterEach(() => {
  vi.unstubAllGlobals();
});

/** Calls bffFetch against a recording fetch and returns what it was asked to send. */
async function sent(path: string, init?: RequestInit): Promise<{ url: string; init: RequestInit; headers: Headers }> {
  const calls: [string, RequestInit][] = [];
  vi.stubGlobal("fetch", async (url: string, requestInit: RequestInit) => {
    calls.push([url, requestInit]);
    return new Response(null, { status: 204 });
  });
  await bffFetch(path, init);
  const [url, requestInit] = calls[0]!;
  return { url, init: requestInit, headers: new Headers(requestInit.headers) };
}

describe("bffFetch", () => {
  it("adds the anti-forgery header X-CSRF: 1", async () => {
    expect((await sent("/api/notes")).headers.get("x-csrf")).toBe("1");
  });

  it("keeps the caller's headers, method and body, and lets no caller change the anti-forgery header", async () => {
    const { url, init, headers } = await sent("/api/notes", {
      method: "POST",
      headers: { "content-type": "application/json", "x-csrf": "0" },
      body: "{}",
    });
    expect(url).toBe("/api/notes");
    expect(init).toMatchObject({ method: "POST", body: "{}" });
    expect(headers.get("content-type")).toBe("application/json");
    expect(headers.get("x-csrf")).toBe("1");
  });

  it("sends cookies to this origin only, and never answers from the HTTP cache", async () => {
    const { init } = await sent("/api/me");
    expect(init.credentials).toBe("same-origin");
    expect(init.cache).toBe("no-store");
  });
});
