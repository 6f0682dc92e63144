/**
 * An OTLP/HTTP receiver for the end-to-end suite, in place of a collector: it takes what the web app and the API
 * export (`POST /v1/traces`, `POST /v1/metrics`, JSON encoding, gzip or not) and appends each request's body, as it
 * came, one per line, to `<dir>/traces.jsonl` and `<dir>/metrics.jsonl`, where the tests read them. Whether every
 * export carried the collector key the stack was given is recorded too (`<dir>/unauthorized` is written on the
 * first that did not). Loopback only.
 *
 * Usage: node --import tsx scripts/otlp-receiver.ts <port> <dir> <expected authorization header>
 */
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import path from "node:path";
import { gunzipSync } from "node:zlib";

export const SIGNAL_FILES = { "/v1/traces": "traces.jsonl", "/v1/metrics": "metrics.jsonl" } as const;

const [port, dir, expectedAuthorization] = process.argv.slice(2);
if (!port || !dir || !expectedAuthorization) {
  console.error("usage: node --import tsx scripts/otlp-receiver.ts <port> <dir> <expected authorization header>");
  process.exit(2);
}
mkdirSync(dir, { recursive: true });

createServer((request, response) => {
  const file = SIGNAL_FILES[request.url as keyof typeof SIGNAL_FILES];
  if (request.method === "GET" && request.url === "/healthz") return void response.end("ok");
  if (request.method !== "POST" || !file) return void response.writeHead(404).end();
  if (!request.headers["content-type"]?.startsWith("application/json")) return void response.writeHead(415).end();
  if (request.headers.authorization !== expectedAuthorization) writeFileSync(path.join(dir, "unauthorized"), request.url ?? "");
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    const raw = Buffer.concat(chunks);
    const body = request.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw;
    try {
      appendFileSync(path.join(dir, file), `${JSON.stringify(JSON.parse(body.toString("utf8")))}\n`);
    } catch {
      return void response.writeHead(400).end();
    }
    response.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
}).listen(Number(port), "127.0.0.1", () => console.log(`OTLP receiver on http://127.0.0.1:${port}, writing to ${dir}`));
