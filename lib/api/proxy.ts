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
import { apiEndpoint } from "./endpoint";

export interface ApiProxyOptions {
  apiUrl: URL;
  timeoutMs: number;
  fetch?: typeof fetch;
  maxRequestBytes?: number;
  maxResponseBytes?: number;
}

const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);

const isTimeout = (error: unknown) => error instanceof DOMException && error.name === "TimeoutError";
const upstreamTimeout = () => jsonError(504, "upstream_timeout", "The notes service did not answer in time.");

export async function forwardToApi(request: Request, upstreamPath: string, accessToken: string, options: ApiProxyOptions): Promise<Response> {
  const { apiUrl, timeoutMs, fetch: fetchImpl = fetch, maxRequestBytes = 16 * 1024, maxResponseBytes = 1024 * 1024 } = options;
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

  // The time limit covers the answer's body too: an API that stalls mid-answer is as unavailable as a silent one.
  return withDeadline(timeoutMs, async (signal) => {
    let upstream: Response;
    try {
      upstream = await fetchImpl(apiEndpoint(apiUrl, upstreamPath), {
        method,
        headers,
        body,
        redirect: "manual",
        signal,
      });
    } catch (error) {
      if (isTimeout(error)) return upstreamTimeout();
      return jsonError(502, "upstream_unavailable", "The notes service cannot be reached.");
    }

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
