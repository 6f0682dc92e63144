/**
 * A clock that moves only when a test moves it, with the `sleep` to go with it: a sleep ends when `advance` passes
 * its end, and what it wakes runs before time moves on. No test waits for real time.
 */
export function createFakeClock(start = 1_000_000) {
  let time = start;
  let sleepers: { until: number; wake: () => void }[] = [];
  // Lets promise chains woken by a step run, Web Crypto's jobs included, before the next one.
  const settle = async () => {
    for (let round = 0; round < 5; round += 1) await new Promise((resolve) => setImmediate(resolve));
  };

  return {
    now: () => time,
    sleep: (ms: number) => new Promise<void>((wake) => sleepers.push({ until: time + Math.max(ms, 0), wake })),
    /** Moves time `ms` forward, stopping at every sleep that ends on the way. */
    async advance(ms: number): Promise<void> {
      const end = time + ms;
      await settle();
      for (;;) {
        const due = sleepers.filter(({ until }) => until <= end).sort((a, b) => a.until - b.until)[0];
        if (due === undefined) break;
        sleepers = sleepers.filter((sleeper) => sleeper !== due);
        time = Math.max(time, due.until);
        due.wake();
        await settle();
      }
      time = end;
      await settle();
    },
  };
}

export type FakeClock = ReturnType<typeof createFakeClock>;
