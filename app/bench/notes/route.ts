/**
 * Benchmark baseline for `GET /api/notes`: the same forwarding to the API, with a Bearer token the load
 * generator obtained beforehand, and outside the middleware. What `/api/notes` costs beyond this is the
 * session. Served only with BENCHMARK_ROUTES=1.
 */
import { forwardToApi } from "@/lib/api/proxy";
import { benchmarkRoutesOn } from "@/lib/benchmark";
import { getConfig } from "@/lib/config";
import { jsonError, unauthenticated } from "@/lib/http/json";

export async function GET(request: Request): Promise<Response> {
  if (!benchmarkRoutesOn()) return jsonError(404, "not_found", "No such route.");
  const token = /^Bearer (\S+)$/.exec(request.headers.get("authorization") ?? "")?.[1];
  if (!token) return unauthenticated();
  const { apiUrl, apiTimeoutMs } = getConfig();
  return forwardToApi(request, "/notes", token, { apiUrl, timeoutMs: apiTimeoutMs, route: "/bench/notes" });
}
