import type { HttpBindings } from "@hono/node-server";
import { describe, expect, it, vi } from "vitest";
import { withTestHooks } from "./test-hooks";

function fakeEnv() {
  const destroy = vi.fn();
  return { env: { incoming: { socket: { destroy } } } as unknown as HttpBindings, destroy };
}

const api = vi.fn(async () => Response.json({ status: "ok" }));
const call = (hooks: ReturnType<typeof withTestHooks>, method: string, path: string) => {
  const { env, destroy } = fakeEnv();
  return { response: Promise.resolve(hooks(new Request(`http://127.0.0.1${path}`, { method }), env)), destroy };
};

describe("withTestHooks", () => {
  it("passes requests through while the API is up", async () => {
    const hooks = withTestHooks(api);
    const { response, destroy } = call(hooks, "GET", "/healthz");
    expect(await (await response).json()).toEqual({ status: "ok" });
    expect(destroy).not.toHaveBeenCalled();
  });

  it("drops every other request's connection during an outage, and recovers", async () => {
    const hooks = withTestHooks(api);
    api.mockClear();
    expect((await call(hooks, "POST", "/__test/outage?down=1").response).status).toBe(204);

    const during = call(hooks, "GET", "/notes");
    await during.response;
    expect(during.destroy).toHaveBeenCalledOnce();
    expect(api).not.toHaveBeenCalled();
    expect(await (await call(hooks, "GET", "/__test/outage").response).json()).toEqual({ down: true });

    expect((await call(hooks, "POST", "/__test/outage?down=0").response).status).toBe(204);
    const after = call(hooks, "GET", "/notes");
    expect((await after.response).status).toBe(200);
    expect(after.destroy).not.toHaveBeenCalled();
  });

  it("refuses a bad value, a wrong method and an unknown hook", async () => {
    const hooks = withTestHooks(api);
    expect((await call(hooks, "POST", "/__test/outage?down=yes").response).status).toBe(400);
    expect((await call(hooks, "DELETE", "/__test/outage").response).status).toBe(405);
    expect((await call(hooks, "GET", "/__test/tokens").response).status).toBe(404);
  });
});
