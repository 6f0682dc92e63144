import { beforeEach, describe, expect, it, vi } from "vitest";

const config = vi.hoisted(() => ({ benchmarkRoutes: false, apiUrl: new URL("http://api.test"), apiTimeoutMs: 1000 }));
const forwardToApi = vi.hoisted(() => vi.fn(async () => Response.json({ notes: [] })));
vi.mock("@/lib/config", () => ({ getConfig: () => config }));
vi.mock("@/lib/api/proxy", () => ({ forwardToApi }));

const { GET } = await import("./route");

beforeEach(() => {
  forwardToApi.mockClear();
});

describe("GET /bench/notes", () => {
  it("does not exist unless BENCHMARK_ROUTES is on", async () => {
    config.benchmarkRoutes = false;
    const response = await GET(new Request("http://app.test/bench/notes", { headers: { authorization: "Bearer abc" } }));
    expect(response.status).toBe(404);
    expect(forwardToApi).not.toHaveBeenCalled();
  });

  it("forwards the caller's Bearer token to the API's /notes when on", async () => {
    config.benchmarkRoutes = true;
    const request = new Request("http://app.test/bench/notes", { headers: { authorization: "Bearer abc" } });
    expect((await GET(request)).status).toBe(200);
    expect(forwardToApi).toHaveBeenCalledWith(request, "/notes", "abc", { apiUrl: config.apiUrl, timeoutMs: 1000, route: "/bench/notes" });
  });

  it("answers 401 without a Bearer token, and never looks for a session", async () => {
    config.benchmarkRoutes = true;
    const response = await GET(new Request("http://app.test/bench/notes", { headers: { cookie: "__Host-tessera-session=x" } }));
    expect(response.status).toBe(401);
    expect(forwardToApi).not.toHaveBeenCalled();
  });
});
