import { randomUUID } from "node:crypto";
import { beforeEach, describe, expect, it } from "vitest";
import type { EndedSessions } from "@/lib/server/ended-sessions/store";

/**
 * What every store of ended sessions must do, on the real clock. Each implementation's own test file runs it
 * and adds what depends on how the store keeps time.
 */
export function describeEndedSessionsContract(name: string, create: () => EndedSessions) {
  describe(`${name} store of ended sessions`, () => {
    let store: EndedSessions;
    let t: number;
    /** When the sessions asked about started, unless a test says otherwise. */
    let started: number;
    // Values unique to each test, so a store shared between tests cannot leak one test's entries into another.
    let id: (label: string) => string;

    beforeEach(() => {
      store = create();
      t = Math.floor(Date.now() / 1000);
      started = t - 60;
      const run = randomUUID();
      id = (label) => `${label}-${run}`;
    });

    it("knows no session at first", async () => {
      expect(await store.isEnded(started, id("sid"))).toBe(false);
    });

    it("ends the session named, and no other", async () => {
      await store.end(id("sid"), t + 300);
      expect(await store.isEnded(started, id("sid"))).toBe(true);
      expect(await store.isEnded(t + 10, id("sid"))).toBe(true);
      expect(await store.isEnded(started, id("other"))).toBe(false);
    });

    it("answers for several keys at once: ended when any of them is", async () => {
      await store.end(id("idp"), t + 300);
      expect(await store.isEnded(started, id("session"), id("idp"))).toBe(true);
      expect(await store.isEnded(started, id("session"), id("other"))).toBe(false);
    });

    it("records nothing for a session that is already over", async () => {
      await store.end(id("sid"), t - 1);
      expect(await store.isEnded(started, id("sid"))).toBe(false);
    });

    it("ends, for a key given a start, the sessions started by then and none started later", async () => {
      await store.end(id("subject"), t + 300, t - 10);
      expect(await store.isEnded(t - 11, id("subject"))).toBe(true);
      expect(await store.isEnded(t - 10, id("subject"))).toBe(true);
      expect(await store.isEnded(t - 9, id("subject"))).toBe(false);
      expect(await store.isEnded(t - 9, id("session"), id("subject"))).toBe(false);
    });

    it("moves the start of an entry only later, never earlier", async () => {
      await store.end(id("subject"), t + 300, t - 10);
      await store.end(id("subject"), t + 300, t - 100);
      expect(await store.isEnded(t - 50, id("subject"))).toBe(true);
      await store.end(id("subject"), t + 300, t + 5);
      expect(await store.isEnded(t, id("subject"))).toBe(true);
    });

    it("ends, for a message given a start, the sessions started by then", async () => {
      expect(await store.endOnce(id("subject"), t + 300, { jti: id("jti"), until: t + 120 }, t - 10)).toBe(true);
      expect(await store.isEnded(t - 10, id("subject"))).toBe(true);
      expect(await store.isEnded(t - 9, id("subject"))).toBe(false);
    });

    it("acts on a message once: a replay answers false and records nothing", async () => {
      const message = { jti: id("jti"), until: t + 120 };
      expect(await store.endOnce(id("first"), t + 300, message)).toBe(true);
      expect(await store.isEnded(started, id("first"))).toBe(true);

      expect(await store.endOnce(id("second"), t + 300, message)).toBe(false);
      expect(await store.isEnded(started, id("second"))).toBe(false);
    });

    it("claims a message that names no session", async () => {
      const message = { jti: id("jti"), until: t + 120 };
      expect(await store.endOnce(undefined, t + 300, message)).toBe(true);
      expect(await store.endOnce(undefined, t + 300, message)).toBe(false);
    });

    it("tells messages apart by their jti", async () => {
      expect(await store.endOnce(id("sid"), t + 300, { jti: id("one"), until: t + 120 })).toBe(true);
      expect(await store.endOnce(id("sid"), t + 300, { jti: id("two"), until: t + 120 })).toBe(true);
    });

    it("ends an already ended session again without complaint", async () => {
      await store.end(id("sid"), t + 300);
      await store.end(id("sid"), t + 300);
      expect(await store.endOnce(id("sid"), t + 300, { jti: id("jti"), until: t + 120 })).toBe(true);
      expect(await store.isEnded(started, id("sid"))).toBe(true);
    });
  });
}
