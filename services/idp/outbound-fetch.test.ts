import { describe, expect, it, vi } from "vitest";
import { createOutboundFetch, type Fetch } from "./outbound-fetch";

describe("createOutboundFetch", () => {
  it("delivers to a registered origin without oidc-provider's address filter", async () => {
    const base = vi.fn<Fetch>(async () => new Response(null, { status: 200 }));
    const outbound = createOutboundFetch(["http://localhost:3000"], base);
    const signal = AbortSignal.timeout(1000);
    await outbound("http://localhost:3000/auth/backchannel-logout", {
      method: "POST",
      body: "logout_token=x",
      signal,
      dispatcher: { filter: "special-use addresses" },
    } as RequestInit);
    expect(base).toHaveBeenCalledTimes(1);
    const [url, init] = base.mock.calls[0]!;
    expect(String(url)).toBe("http://localhost:3000/auth/backchannel-logout");
    expect(init).toEqual({ method: "POST", body: "logout_token=x", signal });
  });

  it.each(["http://127.0.0.1:3000/x", "http://localhost:3001/x", "https://localhost:3000/x", "http://169.254.169.254/"])(
    "refuses anything else (%s)",
    async (url) => {
      const base = vi.fn<Fetch>();
      const outbound = createOutboundFetch(["http://localhost:3000/"], base);
      await expect(outbound(url, { method: "POST" })).rejects.toThrow(/refused/);
      expect(base).not.toHaveBeenCalled();
    },
  );
});
