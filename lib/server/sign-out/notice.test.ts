import { describe, expect, it } from "vitest";
import { SIGNED_OUT_COMPLETE, signedOutNotes, signedOutState } from "./notice";

describe("signedOutState", () => {
  it("says complete when everything was completed, which the signed-out page shows nothing for", () => {
    expect(signedOutState([])).toBe(SIGNED_OUT_COMPLETE);
    expect(signedOutNotes(SIGNED_OUT_COMPLETE)).toEqual([]);
  });

  it("names each incomplete step once, in a fixed order", () => {
    expect(signedOutState(["api"])).toBe("api");
    expect(signedOutState(["app", "idp", "api", "idp"])).toBe("idp.api.app");
  });
});

describe("signedOutNotes", () => {
  it("has nothing to say without a state", () => {
    expect(signedOutNotes(undefined)).toEqual([]);
  });

  it("maps every code signedOutState writes back to its sentence", () => {
    const notes = signedOutNotes(signedOutState(["idp", "api", "app"]));
    expect(notes).toHaveLength(3);
    expect(notes[0]).toMatch(/sign-in service/);
    expect(notes[1]).toMatch(/notes service/);
    expect(notes[2]).toMatch(/this app/i);
  });

  it("ignores what it does not know, and never echoes it", () => {
    const notes = signedOutNotes("api.<script>alert(1)</script>.constructor.__proto__");
    expect(notes).toHaveLength(1);
    expect(notes.join(" ")).not.toContain("script");
  });

  it("reads a repeated parameter, each step once", () => {
    expect(signedOutNotes(["api", "api.idp"])).toHaveLength(2);
  });
});
