import { describe, expect, it } from "vitest";
import { causeChain } from "./errors";

describe("causeChain", () => {
  it("walks plain causes and Auth.js's `cause.err`, outermost first", () => {
    const root = new Error("root");
    const middle = new Error("middle", { cause: root });
    const wrapped = Object.assign(new Error("Auth.js"), { cause: { err: middle, provider: "oidc" } });
    expect([...causeChain(wrapped)]).toEqual([wrapped, middle, root]);
  });

  it("stops at a few levels, and yields nothing for what is not an object", () => {
    const loop: { cause?: unknown } = {};
    loop.cause = loop;
    expect([...causeChain(loop)]).toHaveLength(8);
    expect([...causeChain(undefined)]).toEqual([]);
    expect([...causeChain("text")]).toEqual([]);
  });
});
