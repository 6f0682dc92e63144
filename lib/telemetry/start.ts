/**
 * Telemetry for one runtime of the web app, as configured: nothing at all unless an OTLP endpoint is set (the SDK
 * is not even loaded then), else the SDK started and one line that says where it sends. Edge-safe.
 */
import { getConfig } from "@/lib/config";
import { logInfo } from "@/lib/log";
import type { ContextStorage } from "./context-manager";

export async function startConfiguredTelemetry(runtime: "nodejs" | "edge", storage: ContextStorage): Promise<void> {
  const settings = getConfig().telemetry;
  if (!settings) return;
  const { startTelemetry } = await import("./sdk");
  startTelemetry(settings, { storage, runtime });
  // The endpoint without credentials or query; the headers, which often hold an API key, never.
  const where = (target: { url: URL; protocol: string } | undefined, signal: string) =>
    target && `${signal} to ${target.url.origin}${target.url.pathname} (${target.protocol})`;
  const sends = [where(settings.traces, "traces"), where(settings.metrics, "metrics")].filter(Boolean).join(", ");
  logInfo("telemetry", `${runtime}: exporting ${sends} as ${settings.serviceName}`);
}
