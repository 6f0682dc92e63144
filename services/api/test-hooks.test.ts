import type { HttpBindings } from "@hono/node-server";
import { describe, expect, it, vi } from "vitest";
import { withTestHooks } from "./test-hooks";

const TOKEN = "a-test-hooks-token-of-at-least-32-characters";
const PORT = 4101;

function fakeEnv() {
  const destroy = vi.fn();
  return { env: { incoming: { socket: { destroy } } } as unknown as HttpBindings, destroy };
}

const api = vi.fn(async () => Response.json({ status: "ok" }));
const hooks = () => withTestHooks(api, { token: TOKEN }, PORT);
const call = (handler: ReturnType<typeof withTestHooks>, method: string, path: string, headers: Record<string, string> = { host: `localhost:${PORT}`, "x-test-hooks-token": TOKEN }) => {
  const { env, destroy } = fakeEnv();
  return { response: Promise.resolve(handler(new Request(`http://localhost:${PORT}${path}`, { method, headers }), env)), destroy };
};

describe("withTestHooks", () => {
  it("passes requests through while the API is up", async () => {
    const { response, destroy } = call(hooks(), "GET", "/healthz", {});
    expect(await (await response).json()).toEqual({ status: "ok" });
    expect(destroy).not.toHaveBeenCalled();
  });

  it("drops every other request's connection during an outage, and recovers", async () => {
    const handler = hooks();
    api.mockClear();
    expect((await call(handler, "POST", "/__test/outage?down=1").response).status).toBe(204);

    const during = call(handler, "GET", "/notes", {});
    await during.response;
    expect(during.destroy).toHaveBeenCalledOnce();
    expect(api).not.toHaveBeenCalled();
    expect(await (await call(handler, "GET", "/__test/outage").response).json()).toEqual({ down: true });

    expect((await call(handler, "POST", "/__test/outage?down=0").response).status).toBe(204);
    const after = call(handler, "GET", "/notes", {});
    expect((await after.response).status).toBe(200);
    expect(after.destroy).not.toHaveBeenCalled();
  });

  it("refuses a bad value, a wrong method and an unknown hook", async () => {
    const handler = hooks();
    expect((await call(handler, "POST", "/__test/outage?down=yes").response).status).toBe(400);
    expect((await call(handler, "DELETE", "/__test/outage").response).status).toBe(405);
    expect((await call(handler, "GET", "/__test/tokens").response).status).toBe(404);
  });

  it("serves the right token at each loopback name with the API's port", async () => {
    for (const host of [`localhost:${PORT}`, `127.0.0.1:${PORT}`, `[::1]:${PORT}`]) {
      const response = await call(hooks(), "GET", "/__test/outage", { host, "x-test-hooks-token": TOKEN }).response;
      expect(await response.json(), host).toEqual({ down: false });
    }
  });

  it("hands a request without the right token, or to another host, to the API as if there were no hooks", async () => {
    const handler = hooks();
    api.mockClear();
    const refused: Record<string, string>[] = [
      { host: `localhost:${PORT}` },
      { host: `localhost:${PORT}`, "x-test-hooks-token": "wrong" },
      { host: `localhost:${PORT}`, "x-test-hooks-token": `${TOKEN}x` },
      // DNS rebinding: the attacker's name, with or without a port.
      { host: `attacker.example:${PORT}`, "x-test-hooks-token": TOKEN },
      { host: "attacker.example", "x-test-hooks-token": TOKEN },
      { host: "localhost:4100", "x-test-hooks-token": TOKEN },
    ];
    for (const headers of refused) {
      const { response, destroy } = call(handler, "POST", "/__test/outage?down=1", headers);
      expect(await (await response).json(), JSON.stringify(headers)).toEqual({ status: "ok" });
      expect(destroy).not.toHaveBeenCalled();
    }
    expect(api).toHaveBeenCalledTimes(refused.length);
    expect(await (await call(handler, "GET", "/__test/outage").response).json()).toEqual({ down: false });
  });
});
