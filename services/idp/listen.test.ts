import { request } from "node:http";
import { describe, expect, it } from "vitest";
import { listen } from "./listen";

function get(host: string, port: number, headers: Record<string, string> = {}) {
  return new Promise<number>((resolve, reject) => {
    request({ host, port, path: "/", headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on("error", reject)
      .end();
  });
}

describe("listen", () => {
  it("binds loopback only by default and closes cleanly", async () => {
    const listener = await listen((_req, res) => res.writeHead(204).end(), { port: 0 });
    try {
      expect(listener.addresses[0]).toBe(`127.0.0.1:${listener.port}`);
      for (const address of listener.addresses) expect(address).toMatch(/^(127\.0\.0\.1|\[::1\]):\d+$/);
      expect(await get("127.0.0.1", listener.port)).toBe(204);
    } finally {
      await listener.close();
    }
    await expect(get("127.0.0.1", listener.port)).rejects.toThrow();
  });

  it("accepts the large cookie headers a browser sends to every localhost port", async () => {
    const listener = await listen((_req, res) => res.writeHead(204).end(), { port: 0, host: "127.0.0.1" });
    try {
      expect(await get("127.0.0.1", listener.port, { cookie: `big=${"x".repeat(30_000)}` })).toBe(204);
    } finally {
      await listener.close();
    }
  });
});
