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

describe("bffFetch when the freshness hint outlived the access token", () => {
  const answer = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

  it("retries once, with the same request, and returns the retry's answer", async () => {
    const calls: RequestInit[] = [];
    const answers = [answer(401, { error: "refresh_required" }), answer(200, { notes: [] })];
    vi.stubGlobal("fetch", async (_url: string, init: RequestInit) => {
      calls.push(init);
      return answers.shift()!;
    });
    const response = await bffFetch("/api/notes", { method: "POST", body: '{"text":"x"}' });
    expect(response.status).toBe(200);
    expect(calls).toHaveLength(2);
    expect(calls[1]).toMatchObject({ method: "POST", body: '{"text":"x"}' });
    expect(new Headers(calls[1]!.headers).get("x-csrf")).toBe("1");
  });

  it("does not retry a request whose body was a stream, spent by the first attempt", async () => {
    let calls = 0;
    vi.stubGlobal("fetch", async () => {
      calls += 1;
      return answer(401, { error: "refresh_required" });
    });
    const body = new ReadableStream({ start: (controller) => controller.close() });
    expect((await bffFetch("/api/notes", { method: "POST", body })).status).toBe(401);
    expect(calls).toBe(1);
  });

  it("does not retry a second time, nor any other 401", async () => {
    for (const body of [{ error: "refresh_required" }, { error: "unauthenticated" }, "not json"]) {
      let calls = 0;
      vi.stubGlobal("fetch", async () => {
        calls += 1;
        return answer(401, body);
      });
      const response = await bffFetch("/api/notes");
      expect(response.status).toBe(401);
      expect(calls).toBe(body instanceof Object && body.error === "refresh_required" ? 2 : 1);
    }
  });
});
