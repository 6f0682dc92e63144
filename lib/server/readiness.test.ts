import { afterEach, describe, expect, it, vi } from "vitest";
import { failedChecks, readinessAnswer } from "./readiness";

afterEach(() => vi.restoreAllMocks());

describe("readiness", () => {
  it("is ready when every check answers, and says nothing else", async () => {
    const answer = await readinessAnswer({ idp: async () => ({}), endedSessions: async () => false }, 100);
    expect(answer.status).toBe(200);
    expect(answer.headers.get("cache-control")).toBe("no-store");
    expect(await answer.json()).toEqual({ status: "ready" });
  });

  it("is not ready when a check fails or does not answer in time; the answer names neither, the log both", async () => {
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    const checks = { idp: () => Promise.reject(new TypeError("fetch failed")), endedSessions: () => new Promise(() => {}), fine: async () => 1 };
    expect(await failedChecks(checks, 20)).toEqual(["idp", "endedSessions"]);
    const answer = await readinessAnswer(checks, 20);
    expect(answer.status).toBe(503);
    expect(await answer.json()).toEqual({ status: "not_ready" });
    const logged = error.mock.calls.map((call) => String(call[0])).join("\n");
    expect(logged).toMatch(/not ready: idp: TypeError: fetch failed/);
    expect(logged).toMatch(/not ready: endedSessions: TimeoutError/);
  });
});
