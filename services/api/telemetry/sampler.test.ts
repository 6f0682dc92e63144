import { ROOT_CONTEXT, SpanKind, trace, TraceFlags, type Context } from "@opentelemetry/api";
import { SamplingDecision } from "@opentelemetry/sdk-trace-base";
import { describe, expect, it } from "vitest";
import { samplerFor } from "./sampler";
import { SAMPLERS, type SamplerName } from "./settings";

// A trace id whose ratio position is low (sampled at 0.5) and one whose position is high (not sampled).
const LOW_TRACE_ID = "00000000000000000000000000000001";
const HIGH_TRACE_ID = "ffffffff000000000000000000000000";

const parent = (sampled: boolean): Context =>
  trace.setSpanContext(ROOT_CONTEXT, {
    traceId: LOW_TRACE_ID,
    spanId: "00f067aa0ba902b7",
    traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  });

const decide = (name: SamplerName, context: Context, traceId = LOW_TRACE_ID, ratio = 1) =>
  samplerFor({ name, ratio }).shouldSample(context, traceId, "GET /me", SpanKind.SERVER, {}, []).decision;

const { RECORD_AND_SAMPLED: SAMPLE, NOT_RECORD: DROP } = SamplingDecision;

describe("samplerFor", () => {
  it.each([
    // name, a root span, under a sampled parent, under an unsampled one
    ["always_on", SAMPLE, SAMPLE, SAMPLE],
    ["always_off", DROP, DROP, DROP],
    ["parentbased_always_on", SAMPLE, SAMPLE, DROP],
    ["parentbased_always_off", DROP, SAMPLE, DROP],
    ["traceidratio", SAMPLE, SAMPLE, SAMPLE],
    ["parentbased_traceidratio", SAMPLE, SAMPLE, DROP],
  ] as const)("%s decides as the specification says", (name, root, underSampled, underUnsampled) => {
    expect(decide(name, ROOT_CONTEXT)).toBe(root);
    expect(decide(name, parent(true))).toBe(underSampled);
    expect(decide(name, parent(false))).toBe(underUnsampled);
  });

  it("knows every sampler the settings accept", () => {
    for (const name of SAMPLERS) expect(samplerFor({ name, ratio: 1 })).toBeDefined();
  });

  it.each(["traceidratio", "parentbased_traceidratio"] as const)("%s keeps the given ratio of new traces", (name) => {
    expect(decide(name, ROOT_CONTEXT, LOW_TRACE_ID, 0.5)).toBe(SAMPLE);
    expect(decide(name, ROOT_CONTEXT, HIGH_TRACE_ID, 0.5)).toBe(DROP);
    expect(decide(name, ROOT_CONTEXT, LOW_TRACE_ID, 0)).toBe(DROP);
  });
});
