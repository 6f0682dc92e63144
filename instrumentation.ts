/**
 * Runs once as each server runtime starts, before it answers any request. `NEXT_RUNTIME` is set by Next.js itself,
 * at build time, so each bundle holds only its own branch.
 *
 * - Node: the web instance's start-up checks (`lib/server/start-up.ts`), then telemetry (off unless configured,
 *   `lib/server/telemetry.ts`).
 * - Edge, where the middleware runs: telemetry of its own, with the `AsyncLocalStorage` Next.js provides there.
 */
import type { Context } from "@opentelemetry/api";

declare const AsyncLocalStorage: new <T>() => { getStore(): T | undefined; run<R>(store: T, callback: () => R): R };

export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const { startInstance } = await import("@/lib/server/start-up");
    startInstance();
    const { startNodeTelemetry } = await import("@/lib/server/telemetry");
    await startNodeTelemetry();
  }
  if (process.env.NEXT_RUNTIME === "edge") {
    const { startConfiguredTelemetry } = await import("@/lib/telemetry/start");
    await startConfiguredTelemetry("edge", new AsyncLocalStorage<Context>());
  }
}
