/**
 * What the stack exported to the suite's OTLP receiver (`scripts/otlp-receiver.ts`), read back: every span, and
 * every metric's running total.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { E2E } from "../playwright.config";

type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
type KeyValue = { key: string; value: AnyValue };
type Attributes = Record<string, string | number | boolean>;

export interface ExportedSpan {
  service: string;
  instance: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: number;
  startMs: number;
  attributes: Attributes;
}

interface Point {
  service: string;
  instance: string;
  name: string;
  attributes: Attributes;
  /** A counter's sum, or a histogram's count. */
  value: number;
  timeNs: bigint;
}

function attributes(list: KeyValue[] | undefined): Attributes {
  const out: Attributes = {};
  for (const { key, value } of list ?? []) {
    out[key] = value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : undefined) ?? value.doubleValue ?? value.boolValue ?? "";
  }
  return out;
}

/** Every line the receiver wrote for a signal, as it came (for the scan for secrets). */
export function rawExports(signal: "traces" | "metrics"): string {
  const file = path.join(E2E.telemetryDir, `${signal}.jsonl`);
  return existsSync(file) ? readFileSync(file, "utf8") : "";
}

function lines(signal: "traces" | "metrics"): Record<string, unknown>[] {
  return rawExports(signal)
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

type Resource = { resource?: { attributes?: KeyValue[] } };
const whose = (resource: Resource) => {
  const attrs = attributes(resource.resource?.attributes);
  return { service: String(attrs["service.name"]), instance: String(attrs["service.instance.id"]) };
};

export function exportedSpans(): ExportedSpan[] {
  const spans: ExportedSpan[] = [];
  for (const line of lines("traces")) {
    for (const resourceSpans of (line.resourceSpans ?? []) as (Resource & { scopeSpans?: { spans?: Record<string, unknown>[] }[] })[]) {
      const owner = whose(resourceSpans);
      for (const scope of resourceSpans.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          spans.push({
            ...owner,
            traceId: String(span.traceId),
            spanId: String(span.spanId),
            parentSpanId: span.parentSpanId ? String(span.parentSpanId) : undefined,
            name: String(span.name),
            kind: Number(span.kind),
            startMs: Number(BigInt(String(span.startTimeUnixNano)) / 1_000_000n),
            attributes: attributes(span.attributes as KeyValue[]),
          });
        }
      }
    }
  }
  return spans;
}

function points(): Point[] {
  const all: Point[] = [];
  for (const line of lines("metrics")) {
    for (const resourceMetrics of (line.resourceMetrics ?? []) as (Resource & { scopeMetrics?: { metrics?: Record<string, unknown>[] }[] })[]) {
      const owner = whose(resourceMetrics);
      for (const scope of resourceMetrics.scopeMetrics ?? []) {
        for (const metric of scope.metrics ?? []) {
          const data = (metric.sum ?? metric.histogram) as { dataPoints?: Record<string, unknown>[] } | undefined;
          for (const point of data?.dataPoints ?? []) {
            all.push({
              ...owner,
              name: String(metric.name),
              attributes: attributes(point.attributes as KeyValue[]),
              value: Number(point.asInt ?? point.asDouble ?? point.count ?? 0),
              timeNs: BigInt(String(point.timeUnixNano ?? 0)),
            });
          }
        }
      }
    }
  }
  return all;
}

/**
 * A counter's total (or a histogram's count) over every process that exported it, for the data points whose
 * attributes include `match`: the newest cumulative value of each process and attribute set, summed.
 */
export function metricTotal(name: string, match: Attributes = {}): number {
  const newest = new Map<string, Point>();
  for (const point of points()) {
    if (point.name !== name || !Object.entries(match).every(([key, value]) => point.attributes[key] === value)) continue;
    const key = `${point.instance} ${JSON.stringify(point.attributes)}`;
    const seen = newest.get(key);
    if (!seen || point.timeNs >= seen.timeNs) newest.set(key, point);
  }
  return [...newest.values()].reduce((sum, point) => sum + point.value, 0);
}

/** The names of every metric exported so far, with the services that exported them. */
export function exportedMetricNames(): Map<string, Set<string>> {
  const names = new Map<string, Set<string>>();
  for (const point of points()) names.set(point.name, (names.get(point.name) ?? new Set()).add(point.service));
  return names;
}

/** `span` and its ancestors among `spans`, nearest first, as far as they were exported. */
export function ancestry(span: ExportedSpan, spans: readonly ExportedSpan[]): ExportedSpan[] {
  const chain = [span];
  for (let current = span; current.parentSpanId; ) {
    const parent = spans.find((candidate) => candidate.spanId === current.parentSpanId && candidate.traceId === current.traceId);
    if (!parent) break;
    chain.push(parent);
    current = parent;
  }
  return chain;
}
