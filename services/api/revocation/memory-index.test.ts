import { describe, expect, it } from "vitest";
import { RevocationIndex } from "./memory-index";

const T0 = 1_700_000_000;
const token = { jti: "j", sid: "s", sub: "alice", iat: T0 };

describe("RevocationIndex", () => {
  it("covers nothing at first", () => {
    expect(new RevocationIndex().covers(token, T0)).toBe(false);
  });

  it("covers a token by jti until its until", () => {
    const index = new RevocationIndex();
    index.setToken("j", T0 + 10);
    expect(index.covers(token, T0 + 9)).toBe(true);
    expect(index.covers({ ...token, jti: "other" }, T0 + 9)).toBe(false);
    expect(index.covers(token, T0 + 10)).toBe(false);
  });

  it("covers a session's tokens issued up to its cut-off, and none issued later", () => {
    const index = new RevocationIndex();
    index.setSession("s", T0, T0 + 10);
    expect(index.covers(token, T0 + 1)).toBe(true);
    expect(index.covers({ ...token, iat: T0 + 1 }, T0 + 1)).toBe(false);
    expect(index.covers({ ...token, sid: undefined }, T0 + 1)).toBe(false);
    expect(index.covers(token, T0 + 10)).toBe(false);
  });

  it("covers every token of a session entry without a cut-off", () => {
    const index = new RevocationIndex();
    index.setSession("s", null, T0 + 10);
    expect(index.covers({ ...token, iat: T0 + 5 }, T0 + 6)).toBe(true);
  });

  it("covers a subject's tokens issued up to its cut-off, whatever their session", () => {
    const index = new RevocationIndex();
    index.setSubject("alice", T0, T0 + 10);
    expect(index.covers({ ...token, sid: "another" }, T0)).toBe(true);
    expect(index.covers({ ...token, iat: T0 + 1 }, T0)).toBe(false);
    expect(index.covers({ ...token, sub: "bob" }, T0)).toBe(false);
  });

  it("keeps jti, sid and sub apart", () => {
    const index = new RevocationIndex();
    index.setToken("x", T0 + 10);
    expect(index.covers({ jti: "j", sid: "x", sub: "x", iat: T0 }, T0)).toBe(false);
  });

  it("replaces an entry with the one it is handed", () => {
    const index = new RevocationIndex();
    index.setSession("s", T0 - 10, T0 + 10);
    index.setSession("s", T0, T0 + 20);
    expect(index.covers(token, T0 + 15)).toBe(true);
  });

  it("prunes the entries whose until has passed, and only those", () => {
    const index = new RevocationIndex();
    index.setToken("old", T0);
    index.setSession("old", T0, T0);
    index.setSubject("old", T0, T0);
    index.setToken("j", T0 + 1);
    index.prune(T0);
    expect(index.size).toBe(1);
    expect(index.covers(token, T0)).toBe(true);
  });
});
