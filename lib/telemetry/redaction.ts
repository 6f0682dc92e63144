/**
 * The last check before a span leaves the process. Ours carry fixed words only, but Next.js records spans of its
 * own once a tracer is registered, with the request's target among their attributes: `/auth/callback/oidc?code=…`
 * would export an authorization code. So every span is exported with the query and fragment cut from every
 * string that holds a path or URL, including its name, its status message gone, without events, which is where
 * exceptions and their messages are recorded, and without the trace state a browser may have sent. Edge-safe.
 */
import type { Attributes, AttributeValue } from "@opentelemetry/api";
import type { ExportResult } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";

/** A path or URL with anything after `?` or `#` removed; any other text as it was. */
export function withoutQuery(text: string): string {
  return text.replace(/[?#].*$/s, "");
}

const MAX_NAME_LENGTH = 256;

/** Attributes that are nothing but a query string, or hold headers, go whole. */
const DROPPED = /^(url\.query|url\.fragment|http\.request\.header\..*|http\.response\.header\..*)$/;

function redactValue(value: AttributeValue | undefined): AttributeValue | undefined {
  if (typeof value === "string") return withoutQuery(value);
  if (Array.isArray(value)) return value.map((item) => (typeof item === "string" ? withoutQuery(item) : item)) as AttributeValue;
  return value;
}

export function redactAttributes(attributes: Attributes): Attributes {
  const redacted: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (!DROPPED.test(key)) redacted[key] = redactValue(value);
  }
  return redacted;
}

export function redactSpan(span: ReadableSpan): ReadableSpan {
  return {
    name: withoutQuery(span.name).slice(0, MAX_NAME_LENGTH),
    kind: span.kind,
    // Without the trace state, which a browser's `tracestate` header may have set.
    spanContext: () => ({ ...span.spanContext(), traceState: undefined }),
    parentSpanContext: span.parentSpanContext,
    startTime: span.startTime,
    endTime: span.endTime,
    status: { code: span.status.code },
    attributes: redactAttributes(span.attributes),
    links: span.links.map((link) => ({ context: link.context, attributes: link.attributes && redactAttributes(link.attributes) })),
    events: [],
    duration: span.duration,
    ended: span.ended,
    resource: span.resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount + span.events.length,
    droppedLinksCount: span.droppedLinksCount,
  };
}

export function redactingExporter(exporter: SpanExporter): SpanExporter {
  return {
    export: (spans: ReadableSpan[], done: (result: ExportResult) => void) => exporter.export(spans.map(redactSpan), done),
    shutdown: () => exporter.shutdown(),
    forceFlush: exporter.forceFlush ? () => exporter.forceFlush!() : undefined,
  };
}
