import { describe, expect, it } from "vitest";
import { createDiscovery } from "./discovery";
import { useTelemetry } from "@/lib/testing/telemetry";

const ISSUER = "https://idp.example";

const document = (issuer = ISSUER) => ({
  issuer,
  authorization_endpoint: `${issuer}/auth`,
  token_endpoint: `${issuer}/token`,
  jwks_uri: `${issuer}/jwks`,
  end_session_endpoint: `${issuer}/session/end`,
});

/** A fetch that records the URLs it is asked for and answers with the next queued response (the last one repeats). */
function scriptedFetch(...answers: Array<() => Response | Promise<Response>>) {
  const urls: string[] = [];
  const fetchImpl = async (input: RequestInfo | URL): Promise<Response> => {
    urls.push(String(input));
    const answer = answers[Math.min(urls.length - 1, answers.length - 1)];
    if (!answer) throw new Error("no answer scripted");
    return answer();
  };
  return { urls, fetch: fetchImpl as typeof fetch };
}

const ok = (issuer = ISSUER) => () => Response.json(document(issuer));

describe("createDiscovery", () => {
  it("fetches the issuer's well-known OpenID configuration", async () => {
    const { urls, fetch } = scriptedFetch(ok());
    const metadata = await createDiscovery({ issuer: ISSUER, timeoutMs: 1000, fetch })();
    expect(urls).toEqual([`${ISSUER}/.well-known/openid-configuration`]);
    expect(metadata.token_endpoint).toBe(`${ISSUER}/token`);
    expect(metadata.end_session_endpoint).toBe(`${ISSUER}/session/end`);
  });

  it("shares one request between concurrent callers", async () => {
    const { urls, fetch } = scriptedFetch(ok());
    const discover = createDiscovery({ issuer: ISSUER, timeoutMs: 1000, fetch });
    const results = await Promise.all(Array.from({ length: 10 }, () => discover()));
    expect(urls).toHaveLength(1);
    for (const metadata of results) expect(metadata.issuer).toBe(ISSUER);
  });

  it("caches a success: later calls fetch nothing", async () => {
    const { urls, fetch } = scriptedFetch(ok());
    const discover = createDiscovery({ issuer: ISSUER, timeoutMs: 1000, fetch });
    await discover();
    await discover();
    await discover();
    expect(urls).toHaveLength(1);
  });

  it("does not cache a network failure: the next call fetches again and succeeds", async () => {
    const { urls, fetch } = scriptedFetch(() => {
      throw new TypeError("fetch failed");
    }, ok());
    const discover = createDiscovery({ issuer: ISSUER, timeoutMs: 1000, fetch });
    await expect(discover()).rejects.toThrow();
    await expect(discover()).resolves.toMatchObject({ issuer: ISSUER });
    expect(urls).toHaveLength(2);
  });

  it("does not cache an error response from the IdP", async () => {
    const { urls, fetch } = scriptedFetch(() => new Response("unavailable", { status: 503 }), ok());
    const discover = createDiscovery({ issuer: ISSUER, timeoutMs: 1000, fetch });
    await expect(discover()).rejects.toThrow();
    await expect(discover()).resolves.toMatchObject({ issuer: ISSUER });
    expect(urls).toHaveLength(2);
  });

  it("fails every concurrent caller of a failed request, then retries once for the next ones", async () => {
    const { urls, fetch } = scriptedFetch(() => {
      throw new TypeError("fetch failed");
    }, ok());
    const discover = createDiscovery({ issuer: ISSUER, timeoutMs: 1000, fetch });
    const first = await Promise.allSettled([discover(), discover(), discover()]);
    expect(first.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
    await Promise.all([discover(), discover(), discover()]);
    expect(urls).toHaveLength(2);
  });

  it("rejects a document whose issuer differs from the configured one", async () => {
    const { fetch } = scriptedFetch(ok("https://evil.example"));
    await expect(createDiscovery({ issuer: ISSUER, timeoutMs: 1000, fetch })()).rejects.toThrow();
  });

  it("rejects a document for another tenant on the same host", async () => {
    const issuer = "https://idp.example/realms/tessera";
    const { fetch } = scriptedFetch(ok("https://idp.example/realms/other"));
    await expect(createDiscovery({ issuer, timeoutMs: 1000, fetch })()).rejects.toThrow();
  });

  it("does not cache a rejected document either", async () => {
    const { urls, fetch } = scriptedFetch(ok("https://evil.example"), ok());
    const discover = createDiscovery({ issuer: ISSUER, timeoutMs: 1000, fetch });
    await expect(discover()).rejects.toThrow();
    await expect(discover()).resolves.toMatchObject({ issuer: ISSUER });
    expect(urls).toHaveLength(2);
  });

  it("allows an http:// issuer, which the config only lets through on loopback", async () => {
    const issuer = "http://localhost:4000";
    const { urls, fetch } = scriptedFetch(ok(issuer));
    await expect(createDiscovery({ issuer, timeoutMs: 1000, fetch })()).resolves.toMatchObject({ issuer });
    expect(urls).toEqual([`${issuer}/.well-known/openid-configuration`]);
  });
});

describe("createDiscovery telemetry", () => {
  const telemetry = useTelemetry({ traces: false });

  it("times the fetch of the document as the discovery endpoint's", async () => {
    const { fetch } = scriptedFetch(ok());
    await createDiscovery({ issuer: ISSUER, timeoutMs: 1000, fetch })();
    expect(await telemetry.collectMetric("tessera.idp.request.duration")).toEqual([
      { attributes: { "tessera.idp.endpoint": "discovery", "http.response.status_code": 200 }, value: 1, sum: expect.any(Number) },
    ]);
  });
});
