/**
 * What telemetry exports and where, as read from the standard `OTEL_*` variables by `lib/config.ts`. Absent
 * (`undefined` in the config) unless an OTLP endpoint is set: telemetry is off by default.
 */
export const OTLP_PROTOCOLS = ["http/protobuf", "http/json"] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

export const SAMPLERS = ["parentbased_always_on", "always_on", "always_off", "traceidratio", "parentbased_always_off", "parentbased_traceidratio"] as const;
export type SamplerName = (typeof SAMPLERS)[number];

export interface OtlpTarget {
  /** The signal's full endpoint (`…/v1/traces`, `…/v1/metrics`). */
  url: URL;
  protocol: OtlpProtocol;
  /** Sent with every export; may hold a collector's API key, so never logged. */
  headers: Record<string, string>;
  timeoutMs: number;
}

export interface TelemetrySettings {
  serviceName: string;
  sampler: { name: SamplerName; ratio: number };
  traces: (OtlpTarget & { scheduleDelayMs: number }) | undefined;
  metrics: (OtlpTarget & { intervalMs: number }) | undefined;
}
