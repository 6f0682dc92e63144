import { describe, expect, it, vi } from "vitest";
import { createSingleFlight } from "./single-flight";
import { deferred } from "@/lib/testing/fixtures";

/** A clock the test moves by hand. */
function fakeClock(start = 1_000_000) {
  let time = start;
  return {
    now: () => time,
    advance: (ms: number) => {
      time += ms;
    },
  };
}

describe("createSingleFlight: concurrent callers", () => {
  it("runs the task once for 20 concurrent callers with the same key", async () => {
    const flights = createSingleFlight<string>({ graceMs: 0 });
    const gate = deferred<string>();
    const task = vi.fn(() => gate.promise);
    const calls = Array.from({ length: 20 }, () => flights.run("k", task));
    gate.resolve("value");
    await Promise.all(calls);
    expect(task).toHaveBeenCalledTimes(1);
  });

  it("gives every concurrent caller the same value", async () => {
    const flights = createSingleFlight<{ id: number }>({ graceMs: 0 });
    const gate = deferred<{ id: number }>();
    const calls = Array.from({ length: 20 }, () => flights.run("k", () => gate.promise));
    const value = { id: 1 };
    gate.resolve(value);
    const results = await Promise.all(calls);
    for (const result of results) expect(result).toBe(value);
  });

  it("runs tasks for different keys independently", async () => {
    const flights = createSingleFlight<string>({ graceMs: 0 });
    const a = deferred<string>();
    const b = deferred<string>();
    const taskA = vi.fn(() => a.promise);
    const taskB = vi.fn(() => b.promise);
    const runA = flights.run("a", taskA);
    const runB = flights.run("b", taskB);
    expect(taskA).toHaveBeenCalledTimes(1);
    expect(taskB).toHaveBeenCalledTimes(1);
    b.resolve("B");
    expect(await runB).toBe("B");
    a.resolve("A");
    expect(await runA).toBe("A");
  });

  it("does not let one key's failure reach another key's callers", async () => {
    const flights = createSingleFlight<string>({ graceMs: 0 });
    const failing = flights.run("a", () => Promise.reject(new Error("a failed")));
    const fine = flights.run("b", () => Promise.resolve("B"));
    await expect(failing).rejects.toThrow("a failed");
    await expect(fine).resolves.toBe("B");
  });
});

describe("createSingleFlight: errors", () => {
  it("rejects every concurrent waiter with the task's error", async () => {
    const flights = createSingleFlight<string>({ graceMs: 60_000 });
    const gate = deferred<string>();
    const calls = Array.from({ length: 20 }, () => flights.run("k", () => gate.promise));
    const error = new Error("boom");
    gate.reject(error);
    const outcomes = await Promise.allSettled(calls);
    expect(outcomes).toHaveLength(20);
    for (const outcome of outcomes) expect(outcome).toEqual({ status: "rejected", reason: error });
  });

  it("does not remember an error: the next call runs the task again", async () => {
    const flights = createSingleFlight<string>({ graceMs: 60_000 });
    const task = vi.fn<() => Promise<string>>().mockRejectedValueOnce(new Error("boom")).mockResolvedValueOnce("second");
    await expect(flights.run("k", task)).rejects.toThrow("boom");
    await expect(flights.run("k", task)).resolves.toBe("second");
    expect(task).toHaveBeenCalledTimes(2);
  });
});

describe("createSingleFlight: grace period", () => {
  it("gives a call within the grace period the remembered result without running the task", async () => {
    const clock = fakeClock();
    const flights = createSingleFlight<string>({ graceMs: 1000, now: clock.now });
    await flights.run("k", () => Promise.resolve("first"));
    clock.advance(999);
    const task = vi.fn(() => Promise.resolve("second"));
    await expect(flights.run("k", task)).resolves.toBe("first");
    expect(task).not.toHaveBeenCalled();
  });

  it("runs the task again once the grace period is over", async () => {
    const clock = fakeClock();
    const flights = createSingleFlight<string>({ graceMs: 1000, now: clock.now });
    await flights.run("k", () => Promise.resolve("first"));
    clock.advance(1000);
    const task = vi.fn(() => Promise.resolve("second"));
    await expect(flights.run("k", task)).resolves.toBe("second");
    expect(task).toHaveBeenCalledTimes(1);
  });

  it("counts the grace period from when the task finished, not when it started", async () => {
    const clock = fakeClock();
    const flights = createSingleFlight<string>({ graceMs: 1000, now: clock.now });
    const gate = deferred<string>();
    const running = flights.run("k", () => gate.promise);
    clock.advance(5000);
    gate.resolve("slow");
    await running;
    clock.advance(999);
    const task = vi.fn(() => Promise.resolve("second"));
    await expect(flights.run("k", task)).resolves.toBe("slow");
    expect(task).not.toHaveBeenCalled();
  });

  it("remembers nothing with a zero grace period", async () => {
    const flights = createSingleFlight<string>({ graceMs: 0, now: fakeClock().now });
    await flights.run("k", () => Promise.resolve("first"));
    await expect(flights.run("k", () => Promise.resolve("second"))).resolves.toBe("second");
  });

  it("remembers results per key", async () => {
    const flights = createSingleFlight<string>({ graceMs: 1000, now: fakeClock().now });
    await flights.run("a", () => Promise.resolve("A"));
    const task = vi.fn(() => Promise.resolve("B"));
    await expect(flights.run("b", task)).resolves.toBe("B");
    expect(task).toHaveBeenCalledTimes(1);
  });
});

describe("createSingleFlight: bounds", () => {
  it("evicts the oldest remembered result when maxEntries is exceeded", async () => {
    const flights = createSingleFlight<string>({ graceMs: 60_000, maxEntries: 2, now: fakeClock().now });
    await flights.run("a", () => Promise.resolve("A"));
    await flights.run("b", () => Promise.resolve("B"));
    await flights.run("c", () => Promise.resolve("C"));
    const taskA = vi.fn(() => Promise.resolve("A2"));
    await expect(flights.run("a", taskA)).resolves.toBe("A2");
    expect(taskA).toHaveBeenCalledTimes(1);
  });

  it("keeps the newest results within maxEntries", async () => {
    const flights = createSingleFlight<string>({ graceMs: 60_000, maxEntries: 2, now: fakeClock().now });
    await flights.run("a", () => Promise.resolve("A"));
    await flights.run("b", () => Promise.resolve("B"));
    await flights.run("c", () => Promise.resolve("C"));
    const task = vi.fn(() => Promise.resolve("new"));
    await expect(flights.run("b", task)).resolves.toBe("B");
    await expect(flights.run("c", task)).resolves.toBe("C");
    expect(task).not.toHaveBeenCalled();
  });

  it("treats a re-remembered key as the newest, so it outlives older ones", async () => {
    const clock = fakeClock();
    const flights = createSingleFlight<string>({ graceMs: 1000, maxEntries: 2, now: clock.now });
    await flights.run("a", () => Promise.resolve("A"));
    await flights.run("b", () => Promise.resolve("B"));
    clock.advance(1000);
    // "a" has expired: it runs again and is remembered anew, behind "b".
    await flights.run("a", () => Promise.resolve("A2"));
    await flights.run("c", () => Promise.resolve("C"));
    const task = vi.fn(() => Promise.resolve("new"));
    await expect(flights.run("a", task)).resolves.toBe("A2");
    expect(task).not.toHaveBeenCalled();
  });

  it("drops expired entries when it remembers a new result", async () => {
    const clock = fakeClock();
    const flights = createSingleFlight<string>({ graceMs: 1000, now: clock.now });
    await flights.run("a", () => Promise.resolve("A"));
    clock.advance(1500);
    await flights.run("b", () => Promise.resolve("B"));
    // Only a clock stepping back can tell a dropped entry from a merely expired one: a dropped "a" is gone for good.
    clock.advance(-1000);
    const task = vi.fn(() => Promise.resolve("A2"));
    await expect(flights.run("a", task)).resolves.toBe("A2");
    expect(task).toHaveBeenCalledTimes(1);
  });

  it("does not return an expired entry even when it has not been dropped yet", async () => {
    const clock = fakeClock();
    const flights = createSingleFlight<string>({ graceMs: 1000, now: clock.now });
    await flights.run("k", () => Promise.resolve("old"));
    clock.advance(5000);
    await expect(flights.run("k", () => Promise.resolve("fresh"))).resolves.toBe("fresh");
  });
});

describe("createSingleFlight: usable", () => {
  it("runs the task again when the caller finds the remembered result unusable, and remembers the new one", async () => {
    const clock = fakeClock();
    const flights = createSingleFlight<string>({ graceMs: 60_000, now: clock.now });
    const task = vi.fn(async () => `value-${task.mock.calls.length}`);
    expect(await flights.run("k", task)).toBe("value-1");

    expect(await flights.run("k", task, (remembered) => remembered !== "value-1")).toBe("value-2");
    expect(task).toHaveBeenCalledTimes(2);
    expect(await flights.run("k", task)).toBe("value-2");
    expect(task).toHaveBeenCalledTimes(2);
  });
});

describe("createSingleFlight: remembered failures", () => {
  const transient = new Error("unreachable");
  const options = (clock: ReturnType<typeof fakeClock>) => ({ graceMs: 60_000, rememberFailure: (error: unknown) => (error === transient ? 5_000 : 0), now: clock.now });

  it("answers callers within the failure's time with the same failure, without running the task again", async () => {
    const clock = fakeClock();
    const flights = createSingleFlight<string>(options(clock));
    const task = vi.fn(() => Promise.reject(transient));
    await expect(flights.run("k", task)).rejects.toBe(transient);
    clock.advance(4_999);
    await expect(flights.run("k", task)).rejects.toBe(transient);
    expect(task).toHaveBeenCalledTimes(1);
  });

  it("runs the task again once that time has passed, and remembers its success", async () => {
    const clock = fakeClock();
    const flights = createSingleFlight<string>(options(clock));
    await expect(flights.run("k", () => Promise.reject(transient))).rejects.toBe(transient);
    clock.advance(5_000);
    expect(await flights.run("k", async () => "value")).toBe("value");
    expect(await flights.run("k", () => Promise.reject(transient))).toBe("value");
  });

  it("remembers only the failures it is told to, and only for their own key", async () => {
    const clock = fakeClock();
    const flights = createSingleFlight<string>(options(clock));
    const refused = new Error("refused");
    await expect(flights.run("k", () => Promise.reject(refused))).rejects.toBe(refused);
    expect(await flights.run("k", async () => "value")).toBe("value");
    await expect(flights.run("a", () => Promise.reject(transient))).rejects.toBe(transient);
    expect(await flights.run("b", async () => "other")).toBe("other");
  });

  it("remembers no failure by default", async () => {
    const flights = createSingleFlight<string>({ graceMs: 60_000 });
    await expect(flights.run("k", () => Promise.reject(transient))).rejects.toBe(transient);
    expect(await flights.run("k", async () => "value")).toBe("value");
  });
});

describe("createSingleFlight: onShared", () => {
  it("tells of each caller served by the run in flight, and not of the caller that runs the task", async () => {
    const onShared = vi.fn();
    const flights = createSingleFlight<string>({ graceMs: 0, onShared });
    const gate = deferred<string>();
    const leader = flights.run("k", () => gate.promise);
    expect(onShared).not.toHaveBeenCalled();
    const joined = [flights.run("k", () => Promise.resolve("never")), flights.run("k", () => Promise.resolve("never"))];
    expect(onShared.mock.calls).toEqual([["in_flight"], ["in_flight"]]);
    gate.resolve("value");
    expect(await Promise.all([leader, ...joined])).toEqual(["value", "value", "value"]);
    expect(onShared).toHaveBeenCalledTimes(2);
  });

  it("tells of a caller served by a result remembered for the grace period", async () => {
    const clock = fakeClock();
    const onShared = vi.fn();
    const flights = createSingleFlight<string>({ graceMs: 1000, onShared, now: clock.now });
    await flights.run("k", () => Promise.resolve("first"));
    expect(onShared).not.toHaveBeenCalled();
    clock.advance(999);
    await expect(flights.run("k", () => Promise.resolve("second"))).resolves.toBe("first");
    expect(onShared.mock.calls).toEqual([["remembered"]]);
  });

  it("tells nothing when the remembered result is over, unusable, or another key's", async () => {
    const clock = fakeClock();
    const onShared = vi.fn();
    const flights = createSingleFlight<string>({ graceMs: 1000, onShared, now: clock.now });
    await flights.run("k", () => Promise.resolve("first"));
    await flights.run("other", () => Promise.resolve("other"));
    await flights.run("k", () => Promise.resolve("second"), () => false);
    clock.advance(1000);
    await flights.run("k", () => Promise.resolve("third"));
    expect(onShared).not.toHaveBeenCalled();
  });

  it("tells nothing of a caller answered by a remembered failure: its task was not shared, it failed", async () => {
    const clock = fakeClock();
    const onShared = vi.fn();
    const transient = new Error("unreachable");
    const flights = createSingleFlight<string>({ graceMs: 60_000, rememberFailure: () => 5_000, onShared, now: clock.now });
    await expect(flights.run("k", () => Promise.reject(transient))).rejects.toBe(transient);
    await expect(flights.run("k", () => Promise.resolve("never"))).rejects.toBe(transient);
    expect(onShared).not.toHaveBeenCalled();
  });
});
