/**
 * Forwards a BFF request to the downstream API with the session's access token as a Bearer token.
 *
 * Only what the API needs crosses: the method, the JSON body and its type. The browser's cookies,
 * Authorization and every other header stay behind, request and response bodies are size-capped,
 * and a slow or absent API becomes a 504/502 JSON answer instead of a hung request. Edge-safe.
 */
import { withDeadline } from "@/lib/http/deadline";
import { jsonError, NO_STORE } from "@/lib/http/json";
import { BodyTooLargeError, readLimited } from "@/lib/http/read-limited";
import { recordApiCall } from "@/lib/telemetry/signals";
import { inSpan, propagateTrace, SpanKind } from "@/lib/telemetry/spans";
import { apiEndpoint } from "./endpoint";

export interface ApiProxyOptions {
  apiUrl: URL;
  timeoutMs: number;
  fetch?: typeof fetch;
  maxRequestBytes?: number;
  maxResponseBytes?: number;
  /** The data route's pattern (`/api/notes/[id]`), which names this call in metrics and traces: never a path with its values. */
  route: string;
}

const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);

const isTimeout = (error: unknown) => error instanceof DOMException && error.name === "TimeoutError";
const upstreamTimeout = () => jsonError(504, "upstream_timeout", "The notes service did not answer in time.");

export async function forwardToApi(request: Request, upstreamPath: string, accessToken: string, options: ApiProxyOptions): Promise<Response> {
  const { apiUrl, timeoutMs, fetch: fetchImpl = fetch, maxRequestBytes = 16 * 1024, maxResponseBytes = 1024 * 1024, route } = options;
  const method = request.method.toUpperCase();
  const headers = new Headers({ authorization: `Bearer ${accessToken}`, accept: "application/json" });

  let body: Uint8Array<ArrayBuffer> | undefined;
  if (BODY_METHODS.has(method)) {
    const declared = Number(request.headers.get("content-length") ?? 0);
    if (declared > maxRequestBytes) return jsonError(413, "payload_too_large", "The request body is too large.");
    try {
      body = await readLimited(request.body, maxRequestBytes);
    } catch (error) {
      if (error instanceof BodyTooLargeError) return jsonError(413, "payload_too_large", "The request body is too large.");
      throw error;
    }
    headers.set("content-type", request.headers.get("content-type") ?? "application/octet-stream");
  }

  return inSpan(
    `${method} ${route}`,
    async (span) => {
      propagateTrace(headers);
      const started = performance.now();
      let status: number | undefined;
      const response = await send(apiEndpoint(apiUrl, upstreamPath), { method, headers, body }, { timeoutMs, fetchImpl, maxResponseBytes }, (answer) => (status = answer));
      // By the API's status; when it never answered, by the status this app answered in its place (502, 504).
      recordApiCall(route, method, (performance.now() - started) / 1000, status, status === undefined ? String(response.status) : undefined);
      span?.setAttribute(status === undefined ? "error.type" : "http.response.status_code", status ?? String(response.status));
      return response;
    },
    { kind: SpanKind.CLIENT, attributes: { "http.route": route, "http.request.method": method } },
  );
}

/** The call itself, and the API's answer checked and copied; `answered` learns the API's status, if it gave one. */
function send(
  url: URL,
  init: { method: string; headers: Headers; body: Uint8Array<ArrayBuffer> | undefined },
  { timeoutMs, fetchImpl, maxResponseBytes }: { timeoutMs: number; fetchImpl: typeof fetch; maxResponseBytes: number },
  answered: (status: number) => void,
): Promise<Response> {
  // The time limit covers the answer's body too: an API that stalls mid-answer is as unavailable as a silent one.
  return withDeadline(timeoutMs, async (signal) => {
    let upstream: Response;
    try {
      upstream = await fetchImpl(url, { ...init, redirect: "manual", signal });
    } catch (error) {
      if (isTimeout(error)) return upstreamTimeout();
      return jsonError(502, "upstream_unavailable", "The notes service cannot be reached.");
    }
    answered(upstream.status);

    if (upstream.status >= 300 && upstream.status < 400) {
      await upstream.body?.cancel();
      return jsonError(502, "upstream_error", "The notes service gave an unexpected answer.");
    }
    let payload: Uint8Array<ArrayBuffer>;
    try {
      payload = await readLimited(upstream.body, maxResponseBytes);
    } catch (error) {
      if (error instanceof BodyTooLargeError) return jsonError(502, "upstream_error", "The notes service's answer was too large.");
      if (isTimeout(error)) return upstreamTimeout();
      return jsonError(502, "upstream_unavailable", "The notes service's answer was cut off.");
    }
    const responseHeaders = new Headers(NO_STORE);
    const contentType = upstream.headers.get("content-type");
    if (contentType && payload.byteLength > 0) responseHeaders.set("content-type", contentType);
    const hasBody = ![204, 205, 304].includes(upstream.status);
    return new Response(hasBody ? payload : null, { status: upstream.status, headers: responseHeaders });
  });
}
