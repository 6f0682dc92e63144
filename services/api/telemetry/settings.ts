/**
 * The API's OpenTelemetry settings: traces and metrics sent over OTLP/HTTP, off unless an endpoint is set. Read by
 * `config.ts` from the standard variables (an empty variable counts as unset):
 *
 * - `OTEL_SDK_DISABLED=true`: off, whatever else is set.
 * - `OTEL_EXPORTER_OTLP_ENDPOINT`: the collector's base URL; traces go to `<base>/v1/traces`, metrics to
 *   `<base>/v1/metrics`. `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`: one signal's
 *   full URL, used as is. A signal without an endpoint is off. In production `http:` is refused off loopback: the
 *   headers may carry an API key.
 * - `OTEL_TRACES_EXPORTER`, `OTEL_METRICS_EXPORTER`: `otlp` (default) or `none` (that signal off).
 * - `OTEL_EXPORTER_OTLP_PROTOCOL`, `OTEL_EXPORTER_OTLP_{TRACES,METRICS}_PROTOCOL`: `http/protobuf` (default) or
 *   `http/json`; gRPC is not supported.
 * - `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_EXPORTER_OTLP_{TRACES,METRICS}_HEADERS`: `key=value,key2=value2`, values
 *   percent-encoded; a signal's own headers win over the shared ones, key by key.
 * - `OTEL_EXPORTER_OTLP_TIMEOUT`, `OTEL_EXPORTER_OTLP_{TRACES,METRICS}_TIMEOUT`: milliseconds per export (10000).
 * - `OTEL_METRIC_EXPORT_INTERVAL`: milliseconds between metric exports (60000).
 * - `OTEL_BSP_SCHEDULE_DELAY`: milliseconds between span batches (5000).
 * - `OTEL_SERVICE_NAME`: the `service.name` of everything sent (`tessera-api`).
 * - `OTEL_TRACES_SAMPLER`: `parentbased_always_on` (default), `parentbased_always_off`, `parentbased_traceidratio`,
 *   `always_on`, `always_off` or `traceidratio`; `OTEL_TRACES_SAMPLER_ARG`: the ratio of the `traceidratio` ones,
 *   0 to 1 (1).
 *
 * A signal's own variable wins over the shared one. Problems name the variable and never echo an endpoint or a
 * header, which may carry credentials.
 */
import { isLoopbackUrl } from "../../shared/test-hooks-access";

export const OTLP_PROTOCOLS = ["http/protobuf", "http/json"] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

export const SAMPLERS = [
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
] as const;
export type SamplerName = (typeof SAMPLERS)[number];

/** Where and how one signal is sent. */
export interface OtlpExportSettings {
  /** The signal's full URL (`…/v1/traces`, `…/v1/metrics`). */
  url: URL;
  protocol: OtlpProtocol;
  /** Lower-case names, decoded values. */
  headers: Record<string, string>;
  /** Bound on each export. */
  timeoutMs: number;
}

export interface ApiTelemetrySettings {
  serviceName: string;
  sampler: { name: SamplerName; ratio: number };
  /** Absent: no traces. */
  traces?: OtlpExportSettings & { scheduleDelayMs: number };
  /** Absent: no metrics. */
  metrics?: OtlpExportSettings & { intervalMs: number };
}

type Signal = "traces" | "metrics";

const DEFAULT_SERVICE_NAME = "tessera-api";
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_METRIC_INTERVAL_MS = 60_000;
const DEFAULT_SCHEDULE_DELAY_MS = 5_000;
/** The longest delay a Node timer takes. */
const MAX_MS = 2_147_483_647;

// RFC 9110 section 5.6.2: a header name is a token.
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Visible ASCII, space and tab: anything else Node refuses to send, or would split the header.
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;

/**
 * The telemetry settings, or `undefined` when both signals are off. `read` gives a variable's trimmed value
 * (`undefined` when unset or empty); problems go to `problems`.
 */
export function readTelemetrySettings(
  read: (name: string) => string | undefined,
  { production }: { production: boolean },
  problems: string[],
): ApiTelemetrySettings | undefined {
  if (read("OTEL_SDK_DISABLED")?.toLowerCase() === "true") return undefined;
  // A shared variable serves both signals: its problem is reported once.
  const found = new Set<string>();

  /** The first of `names` that is set, and its value. */
  const first = (...names: string[]): { name: string; value: string } | undefined => {
    for (const name of names) {
      const value = read(name);
      if (value !== undefined) return { name, value };
    }
    return undefined;
  };

  const milliseconds = (names: string[], fallback: number): number => {
    const set = first(...names);
    if (set === undefined) return fallback;
    const value = Number(set.value);
    if (!/^\d+$/.test(set.value) || value < 1 || value > MAX_MS) {
      found.add(`${set.name} must be a whole number of milliseconds from 1 to ${MAX_MS}, got ${JSON.stringify(set.value)}`);
      return fallback;
    }
    return value;
  };

  const headersIn = (name: string): Record<string, string> => {
    const raw = read(name);
    const headers: Record<string, string> = {};
    if (raw === undefined) return headers;
    for (const member of raw.split(",")) {
      if (member.trim() === "") continue;
      const separator = member.indexOf("=");
      const key = member.slice(0, separator).trim();
      let value: string | undefined;
      try {
        value = separator > 0 ? decodeURIComponent(member.slice(separator + 1).trim()) : undefined;
      } catch {
        value = undefined;
      }
      if (value === undefined || !HEADER_NAME.test(key) || !HEADER_VALUE.test(value)) {
        // Never echoed: the values are usually credentials.
        found.add(`${name} must be a comma-separated list of key=value pairs, values percent-encoded`);
        return {};
      }
      headers[key.toLowerCase()] = value;
    }
    return headers;
  };

  /** The signal's URL; `undefined` when no endpoint is set, `null` when the one set is refused. */
  const endpointOf = (signal: Signal, S: string): URL | null | undefined => {
    const own = read(`OTEL_EXPORTER_OTLP_${S}_ENDPOINT`);
    const { name, value } = own !== undefined ? { name: `OTEL_EXPORTER_OTLP_${S}_ENDPOINT`, value: own } : (first("OTEL_EXPORTER_OTLP_ENDPOINT") ?? {});
    if (name === undefined || value === undefined) return undefined;
    const url = URL.parse(value);
    // Never echoed: a URL may carry credentials.
    if (url === null || (url.protocol !== "http:" && url.protocol !== "https:")) {
      found.add(`${name} must be an absolute http: or https: URL`);
      return null;
    }
    // The Node exporter would drop them without a word: a key goes in the headers.
    if (url.username !== "" || url.password !== "") {
      found.add(`${name} must not hold credentials: put them in OTEL_EXPORTER_OTLP_HEADERS`);
      return null;
    }
    if (production && url.protocol === "http:" && !isLoopbackUrl(url.href)) {
      found.add(`${name} must use https: in production (http: is allowed for localhost only: the export headers may carry an API key)`);
      return null;
    }
    // The shared endpoint is a base: the signal's path goes after the base's own, with one slash between.
    if (own === undefined) url.pathname = `${url.pathname.replace(/\/+$/, "")}/v1/${signal}`;
    return url;
  };

  const protocolOf = (S: string): OtlpProtocol => {
    const set = first(`OTEL_EXPORTER_OTLP_${S}_PROTOCOL`, "OTEL_EXPORTER_OTLP_PROTOCOL");
    if (set === undefined) return "http/protobuf";
    if ((OTLP_PROTOCOLS as readonly string[]).includes(set.value)) return set.value as OtlpProtocol;
    found.add(
      set.value === "grpc"
        ? `${set.name}=grpc is not supported: use http/protobuf, on the collector's OTLP/HTTP port (4318)`
        : `${set.name} must be http/protobuf or http/json, got ${JSON.stringify(set.value)}`,
    );
    return "http/protobuf";
  };

  const exportOf = (signal: Signal): OtlpExportSettings | undefined => {
    const S = signal.toUpperCase();
    const exporter = first(`OTEL_${S}_EXPORTER`);
    if (exporter !== undefined && exporter.value !== "otlp" && exporter.value !== "none") {
      found.add(`${exporter.name} must be otlp or none: only OTLP export is supported, got ${JSON.stringify(exporter.value)}`);
      return undefined;
    }
    if (exporter?.value === "none") return undefined;
    const url = endpointOf(signal, S);
    if (url === undefined) return undefined;
    // The rest is checked even when the endpoint is refused, so that every mistake is listed at once.
    const protocol = protocolOf(S);
    const headers = { ...headersIn("OTEL_EXPORTER_OTLP_HEADERS"), ...headersIn(`OTEL_EXPORTER_OTLP_${S}_HEADERS`) };
    const timeoutMs = milliseconds([`OTEL_EXPORTER_OTLP_${S}_TIMEOUT`, "OTEL_EXPORTER_OTLP_TIMEOUT"], DEFAULT_TIMEOUT_MS);
    return url === null ? undefined : { url, protocol, headers, timeoutMs };
  };

  const samplerOf = (): ApiTelemetrySettings["sampler"] => {
    const name = read("OTEL_TRACES_SAMPLER") ?? "parentbased_always_on";
    if (!(SAMPLERS as readonly string[]).includes(name)) {
      found.add(`OTEL_TRACES_SAMPLER must be one of ${SAMPLERS.join(", ")}, got ${JSON.stringify(name)}`);
      return { name: "parentbased_always_on", ratio: 1 };
    }
    // The argument means something to the ratio samplers only, and is ignored by the others.
    const arg = name.endsWith("traceidratio") ? read("OTEL_TRACES_SAMPLER_ARG") : undefined;
    const ratio = arg === undefined ? 1 : Number(arg);
    if (arg !== undefined && (!/^(?:\d+(?:\.\d*)?|\.\d+)$/.test(arg) || ratio > 1)) {
      found.add(`OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1, got ${JSON.stringify(arg)}`);
      return { name: name as SamplerName, ratio: 1 };
    }
    return { name: name as SamplerName, ratio };
  };

  const traces = exportOf("traces");
  const metrics = exportOf("metrics");
  const settings: ApiTelemetrySettings = {
    serviceName: read("OTEL_SERVICE_NAME") ?? DEFAULT_SERVICE_NAME,
    sampler: traces === undefined ? { name: "parentbased_always_on", ratio: 1 } : samplerOf(),
    ...(traces === undefined ? {} : { traces: { ...traces, scheduleDelayMs: milliseconds(["OTEL_BSP_SCHEDULE_DELAY"], DEFAULT_SCHEDULE_DELAY_MS) } }),
    ...(metrics === undefined ? {} : { metrics: { ...metrics, intervalMs: milliseconds(["OTEL_METRIC_EXPORT_INTERVAL"], DEFAULT_METRIC_INTERVAL_MS) } }),
  };
  problems.push(...found);
  return traces === undefined && metrics === undefined ? undefined : settings;
}
