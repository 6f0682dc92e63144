/**
 * The OTLP/HTTP exporter for each signal and protocol: `http/protobuf` (the default) or `http/json`. Each is given
 * its URL, headers and timeout from the settings, which win over anything the exporters would read themselves.
 */
import { OTLPMetricExporter as JsonMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPMetricExporter as ProtobufMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto";
import { OTLPTraceExporter as JsonTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtobufTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import type { PushMetricExporter } from "@opentelemetry/sdk-metrics";
import type { SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { OtlpExportSettings } from "./settings";

const optionsOf = ({ url, headers, timeoutMs }: OtlpExportSettings) => ({ url: url.href, headers: { ...headers }, timeoutMillis: timeoutMs });

export function spanExporterFor(settings: OtlpExportSettings): SpanExporter {
  return settings.protocol === "http/json" ? new JsonTraceExporter(optionsOf(settings)) : new ProtobufTraceExporter(optionsOf(settings));
}

export function metricExporterFor(settings: OtlpExportSettings): PushMetricExporter {
  return settings.protocol === "http/json" ? new JsonMetricExporter(optionsOf(settings)) : new ProtobufMetricExporter(optionsOf(settings));
}
