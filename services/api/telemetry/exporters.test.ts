import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { metricExporterFor, spanExporterFor } from "./exporters";
import type { OtlpProtocol } from "./settings";

/** A collector on loopback that accepts every export and keeps what it was sent. */
interface Received {
  method: string | undefined;
  path: string | undefined;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

let collector: Server;
let base: string;
let received: Received[] = [];

beforeAll(async () => {
  collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      received.push({ method: req.method, path: req.url, headers: req.headers, body: Buffer.concat(chunks) });
      const json = req.headers["content-type"] === "application/json";
      res.writeHead(200, { "content-type": json ? "application/json" : "application/x-protobuf" });
      res.end(json ? "{}" : "");
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
});

afterAll(() => new Promise((resolve) => collector.close(resolve)));

beforeEach(() => {
  received = [];
});

const CONTENT_TYPES: Record<OtlpProtocol, string> = { "http/protobuf": "application/x-protobuf", "http/json": "application/json" };
const HEADERS = { "x-api-key": "key with, commas=and spaces", "x-tenant": "acme" };

describe.each(["http/protobuf", "http/json"] as const)("exporters over %s", (protocol) => {
  it("send spans to the URL as given, with the headers, in the protocol's encoding", async () => {
    const exporter = spanExporterFor({ url: new URL(`${base}/custom/traces?tenant=acme`), protocol, headers: HEADERS, timeoutMs: 5_000 });
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    provider.getTracer("test").startSpan("GET /notes").end();
    await provider.forceFlush();
    await provider.shutdown();

    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request).toMatchObject({ method: "POST", path: "/custom/traces?tenant=acme" });
    expect(request?.headers).toMatchObject({ "content-type": CONTENT_TYPES[protocol], ...HEADERS });
    expect(request?.body.toString("latin1")).toContain("GET /notes");
  });

  it("send metrics to the URL as given, with the headers, in the protocol's encoding", async () => {
    const exporter = metricExporterFor({ url: new URL(`${base}/v1/metrics`), protocol, headers: HEADERS, timeoutMs: 5_000 });
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const provider = new MeterProvider({ readers: [reader] });
    provider.getMeter("test").createCounter("tessera.test.counter").add(3);
    await provider.forceFlush();
    await provider.shutdown();

    expect(received.length).toBeGreaterThanOrEqual(1);
    const [request] = received;
    expect(request).toMatchObject({ method: "POST", path: "/v1/metrics" });
    expect(request?.headers).toMatchObject({ "content-type": CONTENT_TYPES[protocol], ...HEADERS });
    expect(request?.body.toString("latin1")).toContain("tessera.test.counter");
  });
});
