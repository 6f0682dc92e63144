import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MIN_TEST_HOOKS_TOKEN_LENGTH } from "../services/shared/test-hooks-access";
import { ensureTestHooksToken, fetchTestHook, testHooksHeaders } from "./test-hooks";

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("ensureTestHooksToken", () => {
  it("keeps the token the environment has, as a Playwright worker inherits its runner's", () => {
    vi.stubEnv("TEST_HOOKS_TOKEN", "the-runner-s-token-0123456789abcdef");
    expect(ensureTestHooksToken()).toBe("the-runner-s-token-0123456789abcdef");
    expect(process.env.TEST_HOOKS_TOKEN).toBe("the-runner-s-token-0123456789abcdef");
  });

  it("otherwise makes a new one, long enough, and puts it into the environment for the processes started next", () => {
    vi.stubEnv("TEST_HOOKS_TOKEN", "");
    const token = ensureTestHooksToken();
    expect(token.length).toBeGreaterThanOrEqual(MIN_TEST_HOOKS_TOKEN_LENGTH);
    expect(process.env.TEST_HOOKS_TOKEN).toBe(token);
    expect(ensureTestHooksToken()).toBe(token);

    vi.stubEnv("TEST_HOOKS_TOKEN", "");
    expect(ensureTestHooksToken()).not.toBe(token);
  });
});

describe("testHooksHeaders", () => {
  it("refuses to call a hook without a token rather than send none", () => {
    vi.stubEnv("TEST_HOOKS_TOKEN", "");
    expect(() => testHooksHeaders()).toThrow(/TEST_HOOKS_TOKEN is not set/);
  });
});

describe("fetchTestHook", () => {
  it("asks the hook with the token, keeping the caller's method and headers", async () => {
    vi.stubEnv("TEST_HOOKS_TOKEN", "the-runner-s-token-0123456789abcdef");
    const seen: { method?: string; url?: string; headers?: IncomingHttpHeaders }[] = [];
    const server = createServer((req, res) => {
      seen.push({ method: req.method, url: req.url, headers: req.headers });
      res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const response = await fetchTestHook(origin, "outage?down=1", { method: "POST", headers: { accept: "application/json" } });
      expect(response.status).toBe(204);
      expect(seen).toEqual([
        {
          method: "POST",
          url: "/__test/outage?down=1",
          headers: expect.objectContaining({ "x-test-hooks-token": "the-runner-s-token-0123456789abcdef", accept: "application/json" }),
        },
      ]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
