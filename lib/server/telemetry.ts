/**
 * Telemetry for the Node server of the web app (route handlers, pages, the refresh coordination), started by
 * `instrumentation.ts` before the first request. The edge middleware starts its own (see there).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Context } from "@opentelemetry/api";
import { startConfiguredTelemetry } from "@/lib/telemetry/start";

export function startNodeTelemetry(): Promise<void> {
  return startConfiguredTelemetry("nodejs", new AsyncLocalStorage<Context>());
}
