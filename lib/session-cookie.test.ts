import { describe, expect, it } from "vitest";
import { COOKIE_NAMES, chunkNames, joinChunks } from "./session-cookie";

const NAME = COOKIE_NAMES.session;
const cookie = (name: string, value: string) => ({ name, value });

describe("COOKIE_NAMES", () => {
  it("gives every auth cookie the __Host- prefix", () => {
    for (const name of Object.values(COOKIE_NAMES)) expect(name.startsWith("__Host-")).toBe(true);
  });

  it("gives every auth cookie a distinct name", () => {
    const names = Object.values(COOKIE_NAMES);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe("joinChunks", () => {
  it("returns the value of a single, unchunked cookie", () => {
    expect(joinChunks(NAME, [cookie(NAME, "whole-value")])).toBe("whole-value");
  });

  it("returns undefined when the cookie is absent", () => {
    expect(joinChunks(NAME, [cookie("theme", "dark")])).toBeUndefined();
  });

  it("returns undefined for an empty single cookie", () => {
    expect(joinChunks(NAME, [cookie(NAME, "")])).toBeUndefined();
  });

  it("joins chunks .0 .1 .2 in index order", () => {
    const cookies = [cookie(`${NAME}.0`, "aaa"), cookie(`${NAME}.1`, "bbb"), cookie(`${NAME}.2`, "ccc")];
    expect(joinChunks(NAME, cookies)).toBe("aaabbbccc");
  });

  it("joins chunks that arrive out of order", () => {
    const cookies = [cookie(`${NAME}.2`, "ccc"), cookie(`${NAME}.0`, "aaa"), cookie(`${NAME}.1`, "bbb")];
    expect(joinChunks(NAME, cookies)).toBe("aaabbbccc");
  });

  it("returns undefined when a middle chunk is missing", () => {
    expect(joinChunks(NAME, [cookie(`${NAME}.0`, "aaa"), cookie(`${NAME}.2`, "ccc")])).toBeUndefined();
  });

  it("returns undefined when the first chunk is missing", () => {
    expect(joinChunks(NAME, [cookie(`${NAME}.1`, "bbb"), cookie(`${NAME}.2`, "ccc")])).toBeUndefined();
  });

  it.each(["x", "", "-1", "1a", "01", "١"])("returns undefined for the non-numeric or malformed index %j", (index) => {
    expect(joinChunks(NAME, [cookie(`${NAME}.0`, "aaa"), cookie(`${NAME}.${index}`, "zzz")])).toBeUndefined();
  });

  it.each(["8", "9", "10", "99"])("returns undefined for the too-high index %s", (index) => {
    expect(joinChunks(NAME, [cookie(`${NAME}.0`, "aaa"), cookie(`${NAME}.${index}`, "zzz")])).toBeUndefined();
  });

  it("accepts the highest allowed index when every chunk before it is there", () => {
    const cookies = Array.from({ length: 8 }, (_, i) => cookie(`${NAME}.${i}`, String(i)));
    expect(joinChunks(NAME, cookies)).toBe("01234567");
  });

  it("ignores unrelated cookies whose names share the prefix", () => {
    const cookies = [
      cookie(`${NAME}-old`, "nope"),
      cookie(`${NAME}x.0`, "nope"),
      cookie(`${NAME}.0`, "aaa"),
      cookie(NAME.replace("session", "sessions"), "nope"),
      cookie(`${NAME}.1`, "bbb"),
      cookie(COOKIE_NAMES.csrf, "nope"),
    ];
    expect(joinChunks(NAME, cookies)).toBe("aaabbb");
  });

  it("ignores a cookie with the same name but without the __Host- prefix", () => {
    expect(joinChunks(NAME, [cookie(NAME.replace("__Host-", ""), "planted")])).toBeUndefined();
  });

  it("prefers the chunks over a stray whole cookie of the same name", () => {
    const cookies = [cookie(NAME, "stale"), cookie(`${NAME}.0`, "aaa"), cookie(`${NAME}.1`, "bbb")];
    expect(joinChunks(NAME, cookies)).toBe("aaabbb");
  });
});

describe("chunkNames", () => {
  it("lists the single cookie and every chunk, and nothing else", () => {
    const cookies = [
      cookie(NAME, "w"),
      cookie(`${NAME}.0`, "a"),
      cookie(`${NAME}.1`, "b"),
      cookie(`${NAME}-old`, "x"),
      cookie("theme", "dark"),
    ];
    expect(chunkNames(NAME, cookies)).toEqual([NAME, `${NAME}.0`, `${NAME}.1`]);
  });

  it("includes malformed chunks too, so that clearing removes them", () => {
    expect(chunkNames(NAME, [cookie(`${NAME}.99`, "x"), cookie(`${NAME}.x`, "y")])).toEqual([`${NAME}.99`, `${NAME}.x`]);
  });

  it("returns an empty list when there is no such cookie", () => {
    expect(chunkNames(NAME, [cookie("theme", "dark")])).toEqual([]);
  });
});
