import { afterEach, describe, expect, it, vi } from "vitest";
import { withDeadline } from "./deadline";

afterEach(() => {
  vi.useRealTimers();
});

describe("withDeadline", () => {
  it("returns what the call returns, and leaves no timer behind", async () => {
    vi.useFakeTimers();
    await expect(withDeadline(1000, async () => "done")).resolves.toBe("done");
    expect(vi.getTimerCount()).toBe(0);
  });

  it("clears the timer when the call fails too", async () => {
    vi.useFakeTimers();
    await expect(withDeadline(1000, async () => Promise.reject(new Error("refused")))).rejects.toThrow("refused");
    expect(vi.getTimerCount()).toBe(0);
  });

  it("aborts the signal with a TimeoutError once the time is up", async () => {
    vi.useFakeTimers();
    let seen: AbortSignal | undefined;
    const pending = withDeadline(50, (signal) => {
      seen = signal;
      return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
    });
    const outcome = expect(pending).rejects.toMatchObject({ name: "TimeoutError" });
    expect(seen?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(50);
    await outcome;
    expect(seen?.aborted).toBe(true);
  });
});
