import { DataPointType, MeterProvider, MetricReader, type Histogram, type MetricData } from "@opentelemetry/sdk-metrics";
import { afterEach, describe, expect, it } from "vitest";
import {
  bindInstruments,
  countCacheLookup,
  countJwksFetch,
  countLogoutTokenAccepted,
  countLogoutTokenRefused,
  countRevocationHit,
  countTokenAccepted,
  countTokenRefused,
  measuring,
  recordRequestDuration,
  unbindInstruments,
} from "./signals";
import type { RefusalReason } from "./reasons";

/** Read on demand: collect() returns what the meter holds. */
class CollectingReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

function bound() {
  const reader = new CollectingReader();
  bindInstruments(new MeterProvider({ readers: [reader] }).getMeter("test"));
  return async (name: string): Promise<MetricData | undefined> => {
    const { resourceMetrics } = await reader.collect();
    return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).find((metric) => metric.descriptor.name === name);
  };
}

const sums = (metric: MetricData | undefined) => metric?.dataPoints.map((point) => ({ attributes: point.attributes, value: point.value }));

const everyCount = () => {
  countTokenAccepted();
  countTokenRefused("expired");
  countCacheLookup(true);
  countRevocationHit();
  countJwksFetch(false);
  countLogoutTokenAccepted();
  countLogoutTokenRefused("replayed");
  recordRequestDuration(0.01, "GET", "/notes", 200);
};

afterEach(() => unbindInstruments());

describe("signals while telemetry is off", () => {
  it("records nothing, and no call throws", () => {
    expect(measuring()).toBe(false);
    expect(everyCount).not.toThrow();
  });

  it("stops recording once unbound", async () => {
    const read = bound();
    countTokenAccepted();
    unbindInstruments();
    expect(measuring()).toBe(false);
    countTokenAccepted();
    expect(sums(await read("tessera.api.token.verifications"))).toEqual([{ attributes: { "tessera.outcome": "accepted" }, value: 1 }]);
  });
});

describe("signals", () => {
  it("counts verified tokens by outcome, and refused ones by reason", async () => {
    const read = bound();
    expect(measuring()).toBe(true);
    countTokenAccepted();
    countTokenAccepted();
    countTokenRefused("expired");
    countTokenRefused("revoked");
    countTokenRefused("revoked");
    // Whatever slips past the types becomes other.
    countTokenRefused("Bearer eyJhbGciOi" as RefusalReason);
    const metric = await read("tessera.api.token.verifications");
    expect(metric?.descriptor).toMatchObject({ unit: "{token}", type: "COUNTER" });
    expect(sums(metric)).toEqual([
      { attributes: { "tessera.outcome": "accepted" }, value: 2 },
      { attributes: { "tessera.outcome": "refused", "tessera.reason": "expired" }, value: 1 },
      { attributes: { "tessera.outcome": "refused", "tessera.reason": "revoked" }, value: 2 },
      { attributes: { "tessera.outcome": "refused", "tessera.reason": "other" }, value: 1 },
    ]);
  });

  it("counts cache look-ups by result", async () => {
    const read = bound();
    countCacheLookup(false);
    countCacheLookup(true);
    countCacheLookup(true);
    const metric = await read("tessera.api.verification_cache.lookups");
    expect(metric?.descriptor.unit).toBe("{lookup}");
    expect(sums(metric)).toEqual([
      { attributes: { "tessera.cache.result": "miss" }, value: 1 },
      { attributes: { "tessera.cache.result": "hit" }, value: 2 },
    ]);
  });

  it("counts revocation hits, without attributes", async () => {
    const read = bound();
    countRevocationHit();
    const metric = await read("tessera.api.revocation.hits");
    expect(metric?.descriptor.unit).toBe("{token}");
    expect(sums(metric)).toEqual([{ attributes: {}, value: 1 }]);
  });

  it("counts JWKS fetches by outcome", async () => {
    const read = bound();
    countJwksFetch(true);
    countJwksFetch(false);
    const metric = await read("tessera.api.jwks.fetches");
    expect(metric?.descriptor.unit).toBe("{fetch}");
    expect(sums(metric)).toEqual([
      { attributes: { "tessera.outcome": "ok" }, value: 1 },
      { attributes: { "tessera.outcome": "failed" }, value: 1 },
    ]);
  });

  it("counts back-channel logout tokens by outcome, and refused ones by reason", async () => {
    const read = bound();
    countLogoutTokenAccepted();
    countLogoutTokenRefused("replayed");
    countLogoutTokenRefused("bad_signature");
    const metric = await read("tessera.api.backchannel_logout.tokens");
    expect(metric?.descriptor.unit).toBe("{token}");
    expect(sums(metric)).toEqual([
      { attributes: { "tessera.outcome": "accepted" }, value: 1 },
      { attributes: { "tessera.outcome": "refused", "tessera.reason": "replayed" }, value: 1 },
      { attributes: { "tessera.outcome": "refused", "tessera.reason": "bad_signature" }, value: 1 },
    ]);
  });

  it("records request durations in seconds, by method, route and status, in buckets sized for seconds", async () => {
    const read = bound();
    recordRequestDuration(0.004, "GET", "/notes/:id", 200);
    recordRequestDuration(0.3, "GET", "/notes/:id", 200);
    recordRequestDuration(0.02, "POST", undefined, 404);
    const metric = await read("http.server.request.duration");
    expect(metric?.descriptor).toMatchObject({ unit: "s", type: "HISTOGRAM" });
    expect(metric?.dataPointType).toBe(DataPointType.HISTOGRAM);
    const points = metric?.dataPoints.map((point) => ({ attributes: point.attributes, value: point.value as Histogram }));
    expect(points?.map(({ attributes, value }) => ({ attributes, count: value.count }))).toEqual([
      { attributes: { "http.request.method": "GET", "http.response.status_code": 200, "http.route": "/notes/:id" }, count: 2 },
      { attributes: { "http.request.method": "POST", "http.response.status_code": 404 }, count: 1 },
    ]);
    expect(points?.[0]?.value.buckets.boundaries.slice(0, 3)).toEqual([0.005, 0.01, 0.025]);
  });
});
